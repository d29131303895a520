package relay

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

const plainMail = "From: Alice <alice@example.com>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Cc: carol@example.org\r\n" +
	"Subject: Quote\r\n" +
	"Message-ID: <quote-1@example.com>\r\n" +
	"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\n" +
	"X-Folded: one\r\n two\r\n" +
	"\r\n" +
	"Dear Bob,\r\n" +
	"..a line that starts with a dot\r\n" +
	"Trailing space \r\n" +
	"Alice\r\n"

var rcpts = []string{"bob@example.org", "carol@example.org"}

// TestRelayPassesMessageUnchanged: without a policy that adds anything, the
// upstream gets the client's bytes exactly, with every DSN asked for.
func TestRelayPassesMessageUnchanged(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, nil)
	if err := submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	got := up.received()
	if len(got) != 1 {
		t.Fatalf("upstream received %d messages, want 1", len(got))
	}
	m := got[0]
	if string(m.data) != plainMail {
		t.Errorf("upstream data =\n%q\nwant the submitted bytes\n%q", m.data, plainMail)
	}
	wantEnv := EnvelopeID("quote-1@example.com")
	if m.from != "alice@example.com" || m.mailOpts.Return != smtp.DSNReturnHeaders || m.mailOpts.EnvelopeID != wantEnv {
		t.Errorf("MAIL FROM:<%s> RET=%s ENVID=%s; want alice@example.com RET=HDRS ENVID=%s", m.from, m.mailOpts.Return, m.mailOpts.EnvelopeID, wantEnv)
	}
	if !slices.Equal(m.rcpts, rcpts) {
		t.Errorf("RCPT TO = %v, want %v", m.rcpts, rcpts)
	}
	for i, o := range m.rcptOpts {
		if !slices.Equal(o.Notify, dsnNotify) || o.OriginalRecipient != rcpts[i] || o.OriginalRecipientType != smtp.DSNAddressTypeRFC822 {
			t.Errorf("RCPT %s options = %+v, want NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;%s", rcpts[i], o, rcpts[i])
		}
	}

	mails := r.reg.registered()
	if len(mails) != 1 {
		t.Fatalf("registered %d mails, want 1", len(mails))
	}
	reg := mails[0]
	want := track.Mail{
		MessageID: "quote-1@example.com", EnvelopeID: wantEnv, Account: testUser,
		Sender: "alice@example.com", SenderName: "Alice", Subject: "Quote",
		Requested: track.Requested{DSN: true},
	}
	if reg.MessageID != want.MessageID || reg.EnvelopeID != want.EnvelopeID || reg.Account != want.Account || reg.Sender != want.Sender ||
		reg.SenderName != want.SenderName || reg.Subject != want.Subject || reg.Requested != want.Requested || reg.SentAt.IsZero() {
		t.Errorf("registered %+v\nwant %+v", reg, want)
	}
	wantRcpts := []track.Recipient{{Address: "bob@example.org", Name: "Bob", Field: track.FieldTo}, {Address: "carol@example.org", Field: track.FieldCc}}
	if !slices.EqualFunc(reg.Recipients, wantRcpts, sameRecipient) {
		t.Errorf("registered recipients %+v, want %+v", reg.Recipients, wantRcpts)
	}
}

