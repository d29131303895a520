package mailstack

import (
	"fmt"
	"syscall"
)

// deadPort is a loopback TCP port that is bound but not listening, held
// for a stack's lifetime: a connection to it is refused, as to a mail
// server that is down, so Postfix defers mail routed there.
//
// A port picked free and released could be taken by a listener of
// another test in the meantime, and mail routed there would meet a server
// (and bounce or be delivered) instead of a refusal. Held bound, it
// cannot: the socket does not set SO_REUSEADDR, and Linux lets a second
// socket bind a port only when both set it (socket(7), SO_REUSEADDR);
// connect() picks no local port that is bound either.
type deadPort struct {
	fd   int
	port int
}

func holdDeadPort() (*deadPort, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("dead port: socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = syscall.Close(fd) // the bind error says what went wrong
		return nil, fmt.Errorf("dead port: bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd) // the getsockname error says what went wrong
		return nil, fmt.Errorf("dead port: getsockname: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok || in4.Port == 0 {
		_ = syscall.Close(fd) // the address is what went wrong
		return nil, fmt.Errorf("dead port: bound to %v", sa)
	}
	return &deadPort{fd: fd, port: in4.Port}, nil
}

// release frees the port.
func (d *deadPort) release() error {
	if err := syscall.Close(d.fd); err != nil {
		return fmt.Errorf("dead port: close: %w", err)
	}
	return nil
}
