// Package mailstack runs a real mail stack on loopback for tests: Dovecot
// serves IMAP, IMAPS and LMTP, and Postfix accepts SMTP and delivers to
// Dovecot over LMTP, producing real delivery status notifications (DSNs).
//
// Each call to [Start] owns one run directory and its own free 127.0.0.1
// ports, so any number of stacks can run in parallel, also across test
// binaries. Nothing under /etc/dovecot or /etc/postfix is changed. The
// domain is test.example; every user has the same password. Mail to an
// unknown user of test.example bounces with status 5.1.1, and mail to
// slow.test.example is routed to a port with no listener, so it is
// deferred, produces a delay notice and finally expires (see [QueueTimes]).
//
// Start needs root, because the daemons switch to the users postfix and
// nobody. When the dovecot or postfix binaries are missing, or the test does
// not run as root, Start skips the test, naming the Debian packages to
// install; with CI=true in the environment it fails the test instead, so
// that CI cannot pass by running nothing.
//
// Failure model: every helper that takes a testing.TB reports failure with
// t.Fatalf rather than returning an error, so call it from the goroutine
// running the test. Every wait is bounded. The daemons are stopped and the run directory
// is removed by t.Cleanup; if the test failed, the tail of the Dovecot and
// Postfix logs is logged first.
package mailstack

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	domain     = "test.example"
	slowDomain = "slow.test.example"

	// DefaultPassword is the password of every user unless WithPassword
	// sets another.
	DefaultPassword = "pass"

	// startAttempts bounds how often Start picks new ports after a daemon
	// found one of them taken.
	startAttempts = 3
	// readyTimeout bounds waiting for IMAP LOGIN and the SMTP greeting.
	readyTimeout = 15 * time.Second
	// maxDirLen keeps the socket paths under base_dir below the 108 bytes
	// of sun_path.
	maxDirLen = 60
)

// QueueTimes are Postfix's queue timings. They are rounded up to whole
// seconds. The defaults make delay notices and expiry bounces arrive within
// a test's patience.
type QueueTimes struct {
	// DelayWarning is delay_warning_time: a deferred message with
	// NOTIFY=DELAY produces a delay notice after this long. Zero disables
	// delay notices.
	DelayWarning time.Duration
	// MinBackoff is minimal_backoff_time and queue_run_delay: how soon a
	// deferred message is retried.
	MinBackoff time.Duration
	// MaxBackoff is maximal_backoff_time.
	MaxBackoff time.Duration
	// Lifetime is maximal_queue_lifetime and bounce_queue_lifetime: a
	// message still deferred after this long is returned as failed.
	Lifetime time.Duration
}

// DefaultQueueTimes returns the queue timings a stack uses unless
// WithQueueTimes sets others: a delay notice after 2 s, retries every
// 1–2 s and expiry after 20 s.
func DefaultQueueTimes() QueueTimes {
	return QueueTimes{
		DelayWarning: 2 * time.Second,
		MinBackoff:   time.Second,
		MaxBackoff:   2 * time.Second,
		Lifetime:     20 * time.Second,
	}
}

// config is what the options set.
type config struct {
	users    []string
	password string
	queue    QueueTimes
	clients  int // IMAP connections Dovecot must hold at once; 0 keeps its defaults
}

func defaultConfig() config {
	return config{
		users:    []string{"alice", "bob", "carol"},
		password: DefaultPassword,
		queue:    DefaultQueueTimes(),
	}
}

// Option configures Start.
type Option func(*config)

// WithUsers replaces the default users alice, bob and carol. Names are
// local parts without the domain.
func WithUsers(users ...string) Option {
	return func(c *config) { c.users = slices.Clone(users) }
}

// WithPassword sets the password of every user.
func WithPassword(password string) Option {
	return func(c *config) { c.password = password }
}

// WithIMAPClients sizes Dovecot for n simultaneous IMAP connections: by
// default it serves each connection with a process of its own, up to
// 1,024, and its auxiliary services accept 1,000 clients. Connections are
// grouped 50 to an imap process instead, which Dovecot allows when every
// user has the same system user, as here. The test process's file limit
// must allow n connections too: Dovecot inherits it.
func WithIMAPClients(n int) Option {
	return func(c *config) { c.clients = n }
}

// WithQueueTimes sets Postfix's queue timings.
func WithQueueTimes(q QueueTimes) Option {
	return func(c *config) { c.queue = q }
}

// binaries are the daemons' executables.
type binaries struct {
	dovecot, postfix string
}

// Stack is one running Dovecot and Postfix pair. Its methods may be called
// from parallel subtests, except that StopDovecot, StartDovecot and Restart
// must not overlap each other.
type Stack struct {
	dir   string
	cfg   config
	bin   binaries
	ports ports // fixed once Start returns; Restart reuses them
	dead  *deadPort
	cert  []byte
	roots *x509.CertPool
}

