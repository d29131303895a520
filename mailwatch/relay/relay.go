// Package relay is mailack's tracking relay: an SMTP submission server
// that mail programs, applications and Microsoft 365 or Google Workspace
// outbound connectors send through, and that passes each message on to
// the organisation's smarthost so that every confirmation is asked for.
//
// # Model
//
// Clients connect with STARTTLS (Serve) or implicit TLS (ServeTLS) and must
// authenticate with AUTH PLAIN against Options.Users before MAIL. Password
// checks are limited per connection, per client address and globally, and
// the connections served at once are capped. The whole message is read
// into memory (at most Options.MaxMessageBytes). The relay then:
//
//   - refuses, with a permanent error, any message whose From,
//     Sender, Resent-From or Resent-Sender names an address the login may
//     not send as, that has no From or more than one, or whose originator
//     fields cannot be read; reports and null-sender messages included
//     (checkOriginators);
//   - reads the header: Message-ID, From, To, Cc, Subject (encoded words
//     decoded, ISO-2022-JP included);
//   - adds a Message-ID when there is none;
//   - adds Disposition-Notification-To when the ReceiptPolicy wants read
//     receipts and the message does not ask already;
//   - puts the open-tracking pixel into the first inline HTML part when
//     pixels are enabled and the sender has not opted out: one token per
//     mail, or one copy per recipient with its own token;
//   - relays to the upstream smarthost over one connection, asking for
//     every DSN: MAIL FROM with RET=HDRS and ENVID=EnvelopeID(Message-ID),
//     RCPT with NOTIFY=SUCCESS,FAILURE,DELAY and ORCPT;
//   - registers the mail with the Registrar once the upstream has accepted
//     it, and only then answers the client's DATA with 250.
//
// Messages from the null sender, delivery and read reports and automatic
// replies are passed on untouched, without DSN requests, and are not
// tracked.
//
// # Invariants
//
//   - Bytes are only added. The fields the relay adds go in front of the
//     header; everything else in the message is passed on byte for byte,
//     except the body of the one HTML part that gets the pixel (see
//     injectPixel). A message carrying a DKIM signature gets no pixel.
//   - The relay never answers 250 to a message the upstream did not
//     accept: upstream replies are passed back to the client with their
//     code and enhanced code, and a failure to reach the upstream is a
//     temporary 451. When one recipient is refused, nothing is sent.
//   - A mail is registered only after the upstream accepted it, with the
//     recipients the upstream accepted.
//
// # Failure behaviour
//
// A failed registration is logged as an error and the client still gets
// 250, since the message is on its way and a retry would send it twice.
// With per-recipient copies, all recipients are checked with the upstream
// before any copy is sent; a copy refused after others were accepted
// fails the whole message with the upstream's reply, the accepted
// recipients are registered, and a client that retries sends those
// recipients a second copy.
//
// Shutdown stops accepting, closes connections that are waiting for the
// client's next command and waits for the others to finish their current
// message; when its context ends it closes everything, aborts upstream
// transactions and registrations in progress, and waits for every
// connection's goroutine. Passwords and message contents are never logged.
package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

// Defaults for Options left at zero.
const (
	DefaultMaxMessageBytes = 32 << 20
	DefaultMaxRecipients   = 500
	DefaultReadTimeout     = 5 * time.Minute
	DefaultWriteTimeout    = time.Minute
	DefaultRegisterTimeout = 10 * time.Second
	DefaultHostname        = "localhost"
)

// Registrar starts tracking relayed mail.
type Registrar interface {
	// RegisterMail starts tracking m. The relay fills MessageID (normalised),
	// EnvelopeID, Account (the relay user), Sender, SenderName, Subject,
	// SentAt, Recipients and Requested; deadlines are the Registrar's
	// business (track.Register).
	RegisterMail(ctx context.Context, m track.Mail) error
}

// TLSMode says how the relay talks TLS to the upstream.
type TLSMode string

// The upstream TLS modes.
const (
	TLSNone     TLSMode = "none"     // plain SMTP, for a smarthost on the same host or network
	TLSStartTLS TLSMode = "starttls" // STARTTLS required
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (port 465)
)