// TestRelayAddsHeaderFields: a Message-ID where there is none and a read
// receipt request when the policy wants one, in front of the header and
// nowhere else.
func TestRelayAddsHeaderFields(t *testing.T) {
	noID := strings.Replace(plainMail, "Message-ID: <quote-1@example.com>\r\n", "", 1)
	tests := []struct {
		name     string
		raw      string
		policy   ReceiptPolicy
		rcpts    []string
		wantID   bool // a Message-ID is added
		wantDNT  bool // Disposition-Notification-To is added
		receipts bool // the mail counts as asking for read receipts
	}{
		{"nothing to add", plainMail, ReceiptPolicy{}, rcpts, false, false, false},
		{"message-id missing", noID, ReceiptPolicy{}, rcpts, true, false, false},
		{"always", plainMail, ReceiptPolicy{Mode: ReceiptsAlways}, rcpts, false, true, true},
		{"internal recipients", plainMail, ReceiptPolicy{Mode: ReceiptsInternal, InternalDomains: []string{"example.org"}}, rcpts, false, true, true},
		{"an outsider", plainMail, ReceiptPolicy{Mode: ReceiptsInternal, InternalDomains: []string{"example.org"}}, append(slices.Clone(rcpts), "dave@customer.example"), false, false, false},
		{"sender asked already", "Disposition-Notification-To: alice@example.com\r\n" + plainMail, ReceiptPolicy{Mode: ReceiptsAlways}, rcpts, false, false, true},
		{"both", noID, ReceiptPolicy{Mode: ReceiptsAlways}, rcpts, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := startUpstream(t, false, nil)
			r := startRelay(t, up.addr, func(o *Options) { o.Receipts = tt.policy })
			if err := submit(t, r.addr, "alice@example.com", tt.rcpts, []byte(tt.raw), submitOpts{}); err != nil {
				t.Fatalf("submit: %v", err)
			}
			data := string(up.received()[0].data)
			prefix, ok := strings.CutSuffix(data, tt.raw)
			if !ok {
				t.Fatalf("upstream data does not end with the submitted message:\n%s", data)
			}
			reg := r.reg.registered()[0]
			var want string
			if tt.wantID {
				want += "Message-ID: <" + reg.MessageID + ">\r\n"
				if !regexp.MustCompile(`^[a-z0-9]+\.mailack@example\.com$`).MatchString(reg.MessageID) {
					t.Errorf("added Message-ID %q, want one under the sender's domain", reg.MessageID)
				}
			}
			if tt.wantDNT {
				want += "Disposition-Notification-To: <alice@example.com>\r\n"
			}
			if prefix != want {
				t.Errorf("added header fields %q, want %q", prefix, want)
			}
			if reg.Requested.ReadReceipt != tt.receipts || reg.EnvelopeID != EnvelopeID(reg.MessageID) {
				t.Errorf("registered %+v, want ReadReceipt %v and the envelope ID of its Message-ID", reg, tt.receipts)
			}
		})
	}
}

// TestUpstreamRefusalPassedBack: whatever the upstream refuses, the client
// gets the upstream's code and enhanced code, and nothing is registered.
func TestUpstreamRefusalPassedBack(t *testing.T) {
	policy := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relaying denied"}
	content := &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
	busy := &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "insufficient storage"}
	tests := []struct {
		name string
		mod  func(*fakeUpstream)
		want *smtp.SMTPError
	}{
		{"recipient refused", func(u *fakeUpstream) {
			u.rcptErr = func(to string) error {
				if to == "carol@example.org" {
					return policy
				}
				return nil
			}
		}, policy},
		{"message refused", func(u *fakeUpstream) { u.dataErr = content }, content},
		{"temporary refusal", func(u *fakeUpstream) { u.dataErr = busy }, busy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := startUpstream(t, false, tt.mod)
			r := startRelay(t, up.addr, nil)
			err := submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{})
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != tt.want.Code || se.EnhancedCode != tt.want.EnhancedCode || !strings.Contains(se.Message, tt.want.Message) {
				t.Errorf("submit error = %v, want %d %v %q", err, tt.want.Code, tt.want.EnhancedCode, tt.want.Message)
			}
			if n := len(up.received()); n != 0 {
				t.Errorf("upstream accepted %d messages, want 0", n)
			}
			if mails := r.reg.registered(); len(mails) != 0 {
				t.Errorf("registered %+v, want nothing", mails)
			}
		})
	}
}

func TestUpstreamUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := startRelay(t, addr, nil)
	err = submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 4, 1}) {
		t.Errorf("submit error = %v, want 451 4.4.1", err)
	}
	if mails := r.reg.registered(); len(mails) != 0 {
		t.Errorf("registered %+v, want nothing", mails)
	}
}

