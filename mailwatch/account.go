package mailwatch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
)

// TLSMode is how the connection to an IMAP server is secured.
type TLSMode string

// The TLS modes. Plaintext is only for tests on loopback and must be asked
// for by name.
const (
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (port 993)
	TLSStartTLS TLSMode = "starttls" // STARTTLS after the greeting (port 143)
	TLSInsecure TLSMode = "insecure" // no TLS at all
)

// Account is one mailbox to watch.
type Account struct {
	// Name identifies the account in logs, checkpoints and metrics.
	Name string
	// Addr is the server's host:port.
	Addr string
	TLS  TLSMode
	// TLSConfig overrides the TLS settings (e.g. a test CA); nil uses the
	// system roots and the host of Addr as server name.
	TLSConfig *tls.Config
	// Username is the login name.
	Username string
	// Password authenticates with LOGIN; TokenSource, when set, with SASL
	// XOAUTH2 instead.
	Password    string
	TokenSource TokenSource
	// Owner is the address whose sent mail this is; the login by default.
	Owner string
	// SentFolder names the Sent folder; empty finds it by the \Sent
	// special-use attribute.
	SentFolder string
	// ReportFolders are watched for reports; INBOX by default.
	ReportFolders []string
	// Policy says which sent mails are tracked.
	Policy TrackPolicy
	// PollInterval, when positive, polls instead of using IDLE.
	PollInterval time.Duration
	// MoveReportsTo, when set, moves processed reports to that folder;
	// FlagReports sets the \Seen flag on them instead. Either happens only
	// after the result is stored.
	MoveReportsTo string
	FlagReports   bool
	// MaxConnections caps the connections open to this account at once:
	// one per watched folder, plus one while FindSent searches. Providers
	// refuse more than a few per mailbox (Gmail: "Too many simultaneous
	// connections", Gmail Help answer 97150; Exchange: MaxConnectionsPerUser,
	// 16 by default, Set-ImapSettings). 0 sets no cap.
	MaxConnections int
	// Since, when positive, bounds the first read of a folder (no
	// checkpoint yet, or a new UIDVALIDITY) to messages whose internal
	// date is within Since of now (IMAP SEARCH SINCE, RFC 3501 §6.4.4), so
	// that a new install does not read years of mail. Older messages are
	// never read.
	Since time.Duration
}

// owner returns the account's owner address.
func (a Account) owner() string {
	if a.Owner != "" {
		return a.Owner
	}
	return a.Username
}

// reportFolders returns the folders watched for reports.
func (a Account) reportFolders() []string {
	if len(a.ReportFolders) == 0 {
		return []string{"INBOX"}
	}
	return a.ReportFolders
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

var imapWordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// dial connects and authenticates to the account's server. The returned
// client is logged in. read, when not nil, counts the bytes received.
// dial connects and logs in. tap, when not nil, sees the plaintext of the
// session in both directions (see warnTap).
func dial(ctx context.Context, a Account, timeout time.Duration, h *imapclient.UnilateralDataHandler, read *atomic.Int64, tap io.Writer) (*imapclient.Client, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", a.Addr)
	if err != nil {
		return nil, temporary(fmt.Errorf("connect %s: %w", a.Addr, err))
	}
	if read != nil {
		conn = countingConn{Conn: conn, n: read}
	}
	opts := &imapclient.Options{UnilateralDataHandler: h, WordDecoder: imapWordDecoder, TLSConfig: a.tlsConfig(), DebugWriter: tap}
	var c *imapclient.Client
	switch a.TLS {
	case TLSImplicit, "":
		c = imapclient.New(tls.Client(conn, opts.TLSConfig), opts)
	case TLSStartTLS:
		c, err = imapclient.NewStartTLS(conn, opts)
	case TLSInsecure:
		c = imapclient.New(conn, opts)
	default:
		conn.Close()
		return nil, fmt.Errorf("account %s: unknown TLS mode %q", a.Name, a.TLS)
	}
	if err != nil {
		conn.Close()
		return nil, temporary(fmt.Errorf("starttls %s: %w", a.Addr, err))
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := guard(timeout, c, c.WaitGreeting); err != nil {
		c.Close()
		return nil, temporary(fmt.Errorf("greeting from %s: %w", a.Addr, err))
	}
	if err := login(ctx, c, a, timeout); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (a Account) tlsConfig() *tls.Config {
	if a.TLSConfig != nil {
		cfg := a.TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(a.Addr)
		}
		return cfg
	}
	host, _, _ := net.SplitHostPort(a.Addr)
	return &tls.Config{ServerName: host}
}

// ErrAuth marks an authentication failure. It is retried like any other
// failure (a password may be fixed, a token refreshed), with backoff.
var ErrAuth = errors.New("authentication failed")

func login(ctx context.Context, c *imapclient.Client, a Account, timeout time.Duration) error {
	if a.TokenSource != nil {
		sc, err := xoauth2For(ctx, a.Username, a.TokenSource)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrAuth, err)
		}
		if err := guard(timeout, c, func() error { return c.Authenticate(sc) }); err != nil {
			return fmt.Errorf("%w: xoauth2 as %s: %w", ErrAuth, a.Username, err)
		}
		return nil
	}
	if err := guard(timeout, c, c.Login(a.Username, a.Password).Wait); err != nil {
		return fmt.Errorf("%w: login as %s: %w", ErrAuth, a.Username, err)
	}
	return nil
}

// errTimeout is returned when a server does not answer a command in time.
var errTimeout = errors.New("imap command timed out")

// guard runs wait, a blocking go-imap call, and closes the connection when
// it does not return within timeout: go-imap takes no context, and closing
// is the only way to unblock it.
func guard(timeout time.Duration, c *imapclient.Client, wait func() error) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		c.Close()
		<-done
		return errTimeout
	}
}

// temporaryError marks errors worth retrying soon: network and server
// trouble rather than bad input.
type temporaryError struct{ err error }

func (e temporaryError) Error() string   { return e.err.Error() }
func (e temporaryError) Unwrap() error   { return e.err }
func (e temporaryError) Temporary() bool { return true }

func temporary(err error) error { return temporaryError{err} }