// Start creates a run directory, starts Dovecot and Postfix on free
// loopback ports and waits until IMAP LOGIN works and SMTP greets. The
// stack is stopped and its directory removed when the test ends.
func Start(t testing.TB, opts ...Option) *Stack {
	t.Helper()
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.users) == 0 {
		t.Fatalf("mailstack: no users")
	}
	bin := requireEnvironment(t)

	dir, err := makeRunDir()
	if err != nil {
		t.Fatalf("mailstack: %v", err)
	}
	t.Cleanup(func() {
		if err := removeAll(dir); err != nil {
			t.Errorf("mailstack: %v", err)
		}
	})
	s := &Stack{dir: dir, cfg: cfg, bin: bin}
	if err := s.prepare(); err != nil {
		t.Fatalf("mailstack: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mailstack logs (%s):\n%s", dir, s.logTail(60))
		}
	})
	if s.dead, err = holdDeadPort(); err != nil {
		t.Fatalf("mailstack: %v", err)
	}
	t.Cleanup(func() {
		if err := s.dead.release(); err != nil {
			t.Errorf("mailstack: %v", err)
		}
	})
	t.Cleanup(func() {
		if err := s.stop(daemonDovecot, daemonPostfix); err != nil {
			t.Errorf("mailstack: %v", err)
		}
	})
	if err := s.start(); err != nil {
		t.Fatalf("mailstack: %v", err)
	}
	if err := s.waitReady(time.Now().Add(readyTimeout)); err != nil {
		t.Fatalf("mailstack: %v", err)
	}
	return s
}

// requireEnvironment finds the daemons and checks for root. It skips the
// test when something is missing, or fails it under CI=true.
func requireEnvironment(t testing.TB) binaries {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	var bin binaries
	var missing []string
	for _, b := range []struct {
		name string
		path *string
		pkgs string
	}{
		{"dovecot", &bin.dovecot, "dovecot-core dovecot-imapd dovecot-lmtpd"},
		{"postfix", &bin.postfix, "postfix"},
	} {
		p, err := lookPath(b.name)
		if err != nil {
			missing = append(missing, b.pkgs)
			continue
		}
		*b.path = p
	}
	if len(missing) > 0 {
		const all = "dovecot-core dovecot-imapd dovecot-lmtpd postfix"
		if ci {
			t.Fatalf("mailstack: dovecot or postfix not found in PATH or /usr/sbin; .ci/run must install %s", all)
		}
		t.Skipf("mailstack: dovecot or postfix not found in PATH or /usr/sbin; install the packages: %s", strings.Join(missing, " "))
	}
	if os.Geteuid() != 0 {
		if ci {
			t.Fatalf("mailstack: must run as root (the daemons switch to the users postfix and nobody)")
		}
		t.Skipf("mailstack: skipped, must run as root (the daemons switch to the users postfix and nobody)")
	}
	return bin
}

// lookPath finds name in PATH or, as PATH often lacks it for non-root
// users, in /usr/sbin.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return exec.LookPath(filepath.Join("/usr/sbin", name))
}

// makeRunDir creates a short run directory that every user can traverse:
// the daemons' unprivileged processes need +x on each directory of the
// path, and Dovecot's socket paths must stay short.
func makeRunDir() (string, error) {
	var errs []error
	for _, base := range []string{os.TempDir(), "/tmp"} {
		if len(base) > maxDirLen-10 {
			errs = append(errs, fmt.Errorf("%s: path too long for unix sockets", base))
			continue
		}
		if err := traversable(base); err != nil {
			errs = append(errs, err)
			continue
		}
		dir, err := os.MkdirTemp(base, "ms")
		if err != nil {
			errs = append(errs, fmt.Errorf("create run dir: %w", err))
			continue
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return "", errors.Join(fmt.Errorf("chmod run dir: %w", err), os.RemoveAll(dir))
		}
		return dir, nil
	}
	return "", fmt.Errorf("no usable temp dir: %w", errors.Join(errs...))
}