func TestAuth(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, nil)
	tests := []struct {
		name string
		o    submitOpts
		code int
		enh  smtp.EnhancedCode
	}{
		{"wrong password", submitOpts{user: testUser, password: "wrong"}, 535, smtp.EnhancedCode{5, 7, 8}},
		{"unknown user", submitOpts{user: "mallory", password: testPassword}, 535, smtp.EnhancedCode{5, 7, 8}},
		{"other user's password", submitOpts{user: testUser, password: "another password"}, 535, smtp.EnhancedCode{5, 7, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), tt.o)
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != tt.code || se.EnhancedCode != tt.enh {
				t.Errorf("submit error = %v, want %d %v", err, tt.code, tt.enh)
			}
		})
	}
	t.Run("no auth", func(t *testing.T) {
		c, err := smtp.Dial(r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		err = c.Mail("alice@example.com", nil)
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 530 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 0}) {
			t.Errorf("MAIL without AUTH: %v, want 530 5.7.0", err)
		}
	})
	if n := len(up.received()); n != 0 {
		t.Errorf("upstream accepted %d messages from unauthenticated clients", n)
	}
	bobsMail := strings.Replace(plainMail, "From: ", "From: bob@example.org\r\nX-Was-From: ", 1)
	if err := submit(t, r.addr, "bob@example.org", []string{"alice@example.com"}, []byte(bobsMail), submitOpts{user: "bob", password: "another password"}); err != nil {
		t.Errorf("second user's submit: %v", err)
	}
	// Neither the envelope nor the header may name another person.
	for name, from := range map[string]string{"envelope": "alice@example.com", "header": "bob@example.org"} {
		raw := plainMail
		if name == "envelope" {
			raw = bobsMail
		}
		err := submit(t, r.addr, from, []string{"carol@example.com"}, []byte(raw), submitOpts{user: "bob", password: "another password"})
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 553 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
			t.Errorf("bob sending as alice in the %s: %v, want 553 5.7.1", name, err)
		}
	}
}

func TestTLS(t *testing.T) {
	up := startUpstream(t, false, nil)
	srvCfg, cliCfg := testCert(t, "relay.test")
	t.Run("starttls", func(t *testing.T) {
		r := startRelay(t, up.addr, func(o *Options) { o.TLSConfig, o.AllowInsecureAuth = srvCfg, false })
		if err := submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{tlsConfig: cliCfg}); err != nil {
			t.Errorf("submit over STARTTLS: %v", err)
		}
		// Without TLS no AUTH is offered, so the password never travels in clear.
		err := submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{})
		var se *smtp.SMTPError
		if err == nil || (errors.As(err, &se) && se.Code == 235) {
			t.Errorf("AUTH without TLS = %v, want a refusal", err)
		}
	})
	t.Run("implicit", func(t *testing.T) {
		s, _ := newRelay(t, up.addr, func(o *Options) { o.TLSConfig, o.AllowInsecureAuth = srvCfg, false })
		addr := serveRelay(t, s, s.ServeTLS)
		if err := submit(t, addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{tlsConfig: cliCfg, implicit: true}); err != nil {
			t.Errorf("submit over implicit TLS: %v", err)
		}
	})
	if n := len(up.received()); n != 2 {
		t.Errorf("upstream received %d messages, want 2", n)
	}
}

// TestUpstreamTLSAndAuth: the relay reaches smarthosts over STARTTLS or
// implicit TLS, authenticating when configured; when the smarthost refuses
// the relay's own credentials, the client is told to try again later.
func TestUpstreamTLSAndAuth(t *testing.T) {
	srvCfg, cliCfg := testCert(t, "upstream.test")
	tests := []struct {
		name     string
		implicit bool
		mode     TLSMode
		password Secret
		ok       bool
	}{
		{"starttls with auth", false, TLSStartTLS, "smarthost secret", true},
		{"implicit tls with auth", true, TLSImplicit, "smarthost secret", true},
		{"wrong credentials", false, TLSStartTLS, "wrong", false},
		{"starttls not offered", true, TLSStartTLS, "smarthost secret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := startUpstream(t, false, func(u *fakeUpstream) {
				u.tls, u.implicit, u.password = srvCfg, tt.implicit, "smarthost secret"
			})
			r := startRelay(t, up.addr, func(o *Options) {
				o.Upstream.TLS, o.Upstream.TLSConfig = tt.mode, cliCfg
				o.Upstream.Username, o.Upstream.Password = "relay", tt.password
				// A relay expecting STARTTLS from an implicit-TLS server
				// waits for a greeting that never comes.
				o.Upstream.ConnectTimeout = time.Second
			})
			err := submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{})
			if tt.ok {
				if err != nil || len(up.received()) != 1 {
					t.Errorf("submit = %v, upstream got %d messages; want it relayed", err, len(up.received()))
				}
				return
			}
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 4, 1}) {
				t.Errorf("submit = %v, want 451 4.4.1", err)
			}
			if n := len(r.reg.registered()); n != 0 {
				t.Errorf("registered %d mails, want 0", n)
			}
		})
	}
}

