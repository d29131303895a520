package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// dialError marks a failure to reach or greet the upstream, before any
// message was offered.
type dialError struct{ err error }

func (e *dialError) Error() string { return "upstream: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// buildError marks a failure to make a copy of the message; nothing of it
// was sent.
type buildError struct{ err error }

func (e *buildError) Error() string { return "build copy: " + e.err.Error() }
func (e *buildError) Unwrap() error { return e.err }

// dsnNotify is what the relay asks DSNs for: everything.
var dsnNotify = []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed}

// delivery is the outcome of one upstream exchange.
type delivery struct {
	accepted []string // recipients whose copy the upstream accepted
	dsn      bool     // the upstream offered DSN, so reports were requested
	err      error
}

// deliver sends the copies to the upstream over one connection, asking for
// every DSN when dsn is set. With more than one copy it first checks every
// recipient with the upstream, so that a refused recipient stops the
// message before any copy is sent.
func (s *Server) deliver(ctx context.Context, from, envelopeID string, dsn bool, copies []copyOf) delivery {
	c, stop, err := s.dial(ctx)
	if err != nil {
		return delivery{err: err}
	}
	defer func() {
		stop()
		// Quit was sent on success; this only releases the connection.
		_ = c.Close()
	}()
	d := delivery{}
	var mail *smtp.MailOptions
	if dsn {
		d.dsn, _ = c.Extension("DSN")
		mail = &smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: envelopeID}
	}
	if len(copies) > 1 {
		var all []string
		for _, cp := range copies {
			all = append(all, cp.rcpts...)
		}
		if err := s.envelope(c, from, mail, all); err != nil {
			d.err = err
			return d
		}
		if err := c.Reset(); err != nil {
			d.err = fmt.Errorf("rset: %w", err)
			return d
		}
	}
	for _, cp := range copies {
		if err := s.send(c, from, mail, cp); err != nil {
			d.err = err
			return d
		}
		d.accepted = append(d.accepted, cp.rcpts...)
	}
	if err := c.Quit(); err != nil {
		s.log.Debug("upstream quit", "err", err)
	}
	return d
}

// envelope starts a transaction for rcpts, with the DSN parameters when
// mail is not nil. When a recipient is refused it resets the transaction
// and returns the refusal.
func (s *Server) envelope(c *smtp.Client, from string, mail *smtp.MailOptions, rcpts []string) error {
	if err := c.Mail(from, mail); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	for _, r := range rcpts {
		var opts *smtp.RcptOptions
		if mail != nil {
			opts = &smtp.RcptOptions{Notify: dsnNotify, OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: r}
		}
		err := c.Rcpt(r, opts)
		if err != nil {
			if rerr := c.Reset(); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return fmt.Errorf("rcpt to: %w", err)
		}
	}
	return nil
}

// send sends one copy.
func (s *Server) send(c *smtp.Client, from string, mail *smtp.MailOptions, cp copyOf) error {
	body, err := cp.build()
	if err != nil {
		return &buildError{err}
	}
	if err := s.envelope(c, from, mail, cp.rcpts); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("write data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	return nil
}

// dial connects to the upstream, greets it, starts TLS as configured and
// authenticates, all within Upstream.ConnectTimeout. Any failure is a
// *dialError. The client takes no context, so the connection is closed
// when ctx ends, which ends any call in progress; stop ends that watch.
func (s *Server) dial(ctx context.Context) (c *smtp.Client, stop func() bool, err error) {
	up := s.opts.Upstream
	dctx, cancel := context.WithTimeout(ctx, up.ConnectTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", up.Addr)
	if err != nil {
		return nil, nil, &dialError{fmt.Errorf("dial %s: %w", up.Addr, err)}
	}
	// A server that never greets (or speaks TLS where we expect SMTP)
	// would otherwise hold the client until ctx ends.
	stopDial := context.AfterFunc(dctx, func() { _ = conn.Close() })
	c, err = s.handshake(conn)
	if !stopDial() {
		err = errors.Join(err, fmt.Errorf("no ready upstream within %v", up.ConnectTimeout))
	}
	if err != nil {
		return nil, nil, &dialError{errors.Join(err, conn.Close())}
	}
	return c, context.AfterFunc(ctx, func() { _ = conn.Close() }), nil
}

// handshake greets the upstream on conn, starts TLS as configured and
// authenticates.
func (s *Server) handshake(conn net.Conn) (*smtp.Client, error) {
	up := s.opts.Upstream
	cfg := up.TLSConfig
	if cfg == nil {
		host, _, _ := net.SplitHostPort(up.Addr)
		cfg = &tls.Config{ServerName: host}
	}
	var c *smtp.Client
	switch up.TLS {
	case TLSImplicit:
		c = smtp.NewClient(tls.Client(conn, cfg))
	case TLSStartTLS:
		// This greets the server as "localhost"; the EHLO after STARTTLS
		// below gives the real name.
		var err error
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			return nil, fmt.Errorf("starttls: %w", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	if err := c.Hello(s.opts.Hostname); err != nil {
		return nil, fmt.Errorf("ehlo: %w", err)
	}
	if up.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", up.Username, string(up.Password))); err != nil {
			// The smarthost refusing our credentials is for an operator to
			// fix; the client should try again later.
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return c, nil
}
