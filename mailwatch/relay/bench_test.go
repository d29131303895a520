package relay

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

// sendDirect submits raw straight to Postfix with the DSN parameters the
// relay would use, one connection per message as the relay has.
func sendDirect(b *testing.B, addr, from, to string, raw []byte) {
	b.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		b.Fatal(err)
	}
	if err := c.Mail(from, &smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: EnvelopeID("bench@test.example")}); err != nil {
		b.Fatal(err)
	}
	if err := c.Rcpt(to, &smtp.RcptOptions{Notify: dsnNotify, OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: to}); err != nil {
		b.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRelay submits the same HTML mail b.N times straight to Postfix
// and b.N times through the relay (AUTH, pixel injection, upstream
// session, registration) in the same run, and reports the time per
// message of each and their ratio.
func BenchmarkRelay(b *testing.B) {
	st := mailstack.Start(b)
	reg := &fakeRegistrar{}
	s, err := New(Options{
		Hostname:          "relay.test",
		AllowInsecureAuth: true,
		Users:             map[string]Secret{testUser: testPassword},
		Senders:           map[string][]string{testUser: {"@test.example"}},
		Upstream:          Upstream{Addr: st.SMTPAddr(), TLS: TLSNone},
		Registrar:         reg,
		Pixel:             PixelOptions{Enabled: true, Keys: testPixelKeys(b), BaseURL: baseURL},
		Logger:            slog.New(slog.DiscardHandler),
		// Every message logs in on a new connection: the global login rate
		// would measure itself, not the relay.
		AuthRate: 1e6, AuthBurst: 1e6,
	})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	defer func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	alice, bob := st.Address("alice"), st.Address("bob")
	raw := []byte("From: " + alice + "\r\nTo: " + bob + "\r\nSubject: bench\r\nMessage-ID: <bench@test.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello Bob</p></body></html>\r\n")

	relay := func() {
		if err := submit(b, ln.Addr().String(), alice, []string{bob}, raw, submitOpts{}); err != nil {
			b.Fatal(err)
		}
	}
	// Postfix starts its smtpd processes on demand: warm it up, then
	// alternate, so that both paths see the same state of the stack.
	const warmup = 20
	for range warmup {
		sendDirect(b, st.SMTPAddr(), alice, bob, raw)
		relay()
	}
	b.ResetTimer()
	var direct, relayed time.Duration
	for range b.N {
		t0 := time.Now()
		sendDirect(b, st.SMTPAddr(), alice, bob, raw)
		t1 := time.Now()
		relay()
		direct, relayed = direct+t1.Sub(t0), relayed+time.Since(t1)
	}
	b.StopTimer()
	if n := len(reg.registered()); n != b.N+warmup {
		b.Fatalf("registered %d mails, want %d", n, b.N+warmup)
	}
	perMsg := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(perMsg(direct), "direct-ms/msg")
	b.ReportMetric(perMsg(relayed), "relay-ms/msg")
	b.ReportMetric(float64(relayed)/float64(direct), "relay/direct")
}
