package mailstack

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

const (
	// opTimeout bounds one SMTP, LMTP or IMAP exchange of a helper.
	opTimeout = 10 * time.Second
	// helloName is what the helpers say in EHLO and LHLO.
	helloName = "client.test.example"
)

// SendOptions are the DSN parameters (RFC 3461) of one submission. The zero
// value sends none, and Postfix then applies its defaults (failures and
// delays are reported, RET=FULL).
type SendOptions struct {
	// Return is RET: smtp.DSNReturnHeaders or smtp.DSNReturnFull.
	Return smtp.DSNReturn
	// EnvelopeID is ENVID; DSNs repeat it as Original-Envelope-Id.
	EnvelopeID string
	// Notify is NOTIFY for every recipient, for example
	// []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure}.
	Notify []smtp.DSNNotify
	// OriginalRecipient sends ORCPT=rfc822;<recipient> for every recipient.
	OriginalRecipient bool
}

func (o SendOptions) dsn() bool {
	return o.Return != "" || o.EnvelopeID != "" || len(o.Notify) > 0 || o.OriginalRecipient
}

// Send submits raw (a complete message with CRLF or LF line ends) over SMTP
// to Postfix, which delivers it, bounces it or defers it, and sends DSNs to
// from. The test fails if Postfix rejects the message or, when opts asks
// for DSN parameters, does not advertise DSN.
func (s *Stack) Send(t testing.TB, from string, to []string, raw []byte, opts SendOptions) {
	t.Helper()
	if err := s.send(from, to, raw, opts); err != nil {
		t.Fatalf("mailstack: send from %s to %v: %v", from, to, err)
	}
}

func (s *Stack) send(from string, to []string, raw []byte, opts SendOptions) error {
	c, err := dialSMTP(s.SMTPAddr(), false)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(helloName); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if ok, _ := c.Extension("DSN"); opts.dsn() && !ok {
		// go-smtp would silently drop the parameters.
		return errors.New("server does not advertise DSN")
	}
	if err := c.Mail(from, &smtp.MailOptions{Return: opts.Return, EnvelopeID: opts.EnvelopeID}); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	for _, rcpt := range to {
		ro := &smtp.RcptOptions{Notify: opts.Notify}
		if opts.OriginalRecipient {
			ro.OriginalRecipientType = smtp.DSNAddressTypeRFC822
			ro.OriginalRecipient = rcpt
		}
		if err := c.Rcpt(rcpt, ro); err != nil {
			return fmt.Errorf("rcpt to %s: %w", rcpt, err)
		}
	}
	if err := writeData(c, raw); err != nil {
		return err
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("quit: %w", err)
	}
	return nil
}

// DeliverLMTP delivers raw straight to Dovecot over LMTP with an empty
// return path, bypassing Postfix: no DSN is ever made. rcpt is a user name
// or an address.
func (s *Stack) DeliverLMTP(t testing.TB, rcpt string, raw []byte) {
	t.Helper()
	if !strings.Contains(rcpt, "@") {
		rcpt = s.Address(rcpt)
	}
	if err := s.deliverLMTP(rcpt, raw); err != nil {
		t.Fatalf("mailstack: deliver to %s over LMTP: %v", rcpt, err)
	}
}

func (s *Stack) deliverLMTP(rcpt string, raw []byte) error {
	c, err := dialSMTP(s.LMTPAddr(), true)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(helloName); err != nil {
		return fmt.Errorf("lhlo: %w", err)
	}
	if err := c.Mail("", nil); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	if err := writeData(c, raw); err != nil {
		return err
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("quit: %w", err)
	}
	return nil
}

// dialSMTP connects an SMTP or LMTP client with bounded waits.
func dialSMTP(addr string, lmtp bool) (*smtp.Client, error) {
	conn, err := net.DialTimeout("tcp4", addr, opTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	var c *smtp.Client
	if lmtp {
		c = smtp.NewClientLMTP(conn)
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = opTimeout
	c.SubmissionTimeout = opTimeout
	return c, nil
}

func writeData(c *smtp.Client, raw []byte) error {
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("write data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end data: %w", err)
	}
	return nil
}

// greets dials addr and checks that the server's first line starts with
// prefix.
func greets(addr, prefix string) error {
	conn, err := net.DialTimeout("tcp4", addr, opTimeout)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(opTimeout)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting from %s: %w", addr, err)
	}
	if !strings.HasPrefix(line, prefix) {
		return fmt.Errorf("greeting from %s is %q, want %q", addr, strings.TrimSpace(line), prefix)
	}
	return nil
}