func TestRegistrarFailureStillAccepts(t *testing.T) {
	up := startUpstream(t, false, nil)
	s, reg := newRelay(t, up.addr, nil)
	reg.err = errors.New("store: closed")
	addr := serveRelay(t, s, s.Serve)
	if err := submit(t, addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{}); err != nil {
		t.Errorf("submit = %v, want success: the upstream accepted the message", err)
	}
	if n := len(up.received()); n != 1 {
		t.Errorf("upstream received %d messages, want 1", n)
	}
}

func TestUpstreamWithoutDSN(t *testing.T) {
	up := startUpstream(t, true, nil)
	r := startRelay(t, up.addr, nil)
	if err := submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	if m := up.received()[0]; m.mailOpts.EnvelopeID != "" || string(m.data) != plainMail {
		t.Errorf("upstream without DSN got ENVID %q", m.mailOpts.EnvelopeID)
	}
	if reg := r.reg.registered(); len(reg) != 1 || reg[0].Requested.DSN {
		t.Errorf("registered %+v, want one mail with DSN not requested", reg)
	}
}

const htmlMail = "From: Alice <alice@example.com>\r\n" +
	"To: bob@example.org, carol@example.org\r\n" +
	"Subject: Quote\r\n" +
	"Message-ID: <quote-2@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Dear Bob, the quote.\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<html><body><p>Dear Bob, the quote.</p></body></html>\r\n" +
	"--b1--\r\n"

var pixelRe = regexp.MustCompile(`<img src="https://mailack\.example/o/([A-Za-z0-9_-]+)\.gif"`)

// tokenIn returns the claims of the only pixel in data.
func tokenIn(t *testing.T, data []byte) trackpixel.Claims {
	t.Helper()
	m := pixelRe.FindAllSubmatch(data, -1)
	if len(m) != 1 {
		t.Fatalf("found %d pixels, want 1:\n%s", len(m), data)
	}
	c, err := trackpixel.Verify(testPixelKeys(t), string(m[0][1]), time.Now())
	if err != nil {
		t.Fatalf("pixel token does not verify: %v", err)
	}
	return c
}

func TestPixelPerMail(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, func(o *Options) {
		o.Pixel = PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL}
	})
	if err := submit(t, r.addr, "alice@example.com", rcpts, []byte(htmlMail), submitOpts{}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	got := up.received()
	if len(got) != 1 || !slices.Equal(got[0].rcpts, rcpts) {
		t.Fatalf("upstream received %+v, want one copy for both recipients", got)
	}
	c := tokenIn(t, got[0].data)
	if c.MessageID != "quote-2@example.com" || c.Recipient != "" || c.Sender != "alice@example.com" || c.Sent.IsZero() {
		t.Errorf("pixel claims = %+v, want the mail's, shared by all recipients", c)
	}
	i := bytes.Index([]byte(htmlMail), []byte("<html>"))
	if !bytes.HasPrefix(got[0].data, []byte(htmlMail[:i])) {
		t.Errorf("bytes before the html body changed:\n%s", got[0].data)
	}
	if reg := r.reg.registered(); len(reg) != 1 || !reg[0].Requested.Pixel {
		t.Errorf("registered %+v, want Requested.Pixel", reg)
	}
}

func TestPixelPerRecipient(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, func(o *Options) {
		o.Pixel = PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL, PerRecipient: true}
	})
	if err := submit(t, r.addr, "alice@example.com", rcpts, []byte(htmlMail), submitOpts{}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	got := up.received()
	if len(got) != 2 {
		t.Fatalf("upstream received %d copies, want 2", len(got))
	}
	for i, m := range got {
		if len(m.rcpts) != 1 || m.rcpts[0] != rcpts[i] {
			t.Errorf("copy %d went to %v, want %s alone", i, m.rcpts, rcpts[i])
		}
		if c := tokenIn(t, m.data); c.Recipient != rcpts[i] || c.MessageID != "quote-2@example.com" {
			t.Errorf("copy %d pixel claims = %+v, want recipient %s", i, c, rcpts[i])
		}
		if m.mailOpts.EnvelopeID != EnvelopeID("quote-2@example.com") {
			t.Errorf("copy %d ENVID = %q, want the mail's", i, m.mailOpts.EnvelopeID)
		}
	}
	if reg := r.reg.registered(); len(reg) != 1 || len(reg[0].Recipients) != 2 {
		t.Errorf("registered %+v, want one mail with both recipients", reg)
	}
}

