package pixel

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	trackpixel "github.com/mailack/mailack/track/pixel"
)

// findChromium returns the path of Debian's chromium. Without it the test
// is skipped, or fails under CI=true, where .ci/run installs it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found in PATH; .ci/run must install the Debian package chromium")
	}
	t.Skip("chromium not found in PATH; install the Debian package chromium to run this test")
	return ""
}

// renderInChromium loads url in headless Chromium and returns the DOM it
// printed once the page, images included, had loaded.
func renderInChromium(t *testing.T, bin, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--user-data-dir="+dir, "--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Chromium's helper processes may keep the pipes open after it exits.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\nstderr:\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

// mailServer serves an HTML mail body embedding the pixel of token, and
// the pixel handler itself. It records the user agent of the page request.
type mailServer struct {
	*httptest.Server
	mu sync.Mutex // guards pageUA
	// pageUA is the browser's user agent, as sent with the page.
	pageUA string
}

func newMailServer(t *testing.T, h http.Handler, token string) *mailServer {
	ms := &mailServer{}
	mux := http.NewServeMux()
	mux.Handle(trackpixel.PathPrefix, h)
	mux.HandleFunc("/mail.html", func(w http.ResponseWriter, r *http.Request) {
		ms.mu.Lock()
		ms.pageUA = r.UserAgent()
		ms.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><p>Hello Bob,</p><p>the quote is attached.</p>%s</body></html>",
			trackpixel.Snippet("http://"+r.Host, token))
	})
	ms.Server = httptest.NewServer(mux)
	t.Cleanup(ms.Close)
	return ms
}

func (ms *mailServer) userAgent() string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.pageUA
}

// TestChromiumRecordsOpen renders an HTML mail in a real browser: the
// browser fetches the pixel and exactly one open is recorded, with the
// browser's user agent; a page with a forged token records nothing.
func TestChromiumRecordsOpen(t *testing.T) {
	bin := findChromium(t)
	ks := testKeys(t)
	forgedKeys, err := trackpixel.NewKeys(trackpixel.Key{ID: 1, Secret: []byte("an attacker's guess at the secret")})
	if err != nil {
		t.Fatal(err)
	}
	// Sent an hour ago, so that no time-based rule calls the open a scanner.
	claims := trackpixel.Claims{MessageID: "quote-42@example.com", Recipient: "bob@example.org", Sender: "alice@example.com", Sent: time.Now().Add(-time.Hour)}

	tests := []struct {
		name  string
		keys  *trackpixel.Keys
		opens int
	}{
		{"valid token", ks, 1},
		{"forged token", forgedKeys, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			h, _ := newHandler(t, rec, func(o *Options) { o.Keys, o.Now = ks, time.Now })
			ms := newMailServer(t, h, mint(t, tt.keys, claims))

			dom := renderInChromium(t, bin, ms.URL+"/mail.html")
			if !strings.Contains(dom, "/o/") || !strings.Contains(dom, "<img") {
				t.Fatalf("Chromium's DOM lacks the pixel <img>:\n%s", dom)
			}
			ms.Close() // waits for the handlers, so every recording is done
			opens := rec.recorded()
			if len(opens) != tt.opens {
				t.Fatalf("recorded %d opens, want %d: %+v", len(opens), tt.opens, opens)
			}
			if tt.opens == 0 {
				return
			}
			ua := ms.userAgent()
			ev := opens[0].Evidence
			if !strings.Contains(ua, "Chrome/") || ev.UserAgent != ua {
				t.Errorf("open's user agent = %q, want Chromium's %q", ev.UserAgent, ua)
			}
			if ev.MessageID != claims.MessageID || ev.Recipient != claims.Recipient || ev.Machine || opens[0].Verdict != trackpixel.VerdictHuman {
				t.Errorf("open = %+v (verdict %v), want a human open of %s by %s", ev, opens[0].Verdict, claims.MessageID, claims.Recipient)
			}
		})
	}
}
