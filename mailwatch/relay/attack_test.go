package relay

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

// TestForgedFromRefused is the sender-forging attack against the relay in
// front of a real Postfix: logged in as bob, who may send only as himself,
// each variant tries to deliver a message that carol's mail program would
// show as coming from someone else. Every one is refused with a permanent
// error before anything reaches Postfix; bob's own message, sent last,
// arrives, and carol's inbox holds nothing else.
func TestForgedFromRefused(t *testing.T) {
	st := mailstack.Start(t)
	bob, carol, ceo := st.Address("bob"), st.Address("carol"), "ceo@"+st.Domain()
	r := startRelay(t, st.SMTPAddr(), func(o *Options) {
		o.Senders = map[string][]string{"bob": {bob}}
	})
	const body = "Subject: Urgent transfer\r\nTo: " + "%s" + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nPlease wire the money today.\r\n"
	to := fmt.Sprintf(body, carol)
	report := "MIME-Version: 1.0\r\nTo: " + carol + "\r\nSubject: Read: Urgent\r\n" +
		"Content-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/plain\r\n\r\nWire the money today.\r\n" +
		"--r\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822;" + bob + "\r\n" +
		"Disposition: manual-action/MDN-sent-manually; displayed\r\n--r--\r\n"
	tests := []struct {
		name, envelope, raw string
	}{
		{"plain forged From", bob, "From: CEO <" + ceo + ">\r\n" + to},
		{"null sender", "", "From: CEO <" + ceo + ">\r\n" + to},
		{"Auto-Submitted", bob, "From: CEO <" + ceo + ">\r\nAuto-Submitted: auto-generated\r\n" + to},
		{"null sender and Auto-Submitted", "", "From: CEO <" + ceo + ">\r\nAuto-Submitted: auto-replied\r\n" + to},
		{"multipart/report", bob, "From: CEO <" + ceo + ">\r\n" + report},
		{"two From fields, own first", bob, "From: " + bob + "\r\nFrom: CEO <" + ceo + ">\r\n" + to},
		{"two From fields, forged first", bob, "From: CEO <" + ceo + ">\r\nFrom: " + bob + "\r\n" + to},
		{"From list", bob, "From: " + bob + ", CEO <" + ceo + ">\r\n" + to},
		{"folded From list", bob, "From: Bob <" + bob + ">,\r\n CEO <" + ceo + ">\r\n" + to},
		{"unparseable From", bob, "From: CEO <" + ceo + "\r\n" + to},
		{"no From", bob, to},
		{"Resent-From only", bob, "Resent-From: CEO <" + ceo + ">\r\n" + to},
		{"Resent-From beside own From", bob, "From: " + bob + "\r\nResent-From: CEO <" + ceo + ">\r\n" + to},
		{"Sender beside own From", bob, "From: " + bob + "\r\nSender: " + ceo + "\r\n" + to},
		{"obsolete space before the colon", bob, "From: " + bob + "\r\nFrom : CEO <" + ceo + ">\r\n" + to},
		{"forged envelope", ceo, "From: " + bob + "\r\n" + to},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := submit(t, r.addr, tt.envelope, []string{carol}, []byte(tt.raw), submitOpts{user: "bob", password: "another password"})
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code/100 != 5 {
				t.Fatalf("submit = %v, want a permanent refusal", err)
			}
		})
	}
	if n := len(r.reg.registered()); n != 0 {
		t.Errorf("registered %d forged mails, want none", n)
	}
	own := "From: Bob <" + bob + ">\r\n" + to
	if err := submit(t, r.addr, bob, []string{carol}, []byte(own), submitOpts{user: "bob", password: "another password"}); err != nil {
		t.Fatalf("bob's own message: %v", err)
	}
	st.WaitForMessages(t, "carol", "INBOX", 1, 20*time.Second)
	for _, m := range st.Messages(t, "carol", "INBOX") {
		if strings.Contains(strings.ToLower(string(m)), strings.ToLower(ceo)) {
			t.Errorf("carol received a message naming %s:\n%.400s", ceo, m)
		}
	}
}

// TestUTF8RecipientPermanent: a recipient address that is not ASCII,
// without SMTPUTF8 (which the relay does not offer), is refused for good
// with 553 5.6.7 (RFC 6531 §3.5), not deferred.
func TestUTF8RecipientPermanent(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, nil)
	err := submit(t, r.addr, "alice@example.com", []string{"山田@example.com"}, []byte(plainMail), submitOpts{})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 553 || se.EnhancedCode != (smtp.EnhancedCode{5, 6, 7}) {
		t.Fatalf("submit to a UTF-8 address = %v, want 553 5.6.7", err)
	}
	if got := up.received(); len(got) != 0 {
		t.Errorf("upstream received %d messages, want none", len(got))
	}
}

// TestAuthFailuresPerAddress: failed logins spread over many connections
// from one address shut that address out, also for the right password,
// until the window passes.
func TestAuthFailuresPerAddress(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, func(o *Options) {
		o.AuthFailureDelay = time.Millisecond
		o.MaxAddrFailures = 4
	})
	for i := range 4 {
		c := dialHello(t, r.addr)
		if err := c.Auth(sasl.NewPlainClient("", testUser, "guess")); !isCode(err, 535) {
			t.Fatalf("guess %d = %v, want 535", i, err)
		}
		c.Close()
	}
	c := dialHello(t, r.addr)
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", testUser, testPassword)); !isCode(err, 421) {
		t.Fatalf("login after 4 failures from the address = %v, want 421", err)
	}
}

// TestAuthGlobalRate: 40 parallel connections, one guess each, get their
// passwords checked no faster than the global rate: the guesses are
// answered over about (40-burst)/rate seconds, not at once.
func TestAuthGlobalRate(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, func(o *Options) {
		o.AuthFailureDelay = time.Millisecond
		o.MaxAddrFailures = 1000
		o.AuthRate, o.AuthBurst = 50, 10
	})
	const n = 40
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			c, err := smtp.Dial(r.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			errs <- c.Auth(sasl.NewPlainClient("", testUser, "guess"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !isCode(err, 535) {
			t.Fatalf("guess = %v, want 535", err)
		}
	}
	// 30 checks beyond the burst at 50/s take at least 0.6 s; the limiter
	// is exact, so this holds on any machine, however slow.
	if el := time.Since(start); el < 600*time.Millisecond {
		t.Errorf("40 parallel guesses answered in %v, want the global rate to spread them over at least 600ms", el)
	}
}

// TestMaxConnections: a client over the connection cap is greeted with 421
// and disconnected; once a slot is free, clients are served again.
func TestMaxConnections(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, func(o *Options) { o.MaxConnections = 2 })
	var held []*smtp.Client
	for range 2 {
		held = append(held, dialHello(t, r.addr))
	}
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 128)
	n, _ := conn.Read(buf)
	conn.Close()
	if !strings.HasPrefix(string(buf[:n]), "421 4.7.0") {
		t.Fatalf("third connection greeted with %q, want 421 4.7.0", buf[:n])
	}
	held[0].Quit()
	held[0].Close()
	waitFor(t, "a free slot", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.conns) < 2
	})
	if err := submit(t, r.addr, "alice@example.com", []string{"bob@example.org"}, []byte(plainMail), submitOpts{}); err != nil {
		t.Errorf("submit after a slot freed: %v", err)
	}
	held[1].Close()
}

func dialHello(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

func isCode(err error, code int) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code == code
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
