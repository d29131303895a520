package mailstack_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message"
	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

// waitTimeout is generous: Dovecot and Postfix deliver in milliseconds, but
// a loaded CI machine may not.
const waitTimeout = 15 * time.Second

// testMessage returns a minimal RFC 5322 message.
func testMessage(from, to, subject, messageID string) []byte {
	return []byte(fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s>\r\n"+
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n%s body\r\n",
		from, to, subject, messageID, subject))
}

// deliveryStatus checks that raw is a multipart/report of type
// delivery-status and returns its message/delivery-status part.
func deliveryStatus(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message.Read: %v\n%s", err, raw)
	}
	mt, params, err := e.Header.ContentType()
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type = %q %v (err %v), want multipart/report; report-type=delivery-status\n%s", mt, params, err, raw)
	}
	mr := e.MultipartReader()
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		if pt, _, _ := p.Header.ContentType(); pt != "message/delivery-status" {
			continue
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("read delivery-status part: %v", err)
		}
		return string(b)
	}
	t.Fatalf("no message/delivery-status part in\n%s", raw)
	return ""
}

func assertContains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func TestBounceDSN(t *testing.T) {
	t.Parallel()
	s := mailstack.Start(t)
	alice, nosuch := s.Address("alice"), "nosuch@"+s.Domain()
	s.Send(t, alice, []string{nosuch}, testMessage(alice, nosuch, "bounce me", "bounce@test.example"),
		mailstack.SendOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "some-id"})

	if n := s.WaitForMessages(t, "alice", "INBOX", 1, waitTimeout); n != 1 {
		t.Fatalf("alice's INBOX has %d messages, want 1", n)
	}
	msgs := s.Messages(t, "alice", "INBOX")
	if len(msgs) != 1 {
		t.Fatalf("Messages returned %d messages, want 1", len(msgs))
	}
	status := deliveryStatus(t, msgs[0])
	assertContains(t, "bounce status", status, "Action: failed", "Status: 5.1.1", "Original-Envelope-Id: some-id")
	// RET=HDRS returns only the header of the original.
	assertContains(t, "bounce", string(msgs[0]), "text/rfc822-headers", "Message-ID: <bounce@test.example>")
}

func TestSuccessDSN(t *testing.T) {
	t.Parallel()
	s := mailstack.Start(t)
	alice, bob := s.Address("alice"), s.Address("bob")
	s.Send(t, alice, []string{bob}, testMessage(alice, bob, "hello bob", "hello@test.example"),
		mailstack.SendOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifySuccess}, OriginalRecipient: true})

	s.WaitForMessages(t, "bob", "INBOX", 1, waitTimeout)
	assertContains(t, "bob's message", string(s.Messages(t, "bob", "INBOX")[0]), "Subject: hello bob")

	s.WaitForMessages(t, "alice", "INBOX", 1, waitTimeout)
	status := deliveryStatus(t, s.Messages(t, "alice", "INBOX")[0])
	assertContains(t, "success status", status, "Action: delivered", "Status: 2.0.0")
	if !strings.Contains(strings.ToLower(status), "original-recipient: rfc822;"+bob) {
		t.Errorf("success status lacks Original-Recipient rfc822;%s:\n%s", bob, status)
	}
}

// inboxStatus returns user's INBOX message count and UIDVALIDITY.
func inboxStatus(t *testing.T, s *mailstack.Stack, user string) (uint32, uint32) {
	t.Helper()
	c := s.Login(t, user)
	defer c.Close()
	data, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, UIDValidity: true}).Wait()
	if err != nil {
		t.Fatalf("STATUS INBOX: %v", err)
	}
	return *data.NumMessages, data.UIDValidity
}

