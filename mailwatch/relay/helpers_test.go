package relay

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

const (
	testUser     = "alice"
	testPassword = "correct horse battery staple"
	baseURL      = "https://mailack.example"
)

var pixelSecret = []byte("0123456789abcdef0123456789abcdef")

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testPixelKeys(t testing.TB) *trackpixel.Keys {
	t.Helper()
	ks, err := trackpixel.NewKeys(trackpixel.Key{ID: 1, Secret: pixelSecret})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// fakeRegistrar records registered mail and fails with err when set.
type fakeRegistrar struct {
	err error

	mu    sync.Mutex // guards mails
	mails []track.Mail
}

func (f *fakeRegistrar) RegisterMail(ctx context.Context, m track.Mail) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("fake registrar: context without deadline")
	}
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mails = append(f.mails, m)
	return nil
}

func (f *fakeRegistrar) registered() []track.Mail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.mails)
}

// received is one message a fake upstream accepted.
type received struct {
	from     string
	mailOpts smtp.MailOptions
	rcpts    []string
	rcptOpts []smtp.RcptOptions
	data     []byte
}

// fakeUpstream is an SMTP server that records what it accepts. rcptErr
// refuses recipients, dataErr refuses messages, and dataHold, when set,
// makes DATA wait until it is closed.
type fakeUpstream struct {
	addr string
	// tls serves STARTTLS with this config, or implicit TLS when implicit.
	tls      *tls.Config
	implicit bool
	// password, when set, makes AUTH PLAIN as "relay" required.
	password string
	rcptErr  func(to string) error
	dataErr  error
	dataHold chan struct{}
	dataSeen chan struct{} // receives a value when DATA starts, if set

	mu   sync.Mutex // guards msgs
	msgs []received
}

// startUpstream runs a fake upstream on loopback, advertising DSN unless
// noDSN.
func startUpstream(t *testing.T, noDSN bool, mod func(*fakeUpstream)) *fakeUpstream {
	t.Helper()
	up := &fakeUpstream{}
	if mod != nil {
		mod(up)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		if up.password != "" {
			return &authUpstreamSession{upstreamSession{up: up}, false}, nil
		}
		return &upstreamSession{up: up}, nil
	}))
	srv.Domain = "upstream.test"
	srv.EnableDSN = !noDSN
	srv.AllowInsecureAuth = up.tls == nil
	srv.ErrorLog = errorLog{testLogger(t)}
	var ln net.Listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if up.implicit {
		ln = tls.NewListener(ln, up.tls)
	} else {
		srv.TLSConfig = up.tls
	}
	up.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Serve returns nil once Close is called.
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		// Shutdown, unlike Close, waits for the connections' goroutines,
		// which log to the test. The relay has closed its connections by
		// now (its cleanup runs first).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("upstream shutdown: %v", err)
		}
		<-done
	})
	return up
}

func (up *fakeUpstream) received() []received {
	up.mu.Lock()
	defer up.mu.Unlock()
	return slices.Clone(up.msgs)
}

type upstreamSession struct {
	up  *fakeUpstream
	cur received
}

func (s *upstreamSession) Reset()        { s.cur = received{} }
func (s *upstreamSession) Logout() error { return nil }

func (s *upstreamSession) Mail(from string, opts *smtp.MailOptions) error {
	s.cur = received{from: from, mailOpts: *opts}
	return nil
}

func (s *upstreamSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.up.rcptErr != nil {
		if err := s.up.rcptErr(to); err != nil {
			return err
		}
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	s.cur.rcptOpts = append(s.cur.rcptOpts, *opts)
	return nil
}

// authUpstreamSession requires AUTH PLAIN as "relay" with the upstream's
// password.
type authUpstreamSession struct {
	upstreamSession
	authed bool
}

func (s *authUpstreamSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authUpstreamSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if user != "relay" || password != s.up.password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *authUpstreamSession) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return s.upstreamSession.Mail(from, opts)
}

func (s *upstreamSession) Data(r io.Reader) error {
	if s.up.dataSeen != nil {
		s.up.dataSeen <- struct{}{}
	}
	if s.up.dataHold != nil {
		<-s.up.dataHold
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.up.dataErr != nil {
		return s.up.dataErr
	}
	s.cur.data = b
	s.up.mu.Lock()
	defer s.up.mu.Unlock()
	s.up.msgs = append(s.up.msgs, s.cur)
	return nil
}

// testRelay is a relay serving on loopback.
type testRelay struct {
	*Server
	addr string
	reg  *fakeRegistrar
}

// newRelay returns a relay for upstream with plain-text AUTH allowed and a
// recording registrar; mod changes the options.
func newRelay(t *testing.T, upstream string, mod func(*Options)) (*Server, *fakeRegistrar) {
	t.Helper()
	reg := &fakeRegistrar{}
	o := Options{
		Hostname:          "relay.test",
		AllowInsecureAuth: true,
		Users:             map[string]Secret{testUser: testPassword, "bob": "another password"},
		Senders:           map[string][]string{testUser: {"@example.com", "@test.example"}, "bob": {"bob@example.org"}},
		Upstream:          Upstream{Addr: upstream, TLS: TLSNone, Timeout: 30 * time.Second},
		Registrar:         reg,
		Logger:            testLogger(t),
	}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, reg
}

// serveRelay serves s on a loopback listener with serve (s.Serve or
// s.ServeTLS) until the test ends, and returns the address.
func serveRelay(t *testing.T, s *Server, serve func(net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// startRelay is newRelay served with STARTTLS (when configured) on loopback.
func startRelay(t *testing.T, upstream string, mod func(*Options)) *testRelay {
	t.Helper()
	s, reg := newRelay(t, upstream, mod)
	return &testRelay{Server: s, addr: serveRelay(t, s, s.Serve), reg: reg}
}

// submitOpts are how a test submits one message.
type submitOpts struct {
	user, password string
	tlsConfig      *tls.Config // STARTTLS with this config when set
	implicit       bool        // implicit TLS instead
}

// submit sends raw through the relay at addr and returns the relay's
// refusal, if any.
func submit(t testing.TB, addr string, from string, to []string, raw []byte, o submitOpts) error {
	t.Helper()
	if o.user == "" {
		o.user, o.password = testUser, testPassword
	}
	var c *smtp.Client
	var err error
	switch {
	case o.implicit:
		c, err = smtp.DialTLS(addr, o.tlsConfig)
	case o.tlsConfig != nil:
		c, err = smtp.DialStartTLS(addr, o.tlsConfig)
	default:
		c, err = smtp.Dial(addr)
	}
	if err != nil {
		t.Fatalf("dial relay: %v", err)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 30*time.Second
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Auth(sasl.NewPlainClient("", o.user, o.password)); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// testCert returns a TLS server config with a fresh self-signed
// certificate for 127.0.0.1 and a client config that trusts it.
func testCert(t *testing.T, serverName string) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: serverName},
		DNSNames:     []string{serverName},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, ServerName: serverName}
	client = &tls.Config{RootCAs: pool, ServerName: serverName}
	return server, client
}