// TestPixelPerRecipientRefusal: a refused recipient stops every copy.
func TestPixelPerRecipientRefusal(t *testing.T) {
	refuse := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	up := startUpstream(t, false, func(u *fakeUpstream) {
		u.rcptErr = func(to string) error {
			if to == "carol@example.org" {
				return refuse
			}
			return nil
		}
	})
	r := startRelay(t, up.addr, func(o *Options) {
		o.Pixel = PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL, PerRecipient: true}
	})
	err := submit(t, r.addr, "alice@example.com", rcpts, []byte(htmlMail), submitOpts{})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != refuse.EnhancedCode {
		t.Errorf("submit error = %v, want 550 5.1.1", err)
	}
	if n := len(up.received()); n != 0 {
		t.Errorf("upstream received %d copies, want none", n)
	}
	if reg := r.reg.registered(); len(reg) != 0 {
		t.Errorf("registered %+v, want nothing", reg)
	}
}

func TestNoPixel(t *testing.T) {
	dkim := "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=x; b=y\r\n" + htmlMail
	tests := []struct {
		name string
		raw  string
		px   PixelOptions
	}{
		{"pixels off", htmlMail, PixelOptions{Keys: testPixelKeys(t), BaseURL: baseURL}},
		{"sender opted out", htmlMail, PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL, OptedOut: func(s string) bool { return s == "alice@example.com" }}},
		{"dkim signed", dkim, PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL}},
		{"plain text", plainMail, PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL, PerRecipient: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := startUpstream(t, false, nil)
			r := startRelay(t, up.addr, func(o *Options) { o.Pixel = tt.px })
			if err := submit(t, r.addr, "alice@example.com", rcpts, []byte(tt.raw), submitOpts{}); err != nil {
				t.Fatalf("submit: %v", err)
			}
			got := up.received()
			if len(got) != 1 || string(got[0].data) != tt.raw {
				t.Errorf("upstream received %d copies; want one, unchanged", len(got))
			}
			if reg := r.reg.registered(); len(reg) != 1 || reg[0].Requested.Pixel {
				t.Errorf("registered %+v, want no pixel requested", reg)
			}
		})
	}
}

// TestUntracked: reports, automatic replies and mail from the null sender
// pass unchanged, without DSN requests and without being registered.
func TestUntracked(t *testing.T) {
	mdn := "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: Read: Quote\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/html\r\n\r\n<html><body>Your message was read.</body></html>\r\n" +
		"--r\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822;alice@example.com\r\n" +
		"Original-Message-ID: <quote-2@example.com>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--r--\r\n"
	vacation := "Auto-Submitted: auto-replied\r\n" + htmlMail
	tests := []struct {
		name, from, raw string
	}{
		{"read receipt from the null sender", "", mdn},
		{"read receipt with a sender", "alice@example.com", mdn},
		{"vacation reply", "alice@example.com", vacation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := startUpstream(t, false, nil)
			r := startRelay(t, up.addr, func(o *Options) {
				o.Receipts = ReceiptPolicy{Mode: ReceiptsAlways}
				o.Pixel = PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL}
			})
			if err := submit(t, r.addr, tt.from, []string{"bob@example.org"}, []byte(tt.raw), submitOpts{}); err != nil {
				t.Fatalf("submit: %v", err)
			}
			got := up.received()
			if len(got) != 1 || string(got[0].data) != tt.raw || got[0].from != tt.from {
				t.Fatalf("upstream received %+v, want the message unchanged", got)
			}
			if got[0].mailOpts.EnvelopeID != "" || got[0].mailOpts.Return != "" || got[0].rcptOpts[0].Notify != nil {
				t.Errorf("DSN parameters %+v %+v, want none", got[0].mailOpts, got[0].rcptOpts[0])
			}
			if reg := r.reg.registered(); len(reg) != 0 {
				t.Errorf("registered %+v, want nothing", reg)
			}
		})
	}
}