func TestRestartKeepsMail(t *testing.T) {
	t.Parallel()
	s := mailstack.Start(t)
	for i := range 3 {
		s.DeliverLMTP(t, "bob", testMessage("x@example.org", s.Address("bob"), fmt.Sprint("lmtp ", i), fmt.Sprint(i, "@example.org")))
	}
	s.WaitForMessages(t, "bob", "INBOX", 3, waitTimeout)
	before, validity := inboxStatus(t, s, "bob")
	c := s.Login(t, "bob")

	s.Restart(t)

	// The old connection is gone, a new one works and sees the same mail.
	if err := c.Noop().Wait(); err == nil {
		t.Errorf("NOOP on a connection from before the restart succeeded, want an error")
	}
	after, validityAfter := inboxStatus(t, s, "bob")
	if after != before || validityAfter != validity {
		t.Errorf("after restart: %d messages, UIDVALIDITY %d; want %d, %d", after, validityAfter, before, validity)
	}

	// Mail sent while Dovecot is down is deferred by Postfix and arrives
	// after the start.
	s.StopDovecot(t)
	alice, bob := s.Address("alice"), s.Address("bob")
	s.Send(t, alice, []string{bob}, testMessage(alice, bob, "while down", "down@test.example"), mailstack.SendOptions{})
	s.StartDovecot(t)
	if n := s.WaitForMessages(t, "bob", "INBOX", 4, waitTimeout); n != 4 {
		t.Errorf("bob's INBOX has %d messages, want 4", n)
	}
}

func TestIMAPS(t *testing.T) {
	t.Parallel()
	s := mailstack.Start(t)

	c, err := imapclient.DialTLS(s.IMAPSAddr(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: s.RootCAs()}})
	if err != nil {
		t.Fatalf("DialTLS with RootCAs: %v", err)
	}
	defer c.Close()
	if err := c.Login("carol", s.Password("carol")).Wait(); err != nil {
		t.Fatalf("LOGIN over IMAPS: %v", err)
	}
	if err := c.Login("carol", "wrong").Wait(); err == nil {
		t.Errorf("second LOGIN succeeded, want an error")
	}

	// Verification is real: an empty pool rejects the certificate.
	bad, err := imapclient.DialTLS(s.IMAPSAddr(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}})
	if err == nil {
		err = bad.WaitGreeting()
		bad.Close()
	}
	if err == nil {
		t.Errorf("DialTLS with an empty pool succeeded, want a certificate error")
	}
}

func TestParallelStacks(t *testing.T) {
	t.Parallel()
	type seen struct{ imap, smtp, lmtp, dir string }
	var mu sync.Mutex // guards stacks
	stacks := map[string]seen{}

	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"one", "two"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := mailstack.Start(t)
				mu.Lock()
				stacks[name] = seen{s.IMAPAddr(), s.SMTPAddr(), s.LMTPAddr(), s.Dir()}
				mu.Unlock()

				alice := s.Address("alice")
				s.Send(t, alice, []string{alice}, testMessage(alice, alice, "stack "+name, name+"@test.example"), mailstack.SendOptions{})
				s.WaitForMessages(t, "alice", "INBOX", 1, waitTimeout)
				msgs := s.Messages(t, "alice", "INBOX")
				if len(msgs) != 1 || !strings.Contains(string(msgs[0]), "Subject: stack "+name) {
					t.Errorf("stack %s: alice's INBOX = %q, want only the message for stack %s", name, msgs, name)
				}
			})
		}
	})

	one, two := stacks["one"], stacks["two"]
	if one.imap == "" || two.imap == "" {
		t.Fatalf("stacks = %v, want two", stacks)
	}
	if one.imap == two.imap || one.smtp == two.smtp || one.lmtp == two.lmtp || one.dir == two.dir {
		t.Errorf("stacks share addresses or directories: %+v and %+v", one, two)
	}
}

func TestDelayAndExpiry(t *testing.T) {
	t.Parallel()
	s := mailstack.Start(t, mailstack.WithUsers("alice"), mailstack.WithQueueTimes(mailstack.QueueTimes{
		DelayWarning: time.Second,
		MinBackoff:   time.Second,
		MaxBackoff:   time.Second,
		Lifetime:     3 * time.Second,
	}))
	alice, dave := s.Address("alice"), "dave@"+s.SlowDomain()
	s.Send(t, alice, []string{dave}, testMessage(alice, dave, "slow", "slow@test.example"),
		mailstack.SendOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyDelayed, smtp.DSNNotifyFailure}})

	s.WaitForMessages(t, "alice", "INBOX", 2, waitTimeout)
	msgs := s.Messages(t, "alice", "INBOX")
	assertContains(t, "delay notice", deliveryStatus(t, msgs[0]), "Action: delayed", "Status: 4.4.1")
	assertContains(t, "expiry bounce", deliveryStatus(t, msgs[1]), "Action: failed", "Status: 4.4.1")
}