// login connects to plaintext IMAP and logs user in. The connection is
// closed at deadline at the latest, which ends any command still waiting.
func (s *Stack) login(user string, deadline time.Time) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(s.IMAPAddr(), &imapclient.Options{
		Dialer: &net.Dialer{Timeout: opTimeout, Deadline: deadline},
	})
	if err != nil {
		return nil, fmt.Errorf("dial imap: %w", err)
	}
	watchdog := time.AfterFunc(time.Until(deadline), func() {
		// Closing ends the blocked command; its error is reported there.
		_ = c.Close()
	})
	go func() {
		<-c.Closed()
		watchdog.Stop()
	}()
	if err := c.Login(user, s.Password(user)).Wait(); err != nil {
		return nil, errors.Join(fmt.Errorf("login %s: %w", user, err), c.Close())
	}
	return c, nil
}

// Login returns an IMAP client connected over plaintext IMAP and logged in
// as user. It is closed when the test ends.
func (s *Stack) Login(t testing.TB, user string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.IMAPAddr(), &imapclient.Options{
		Dialer: &net.Dialer{Timeout: opTimeout},
	})
	if err != nil {
		t.Fatalf("mailstack: dial imap: %v", err)
	}
	t.Cleanup(func() {
		// The test may have closed it already.
		_ = c.Close()
	})
	if err := c.Login(user, s.Password(user)).Wait(); err != nil {
		t.Fatalf("mailstack: login %s: %v", user, err)
	}
	return c
}

// WaitForMessages polls STATUS until mailbox of user holds at least n
// messages and returns the count then. It fails the test after timeout.
// It reconnects when the connection breaks, so it can span a Restart; a
// mailbox that does not exist yet counts as empty.
func (s *Stack) WaitForMessages(t testing.TB, user, mailbox string, n int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var c *imapclient.Client
	defer func() {
		if c != nil {
			// Only used for polling; nothing to report.
			_ = c.Close()
		}
	}()
	var count uint32
	err := poll(deadline, func() error {
		if c == nil {
			var err error
			if c, err = s.login(user, deadline); err != nil {
				return err
			}
		}
		data, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
		var imapErr *imap.Error
		switch {
		case errors.As(err, &imapErr):
			return fmt.Errorf("status %s: %w", mailbox, err)
		case err != nil:
			_ = c.Close()
			c = nil
			return fmt.Errorf("status %s: %w", mailbox, err)
		case data.NumMessages == nil:
			return fmt.Errorf("status %s: no MESSAGES in reply", mailbox)
		}
		count = *data.NumMessages
		if int(count) < n {
			return fmt.Errorf("%d messages", count)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("mailstack: %s/%s: want %d messages within %v: %v", user, mailbox, n, timeout, err)
	}
	return int(count)
}

// Messages returns every message in mailbox of user, complete and in
// mailbox order, without setting \Seen.
func (s *Stack) Messages(t testing.TB, user, mailbox string) [][]byte {
	t.Helper()
	msgs, err := s.messages(user, mailbox)
	if err != nil {
		t.Fatalf("mailstack: fetch %s/%s: %v", user, mailbox, err)
	}
	return msgs
}

func (s *Stack) messages(user, mailbox string) (msgs [][]byte, err error) {
	c, err := s.login(user, time.Now().Add(opTimeout))
	if err != nil {
		return nil, err
	}
	defer func() {
		// The messages are complete once Collect returns.
		_ = c.Close()
	}()
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	slices.SortFunc(bufs, func(a, b *imapclient.FetchMessageBuffer) int { return cmp.Compare(a.SeqNum, b.SeqNum) })
	for _, b := range bufs {
		msgs = append(msgs, b.FindBodySection(section))
	}
	return msgs, nil
}