// TestShutdown: idle clients are disconnected, a message in flight is
// finished and answered, and Shutdown returns once it is.
func TestShutdown(t *testing.T) {
	up := startUpstream(t, false, func(u *fakeUpstream) {
		u.dataHold = make(chan struct{})
		u.dataSeen = make(chan struct{}, 1)
	})
	r := startRelay(t, up.addr, nil)

	idle, err := smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if err := idle.Hello("idle.test"); err != nil {
		t.Fatal(err)
	}

	sent := make(chan error, 1)
	go func() { sent <- submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{}) }()
	select {
	case <-up.dataSeen:
	case <-time.After(20 * time.Second):
		t.Fatal("message never reached the upstream")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- r.Shutdown(ctx) }()

	// The idle client is disconnected while the message is still held.
	if err := idle.Noop(); err == nil {
		// The NOOP may have been answered just before the drain; the next
		// command must fail.
		deadline := time.Now().Add(10 * time.Second)
		for err == nil && time.Now().Before(deadline) {
			err = idle.Noop()
		}
		if err == nil {
			t.Errorf("idle connection still open during shutdown")
		}
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a message was in flight", err)
	default:
	}
	close(up.dataHold)
	if err := <-sent; err != nil {
		t.Errorf("message in flight: %v, want it accepted", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if n := len(r.reg.registered()); n != 1 {
		t.Errorf("registered %d mails, want 1", n)
	}
	if _, err := smtp.Dial(r.addr); err == nil {
		t.Errorf("relay still accepts connections after Shutdown")
	}
}

// TestShutdownDeadline: when Shutdown's context ends with a message still
// in flight, the upstream transaction is aborted and the client is not
// told the message was accepted.
func TestShutdownDeadline(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	up := startUpstream(t, false, func(u *fakeUpstream) {
		u.dataHold = hold
		u.dataSeen = make(chan struct{}, 1)
	})
	r := startRelay(t, up.addr, nil)
	sent := make(chan error, 1)
	go func() { sent <- submit(t, r.addr, "alice@example.com", rcpts, []byte(plainMail), submitOpts{}) }()
	select {
	case <-up.dataSeen:
	case <-time.After(20 * time.Second):
		t.Fatal("message never reached the upstream")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's deadline error", err)
	}
	if err := <-sent; err == nil {
		t.Errorf("client was told the message was accepted after its upstream transaction was aborted")
	}
	if reg := r.reg.registered(); len(reg) != 0 {
		t.Errorf("registered %+v, want nothing", reg)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Options{Receipts: ReceiptPolicy{Mode: "sometimes"}, Pixel: PixelOptions{Enabled: true}, Upstream: Upstream{Addr: "nohost", TLS: "ssl"}})
	if err == nil {
		t.Fatal("New(empty options) = nil error")
	}
	if _, err := New(Options{Users: map[string]Secret{"alice": ""}}); err == nil || !strings.Contains(err.Error(), `user "alice" has no password`) {
		t.Errorf("New with an empty password: %v", err)
	}
	for _, want := range []string{"no users", "no registrar", "upstream address", "tls mode", "no tls config", "sometimes", "pixels enabled"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q lacks %q", err, want)
		}
	}
}

func TestSecretRedacted(t *testing.T) {
	var buf bytes.Buffer
	s := Secret("hunter2")
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "password", s, "upstream", Upstream{Password: s})
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("log %q contains the secret", buf.String())
	}
	if string(s) != "hunter2" {
		t.Errorf("string(Secret) = %q", string(s))
	}
}

func sameRecipient(a, b track.Recipient) bool {
	return a.Address == b.Address && a.Name == b.Name && a.Field == b.Field
}

// TestAuthFailuresThrottled: failed logins on one connection are answered
// slowly and the third closes the connection, so passwords cannot be
// guessed at speed; a good login still works on a new connection.
func TestAuthFailuresThrottled(t *testing.T) {
	up := startUpstream(t, false, nil)
	r := startRelay(t, up.addr, func(o *Options) { o.AuthFailureDelay = 20 * time.Millisecond })
	c, err := smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	var codes []int
	for range 3 {
		err := c.Auth(sasl.NewPlainClient("", testUser, "guess"))
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			t.Fatalf("failed AUTH = %v, want an SMTP error", err)
		}
		codes = append(codes, se.Code)
	}
	if codes[0] != 535 || codes[1] != 535 || codes[2] != 421 {
		t.Errorf("replies to three bad logins = %v, want 535, 535, 421", codes)
	}
	err = c.Auth(sasl.NewPlainClient("", testUser, testPassword))
	var se *smtp.SMTPError
	if err == nil || errors.As(err, &se) && se.Code == 235 {
		t.Errorf("fourth login on the same connection = %v, want the connection closed", err)
	}
	if err := submit(t, r.addr, "alice@example.com", []string{"bob@example.org"}, []byte(plainMail), submitOpts{}); err != nil {
		t.Errorf("good login on a new connection: %v", err)
	}
}
