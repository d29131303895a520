package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/mailwatch/mailstack"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var pixelURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/o/[A-Za-z0-9_-]+\.gif`)

// TestDaemonRelayAndPixel submits a mail through the daemon's tracking
// relay to Postfix: the relay registers it and asks for every DSN, the
// success notice and the bounce Postfix sends back are correlated by
// envelope ID, and fetching the pixel in the delivered copy (one copy per
// recipient, so the pixel names its reader) records an open.
func TestDaemonRelayAndPixel(t *testing.T) {
	s := mailstack.Start(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	host, port, _ := strings.Cut(s.IMAPAddr(), ":")
	cfgPath := filepath.Join(dir, "mailack.yaml")
	writeConfig := func(addrs ...string) {
		httpAddr, relayAddr := addrs[0], addrs[1]
		cfg := fmt.Sprintf(`log:
  level: debug
store:
  path: %s
http:
  listen: %s
  public_url: http://%s
  admin_token: ${`+testTokenEnv+`}
pixel:
  enabled: true
  keys:
    - id: 1
      secret: ${PIXEL_KEY}
relay:
  enabled: true
  listen: %s
  tls: none
  hostname: relay.test.example
  users:
    - name: alice@test.example
      password: ${RELAY_PW}
  upstream:
    addr: %s
    tls: none
  read_receipts: internal
  internal_domains: [test.example]
  pixel_per_recipient: true
accounts:
  - name: alice
    host: %s
    port: %s
    tls: insecure
    username: alice
    owner: alice@test.example
    password: ${IMAP_PW}
`, filepath.Join(dir, "mailack.db"), httpAddr, httpAddr, relayAddr, s.SMTPAddr(), host, port)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PIXEL_KEY=" + strings.Repeat("p", 32), "RELAY_PW=relay-secret", "IMAP_PW=" + s.Password("alice")}
	p, addrs := startDaemonOnFreePorts(t, bin, cfgPath, env, writeConfig, 2)
	httpAddr, relayAddr := addrs[0], addrs[1]

	c, err := smtp.Dial(relayAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "alice@test.example", "relay-secret")); err != nil {
		t.Fatalf("relay AUTH: %v", err)
	}
	msg := "From: alice@test.example\r\nTo: bob@test.example, nosuch@test.example\r\nSubject: Invoice\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<html><body><p>Invoice attached.</p></body></html>\r\n"
	if err := c.SendMail("alice@test.example", []string{"bob@test.example", "nosuch@test.example"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("submit through the relay: %v", err)
	}
	// The relay minted the pixels, with their sending time, before the
	// submission ended.
	submitted := time.Now()
	waitUntil(t, "the success notice and the bounce", 20*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="applied"}`) >= 2
	})

	s.WaitForMessages(t, "bob", "INBOX", 1, 10*time.Second)
	copyOfBob := string(s.Messages(t, "bob", "INBOX")[0])
	if !strings.Contains(copyOfBob, "Disposition-Notification-To: <alice@test.example>") {
		t.Errorf("bob's copy lacks the read-receipt request for an internal recipient:\n%.600s", copyOfBob)
	}
	u := pixelURL.FindString(strings.ReplaceAll(copyOfBob, "=\r\n", ""))
	if u == "" {
		t.Fatalf("no pixel in bob's copy:\n%s", copyOfBob)
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0")
	// A fetch within DefaultEarlyFetch of sending counts as a security
	// scanner (track/pixel/rules.go); bob's fetch must come after that.
	waitUntil(t, "the early-fetch window to pass", 2*trackpixel.DefaultEarlyFetch, func() bool {
		return time.Since(submitted) > trackpixel.DefaultEarlyFetch
	})
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("pixel GET = %v %v", resp, err)
	}
	resp.Body.Close()
	// The image is sent before the fetch is recorded.
	waitUntil(t, "bob's open recorded", 10*time.Second, func() bool {
		return strings.Contains(p.log(), `msg="open recorded"`)
	})
	forged, _ := http.Get("http://" + httpAddr + "/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.gif")
	if forged == nil || forged.StatusCode != 200 {
		t.Fatalf("forged pixel did not get the image: %v", forged)
	}
	forged.Body.Close()
	// The replay attack: the same URL fetched again and again is one open.
	const replays = 300
	for range replays {
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("replayed pixel GET = %v %v", resp, err)
		}
		resp.Body.Close()
	}
	waitUntil(t, "every replay counted", 20*time.Second, func() bool {
		return p.metric(`mailack_pixel_hits_total{result="duplicate"}`)+p.metric(`mailack_pixel_hits_total{result="dropped"}`) == replays
	})
	if n := p.metric(`mailack_pixel_hits_total{result="recorded"}`); n != 1 {
		t.Errorf("pixel hits recorded = %v, want 1", n)
	}
	p.stop(t)
	for _, secret := range []string{"relay-secret", strings.Repeat("p", 32), s.Password("alice"), testAdminToken} {
		if strings.Contains(p.log(), secret) {
			t.Errorf("the daemon's log shows a secret (%.4s…)", secret)
		}
	}

	ex := exportDB(t, bin, filepath.Join(dir, "mailack.db"))
	status := ex.statuses(t)
	if ex.Mails[0].Mail.EnvelopeID == "" {
		t.Fatalf("mail = %+v, want the relayed mail with its envelope ID", ex.Mails[0].Mail)
	}
	if status["nosuch@test.example"] != "failed" || status["bob@test.example"] != "opened" {
		t.Errorf("statuses = %v, want nosuch failed and bob opened (delivered, then the pixel)", status)
	}
	sources := map[string]int{}
	for _, e := range ex.Mails[0].Evidence {
		sources[e.Source]++
	}
	if sources["dsn"] != 2 || sources["pixel"] != 1 {
		t.Errorf("evidence sources = %v, want 2 dsn and 1 pixel (the forged fetch and the replays record nothing)", sources)
	}
}