// Upstream is the smarthost the relay passes mail to.
type Upstream struct {
	// Addr is host:port.
	Addr string
	// TLS is the TLS mode; empty means TLSStartTLS.
	TLS TLSMode
	// TLSConfig verifies the upstream; nil verifies against the system
	// roots for Addr's host.
	TLSConfig *tls.Config
	// Username and Password authenticate with AUTH PLAIN when Username is
	// set.
	Username string
	Password Secret
	// ConnectTimeout bounds connecting, greeting, TLS and authentication;
	// zero means 30 seconds.
	ConnectTimeout time.Duration
	// Timeout bounds one relayed message, connection included; zero means
	// five minutes.
	Timeout time.Duration
}

// PixelOptions configure pixel injection.
type PixelOptions struct {
	// Enabled puts pixels into HTML mail.
	Enabled bool
	// Keys mint the tokens.
	Keys *trackpixel.Keys
	// BaseURL is the public address of mailack's HTTP listener.
	BaseURL string
	// PerRecipient sends each recipient its own copy with its own token,
	// so opens are told apart; otherwise all recipients share one copy
	// and one token.
	PerRecipient bool
	// OptedOut reports whether a sender has opted out of pixels; nil
	// means nobody has.
	OptedOut func(sender string) bool
}

// Options configure a Server.
type Options struct {
	// Hostname names the relay in its greeting and to the upstream.
	Hostname string
	// TLSConfig is the server certificate for STARTTLS and implicit TLS.
	TLSConfig *tls.Config
	// AllowInsecureAuth offers AUTH without TLS. For tests only.
	AllowInsecureAuth bool
	// Users maps user names to passwords. Required.
	Users map[string]Secret
	// Senders lists, per user, the sender addresses the user may send as:
	// whole addresses, or "@domain" for every address of a domain (an
	// organisation's outbound connector). A user without an entry may send
	// only as the user name itself. The envelope sender and every address
	// in From, Sender, Resent-From and Resent-Sender are checked, so that
	// nobody sends, or has mail tracked and reported in Slack, under
	// another person's name.
	Senders map[string][]string
	// AuthFailureDelay delays the answer to a failed login, times the
	// failures so far on the connection (default 1 s); after three the
	// connection is closed.
	AuthFailureDelay time.Duration
	// MaxConnections caps the connections served at once; a client over
	// the cap is answered 421 and disconnected (default
	// DefaultMaxConnections).
	MaxConnections int
	// AuthRate and AuthBurst limit password checks per second over all
	// connections together (defaults DefaultAuthRate, DefaultAuthBurst):
	// parallel connections guess no faster than one.
	AuthRate  float64
	AuthBurst int
	// MaxAddrFailures failed logins from one client address (an IPv6
	// client's /64) within AddrFailureWindow refuse AUTH from that address
	// until the window has passed (defaults DefaultMaxAddrFailures,
	// DefaultAddrFailureWindow).
	MaxAddrFailures   int
	AddrFailureWindow time.Duration
	// Upstream is the smarthost. Required.
	Upstream Upstream
	// Registrar registers relayed mail. Required.
	Registrar Registrar
	// Receipts decides when to ask for read receipts.
	Receipts ReceiptPolicy
	// Pixel configures open-tracking pixels.
	Pixel PixelOptions
	// MessageIDDomain is the domain of Message-IDs the relay adds; empty
	// uses the sender's domain.
	MessageIDDomain string
	// Limits; zero values take the defaults above.
	MaxMessageBytes int64
	MaxRecipients   int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	RegisterTimeout time.Duration
	// Logger receives the relay's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is a running tracking relay. Create it with New.
type Server struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time
	smtp *smtp.Server

	// ctx ends upstream transactions when the server is closed.
	ctx    context.Context
	cancel context.CancelFunc

	guard *authGuard

	draining atomic.Bool
	wg       sync.WaitGroup // one per connection, done when go-smtp closes it
	mu       sync.Mutex     // guards conns and stopped
	conns    map[*trackedConn]struct{}
	stopped  bool // no more connections are accepted
}

