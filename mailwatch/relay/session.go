package relay

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Replies of the relay's own. Upstream replies are passed through as they
// came (see upstreamError).
var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down, try again later"}
	errSenderDenied = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender address not allowed for this login"}
)

// maySendAs reports whether user may send as addr (see Options.Senders).
func (s *Server) maySendAs(user, addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	allowed, ok := s.opts.Senders[user]
	if !ok {
		allowed = []string{user}
	}
	for _, a := range allowed {
		a = strings.ToLower(a)
		if a == addr || strings.HasPrefix(a, "@") && strings.HasSuffix(addr, a) {
			return true
		}
	}
	return false
}

// backend makes a session per connection.
type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if b.s.draining.Load() {
		return nil, errShuttingDown
	}
	return &session{s: b.s, conn: c}, nil
}

// session is one client connection. go-smtp calls its methods from the
// connection's goroutine only.
type session struct {
	s    *Server
	conn *smtp.Conn
	user string // authenticated user; "" before AUTH

	from  string
	rcpts []string

	authFailures int // failed AUTH attempts on this connection
}

// Failed logins are answered slowly, and a connection that keeps failing
// is dropped, so that passwords cannot be guessed at speed.
const (
	authFailureDelay = time.Second
	maxAuthFailures  = 3
)

var errTooManyAuthFailures = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "too many failed logins, closing connection"}

// authFailed slows down the answer to a failed login and tells whether
// the connection has failed too often.
func (ss *session) authFailed() error {
	ss.authFailures++
	ss.s.guard.failed(clientAddr(ss.conn))
	t := time.NewTimer(time.Duration(ss.authFailures) * ss.s.authDelay())
	defer t.Stop()
	select {
	case <-t.C:
	case <-ss.s.ctx.Done():
	}
	if ss.authFailures >= maxAuthFailures {
		return errTooManyAuthFailures
	}
	return smtp.ErrAuthFailed
}

// blocked reports whether the connection has used up its logins; it is
// then closed on the client's next command.
func (ss *session) blocked() bool {
	if ss.authFailures < maxAuthFailures {
		return false
	}
	if ss.conn != nil {
		ss.conn.Close()
	}
	return true
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.blocked() {
		return nil, errTooManyAuthFailures
	}
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	addr := clientAddr(ss.conn)
	if ss.s.guard.blocked(addr) {
		ss.s.log.Warn("login refused: too many failures from the address", "remote", remote(ss.conn))
		ss.authFailures = maxAuthFailures // closes the connection on the next command
		return nil, errAddrBlocked
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if err := ss.s.guard.wait(ss.s.ctx); err != nil {
			return errShuttingDown
		}
		if identity != "" && identity != username {
			ss.s.log.Warn("authentication failed", "user", username, "reason", "identity differs", "remote", remote(ss.conn))
			return ss.authFailed()
		}
		if !ss.s.checkPassword(username, password) {
			ss.s.log.Warn("authentication failed", "user", username, "remote", remote(ss.conn))
			return ss.authFailed()
		}
		ss.user = username
		ss.s.log.Debug("authenticated", "user", username, "remote", remote(ss.conn))
		return nil
	}), nil
}

// checkPassword compares in constant time, also for unknown users, so
// that timing tells nothing about which users exist.
func (s *Server) checkPassword(user, password string) bool {
	want, ok := s.opts.Users[user]
	got := sha256.Sum256([]byte(password))
	exp := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(got[:], exp[:]) == 1 && ok
}

// Mail starts a transaction. The relay asks for DSNs itself and does not
// offer DSN, SMTPUTF8 or REQUIRETLS, so the options carry nothing it uses.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.blocked() {
		return errTooManyAuthFailures
	}
	if ss.user == "" {
		return errAuthRequired
	}
	if ss.s.draining.Load() {
		return errShuttingDown
	}
	if !asciiOnly(from) {
		return errUTF8Sender
	}
	// The null sender carries bounces and read receipts, which name no
	// one as their sender; their header is checked all the same
	// (checkOriginators).
	if from != "" && !ss.s.maySendAs(ss.user, from) {
		ss.s.log.Warn("sender refused", "user", ss.user, "from", from, "remote", remote(ss.conn))
		return errSenderDenied
	}
	ss.from, ss.rcpts = from, nil
	return nil
}

// Rcpt collects a recipient; the upstream is asked about it only once the
// message is in, since the envelope ID comes from the message.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.user == "" {
		return errAuthRequired
	}
	if !asciiOnly(to) {
		return errUTF8Recipient
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

// Data reads the message and relays it; the client's reply is the
// upstream's.
func (ss *session) Data(r io.Reader) error {
	if ss.user == "" {
		return errAuthRequired
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "message not read completely"}
	}
	return ss.s.relay(submission{user: ss.user, from: ss.from, rcpts: ss.rcpts, raw: raw})
}

func (ss *session) Reset() { ss.from, ss.rcpts = "", nil }

func (ss *session) Logout() error { return nil }

func remote(c *smtp.Conn) string {
	if c == nil || c.Conn() == nil {
		return ""
	}
	return c.Conn().RemoteAddr().String()
}

func (s *Server) authDelay() time.Duration {
	if s.opts.AuthFailureDelay > 0 {
		return s.opts.AuthFailureDelay
	}
	return authFailureDelay
}
