package mailstack

import (
	"errors"
	"net"
	"testing"
)

// TestPortBusy checks that both daemons' failures to bind are recognised,
// since Start retries with new ports only on errPortBusy.
func TestPortBusy(t *testing.T) {
	t.Parallel()
	bin := requireEnvironment(t)
	dir, err := makeRunDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeAll(dir); err != nil {
			t.Error(err)
		}
	})
	s := &Stack{dir: dir, bin: bin, cfg: defaultConfig()}
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(daemonDovecot, daemonPostfix); err != nil {
			t.Error(err)
		}
	})
	// The taken ports are held from the moment they are picked: a port
	// picked and released first could be taken by a parallel test before
	// this one binds it again.
	imapLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtpLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pickPorts()
	if err != nil {
		t.Fatal(err)
	}
	p.IMAP = imapLn.Addr().(*net.TCPAddr).Port
	p.SMTP = smtpLn.Addr().(*net.TCPAddr).Port
	if err := s.writeConfigs(p); err != nil {
		t.Fatal(err)
	}

	err = s.startDovecot()
	t.Logf("startDovecot: %v", err)
	imapLn.Close()
	if !errors.Is(err, errPortBusy) {
		t.Errorf("startDovecot with IMAP port taken = %v, want errPortBusy", err)
	}

	err = s.startPostfix()
	t.Logf("startPostfix: %v", err)
	smtpLn.Close()
	if !errors.Is(err, errPortBusy) {
		t.Errorf("startPostfix with SMTP port taken = %v, want errPortBusy", err)
	}
}