// traversable reports an error unless others may search every directory
// from / down to dir.
func traversable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", dir, err)
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s: not searchable by other users (mode %v)", p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// prepare lays out the run directory with the owners the daemons expect,
// the certificate and the users file.
func (s *Stack) prepare() error {
	ids, err := lookupIDs()
	if err != nil {
		return err
	}
	for _, d := range []struct {
		path     string
		mode     os.FileMode
		uid, gid int
	}{
		{"dovecot", 0o755, 0, 0},
		{"run", 0o755, 0, 0},
		{"state", 0o755, 0, 0},
		{"log", 0o755, 0, 0},
		{"mail", 0o755, ids.nobody, ids.nogroup},
		{"pf", 0o755, 0, 0},
		{"pf/etc", 0o755, 0, 0},
		{"pf/spool", 0o755, 0, 0},
		{"pf/data", 0o700, ids.postfix, ids.postfixGroup},
	} {
		p := filepath.Join(s.dir, d.path)
		if err := os.Mkdir(p, d.mode); err != nil {
			return fmt.Errorf("create %s: %w", d.path, err)
		}
		// Mkdir applies the umask; the mode has to be exact.
		if err := os.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", d.path, err)
		}
		if err := os.Chown(p, d.uid, d.gid); err != nil {
			return fmt.Errorf("chown %s: %w", d.path, err)
		}
	}
	cert, key, err := newCert(time.Now())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "dovecot", "cert.pem"), cert, 0o644); err != nil {
		return fmt.Errorf("write cert: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "dovecot", "key.pem"), key, 0o600); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	s.cert = cert
	s.roots = x509.NewCertPool()
	s.roots.AppendCertsFromPEM(cert)
	return s.writeUsers()
}

// ids are the numeric owners of the run directory's parts.
type ids struct {
	nobody, nogroup, postfix, postfixGroup int
}

// lookupIDs resolves the users the packages create (postfix) or the
// system has (nobody, nogroup).
func lookupIDs() (ids, error) {
	var r ids
	nobody, err := user.Lookup("nobody")
	if err != nil {
		return r, fmt.Errorf("look up user nobody: %w", err)
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		return r, fmt.Errorf("look up user postfix (is the postfix package installed?): %w", err)
	}
	nogroupID := nobody.Gid
	if g, err := user.LookupGroup("nogroup"); err == nil {
		nogroupID = g.Gid
	}
	for _, f := range []struct {
		s string
		p *int
	}{{nobody.Uid, &r.nobody}, {nogroupID, &r.nogroup}, {pf.Uid, &r.postfix}, {pf.Gid, &r.postfixGroup}} {
		n, err := strconv.Atoi(f.s)
		if err != nil {
			return r, fmt.Errorf("parse id %q: %w", f.s, err)
		}
		*f.p = n
	}
	return r, nil
}

// start picks ports, writes the configurations and starts both daemons,
// trying new ports when one was taken in the meantime.
func (s *Stack) start() error {
	for attempt := 1; ; attempt++ {
		p, err := pickPorts()
		if err != nil {
			return err
		}
		p.Dead = s.dead.port
		s.ports = p
		if err := s.writeConfigs(p); err != nil {
			return err
		}
		err = s.startDovecot()
		if err == nil {
			err = s.startPostfix()
			if err != nil {
				err = errors.Join(err, s.stop(daemonDovecot))
			}
		}
		if err == nil || !errors.Is(err, errPortBusy) || attempt == startAttempts {
			return err
		}
	}
}

// Dir returns the run directory. It holds dovecot/ (configuration, users,
// certificate), mail/USER/Maildir, pf/ (Postfix) and log/.
func (s *Stack) Dir() string { return s.dir }

// Domain returns the mail domain of all users, "test.example".
func (s *Stack) Domain() string { return domain }

// SlowDomain returns a domain whose mail Postfix routes to a port without
// a listener, so every message to it is deferred until it expires.
func (s *Stack) SlowDomain() string { return slowDomain }

// Users returns the users' names without the domain.
func (s *Stack) Users() []string { return slices.Clone(s.cfg.users) }

// Address returns user's e-mail address, for example "alice@test.example".
func (s *Stack) Address(user string) string { return user + "@" + domain }

// Password returns user's IMAP password, or "" for an unknown user.
func (s *Stack) Password(user string) string {
	if !slices.Contains(s.cfg.users, user) {
		return ""
	}
	return s.cfg.password
}

// IMAPAddr returns the host:port of plaintext IMAP (STARTTLS offered;
// LOGIN allowed without it, as loopback counts as secure).
func (s *Stack) IMAPAddr() string { return hostPort(s.ports.IMAP) }

// IMAPSAddr returns the host:port of IMAP over implicit TLS. Verify it with
// RootCAs.
func (s *Stack) IMAPSAddr() string { return hostPort(s.ports.IMAPS) }

// SMTPAddr returns the host:port of Postfix's SMTP server, which accepts
// mail from loopback to any address and advertises DSN.
func (s *Stack) SMTPAddr() string { return hostPort(s.ports.SMTP) }

// LMTPAddr returns the host:port of Dovecot's LMTP server.
func (s *Stack) LMTPAddr() string { return hostPort(s.ports.LMTP) }

// RootCAs returns a pool holding the stack's self-signed certificate, which
// is valid for localhost and 127.0.0.1.
func (s *Stack) RootCAs() *x509.CertPool { return s.roots.Clone() }

// CertPEM returns the stack's certificate in PEM form.
func (s *Stack) CertPEM() []byte { return slices.Clone(s.cert) }

func hostPort(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