// New checks opts, reporting every problem, and returns a Server.
func New(opts Options) (*Server, error) {
	if err := validate(&opts); err != nil {
		return nil, fmt.Errorf("new relay: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: log.With("component", "relay"), now: opts.Now, conns: map[*trackedConn]struct{}{}}
	if s.now == nil {
		s.now = time.Now
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.guard = newAuthGuard(opts, s.now)
	srv := smtp.NewServer(backend{s})
	srv.Domain = opts.Hostname
	srv.TLSConfig = opts.TLSConfig
	srv.AllowInsecureAuth = opts.AllowInsecureAuth
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = opts.MaxRecipients
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.WriteTimeout
	srv.ErrorLog = errorLog{s.log}
	s.smtp = srv
	return s, nil
}

// validate fills defaults and reports every problem with opts.
func validate(o *Options) error {
	var errs []error
	if len(o.Users) == 0 {
		errs = append(errs, errors.New("no users"))
	}
	for _, u := range slices.Sorted(maps.Keys(o.Users)) {
		if o.Users[u] == "" {
			errs = append(errs, fmt.Errorf("user %q has no password", u))
		}
	}
	if o.Registrar == nil {
		errs = append(errs, errors.New("no registrar"))
	}
	if o.Upstream.Addr == "" {
		errs = append(errs, errors.New("no upstream address"))
	}
	if _, _, err := net.SplitHostPort(o.Upstream.Addr); o.Upstream.Addr != "" && err != nil {
		errs = append(errs, fmt.Errorf("upstream address: %w", err))
	}
	switch o.Upstream.TLS {
	case "":
		o.Upstream.TLS = TLSStartTLS
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("unknown upstream tls mode %q", o.Upstream.TLS))
	}
	if o.TLSConfig == nil && !o.AllowInsecureAuth {
		errs = append(errs, errors.New("no tls config: clients could never authenticate"))
	}
	if err := o.Receipts.validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Pixel.Enabled && (o.Pixel.Keys == nil || o.Pixel.BaseURL == "") {
		errs = append(errs, errors.New("pixels enabled without keys or base url"))
	}
	setDefault(&o.Hostname, DefaultHostname)
	setDefault(&o.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&o.MaxRecipients, DefaultMaxRecipients)
	setDefault(&o.ReadTimeout, DefaultReadTimeout)
	setDefault(&o.WriteTimeout, DefaultWriteTimeout)
	setDefault(&o.RegisterTimeout, DefaultRegisterTimeout)
	setDefault(&o.MaxConnections, DefaultMaxConnections)
	setDefault(&o.AuthRate, DefaultAuthRate)
	setDefault(&o.AuthBurst, DefaultAuthBurst)
	setDefault(&o.MaxAddrFailures, DefaultMaxAddrFailures)
	setDefault(&o.AddrFailureWindow, DefaultAddrFailureWindow)
	setDefault(&o.Upstream.ConnectTimeout, 30*time.Second)
	setDefault(&o.Upstream.Timeout, 5*time.Minute)
	return errors.Join(errs...)
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Serve accepts connections on ln, offering STARTTLS when Options has a
// TLS config, until Shutdown or Close. It returns nil after those.
func (s *Server) Serve(ln net.Listener) error {
	return s.serve(&trackingListener{Listener: ln, s: s})
}

// ServeTLS is Serve with implicit TLS: the TLS handshake comes first
// (port 465).
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.opts.TLSConfig == nil {
		return errors.New("relay: serve tls: no tls config")
	}
	return s.serve(tls.NewListener(&trackingListener{Listener: ln, s: s}, s.opts.TLSConfig))
}

func (s *Server) serve(ln net.Listener) error {
	s.log.Info("serving", "addr", ln.Addr().String())
	if err := s.smtp.Serve(ln); err != nil {
		return fmt.Errorf("relay: serve: %w", err)
	}
	return nil
}

// errorLog passes go-smtp's internal errors to slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Printf(format string, v ...any) {
	l.log.Warn("smtp server", "err", fmt.Sprintf(format, v...))
}

func (l errorLog) Println(v ...any) {
	l.log.Warn("smtp server", "err", fmt.Sprint(v...))
}
