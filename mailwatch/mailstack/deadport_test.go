package mailstack

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
)

// The dead port refuses connections, and no listener can take it while a
// stack holds it.
func TestDeadPortHeld(t *testing.T) {
	d, err := holdDeadPort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", d.port)
	if c, err := net.Dial("tcp4", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Errorf("dial the dead port = %v, want connection refused", err)
	}
	if ln, err := net.Listen("tcp4", addr); !errors.Is(err, syscall.EADDRINUSE) {
		if ln != nil {
			ln.Close()
		}
		t.Errorf("listen on the held dead port = %v, want address in use", err)
	}
	if err := d.release(); err != nil {
		t.Fatal(err)
	}
}
