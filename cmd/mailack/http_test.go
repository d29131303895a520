package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/track"
)

const (
	adminToken   = "admin-0123456789abcdefghijklmnop"
	metricsToken = "metrics-0123456789abcdefghijklm"
)

// runningDaemon is a daemon built and run in the test process, as `mailack
// run` would, with its log captured.
type runningDaemon struct {
	d    *daemon
	url  string
	logs *syncBuffer
}

// runDaemon loads yaml (its secrets from vars), builds the daemon and runs
// it until the test ends.
func runDaemon(t *testing.T, yaml string, vars map[string]string) *runningDaemon {
	t.Helper()
	return runDaemonWith(t, yaml, vars, nil)
}

// runDaemonWith is runDaemon with mod applied to the daemon before it runs.
func runDaemonWith(t *testing.T, yaml string, vars map[string]string, mod func(*daemon)) *runningDaemon {
	t.Helper()
	cfg, err := config.Parse("mailack.yaml", []byte(yaml), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	d, err := newDaemon(ctx, cfg, log, time.Now)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if mod != nil {
		mod(d)
	}
	done := make(chan error, 1)
	go func() { done <- d.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon run: %v", err)
		}
	})
	return &runningDaemon{d: d, url: "http://" + d.listener.Addr().String(), logs: logs}
}

// do sends a GET for path with the given Authorization header (none when
// empty) and returns the status and body.
func (rd *runningDaemon) do(t *testing.T, path, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rd.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	// What a reverse proxy on the same host adds: it must count for nothing.
	req.Header.Set("X-Forwarded-For", "127.0.0.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// pixelOnly turns on the pixel, its key in a file in dir, so that a
// configuration without mailboxes is a whole one (the daemon then serves
// only HTTP). It goes after an http section, which it continues.
func pixelOnly(t *testing.T, dir string) string {
	t.Helper()
	key := filepath.Join(dir, "pixel.key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return "  public_url: https://mailack.test.example\npixel:\n  enabled: true\n  keys:\n    - id: 1\n      secret_file: " + key + "\n"
}

func tokenConfig(t *testing.T, dir string) string {
	return fmt.Sprintf("store:\n  path: %s\nhttp:\n  listen: 127.0.0.1:0\n  admin_token: ${ADMIN}\n  metrics_token: ${METRICS}\n",
		filepath.Join(dir, "mailack.db")) + pixelOnly(t, dir)
}

// TestHTTPAuthentication is the attack on /backup, /export and /metrics
// from loopback (what every request is behind a reverse proxy on the same
// host): without the right token nothing is served; the metrics token
// opens /metrics only; the admin token opens all three.
func TestHTTPAuthentication(t *testing.T) {
	rd := runDaemon(t, tokenConfig(t, t.TempDir()), map[string]string{"ADMIN": adminToken, "METRICS": metricsToken})
	for _, path := range []string{"/backup", "/export", "/metrics"} {
		for _, auth := range []string{"", "Bearer ", "Bearer wrong-token-0123456789abcdef", "Bearer " + adminToken + "x",
			"Bearer " + adminToken[:len(adminToken)-1], "Basic " + basic("admin", "guess"), "bearer " + adminToken} {
			if code, body := rd.do(t, path, auth); code != http.StatusUnauthorized {
				t.Errorf("GET %s with %q = %d %.80q, want 401", path, auth, code, body)
			}
		}
	}
	for _, path := range []string{"/backup", "/export"} {
		if code, _ := rd.do(t, path, "Bearer "+metricsToken); code != http.StatusUnauthorized {
			t.Errorf("GET %s with the metrics token = %d, want 401", path, code)
		}
	}
	if code, body := rd.do(t, "/metrics", "Bearer "+metricsToken); code != 200 || !strings.Contains(body, "mailack_mails_registered_total") {
		t.Errorf("GET /metrics with the metrics token = %d %.200q", code, body)
	}
	if code, _ := rd.do(t, "/metrics", "Basic "+basic("prometheus", metricsToken)); code != 200 {
		t.Errorf("GET /metrics with basic auth = %d, want 200", code)
	}
	if code, body := rd.do(t, "/backup", "Bearer "+adminToken); code != 200 || len(body) < 4096 {
		t.Errorf("GET /backup with the admin token = %d, %d bytes; want the database", code, len(body))
	}
	if code, body := rd.do(t, "/export", "Bearer "+adminToken); code != 200 || !strings.HasPrefix(strings.TrimSpace(body), "{") {
		t.Errorf("GET /export with the admin token = %d %.80q; want JSON", code, body)
	}
	checkNoSecrets(t, rd, adminToken, metricsToken)
}

// TestHTTPEndpointsOffWithoutTokens: with no token configured, /backup,
// /export and /metrics are refused to everyone, loopback included.
func TestHTTPEndpointsOffWithoutTokens(t *testing.T) {
	dir := t.TempDir()
	rd := runDaemon(t, fmt.Sprintf("store:\n  path: %s\nhttp:\n  listen: 127.0.0.1:0\n", filepath.Join(dir, "m.db"))+pixelOnly(t, dir), nil)
	for _, path := range []string{"/backup", "/export", "/metrics"} {
		if code, body := rd.do(t, path, ""); code != http.StatusForbidden || !strings.Contains(body, "http.") {
			t.Errorf("GET %s = %d %q, want 403 naming the setting", path, code, body)
		}
	}
	if code, _ := rd.do(t, "/healthz", ""); code != 200 {
		t.Errorf("GET /healthz = %d, want 200", code)
	}
}

func basic(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// checkNoSecrets fails if a secret shows in the daemon's log, its metrics
// or its public replies.
func checkNoSecrets(t *testing.T, rd *runningDaemon, secrets ...string) {
	t.Helper()
	_, metrics := rd.do(t, "/metrics", "Bearer "+adminToken)
	_, ready := rd.do(t, "/readyz", "Bearer "+adminToken)
	_, readyPublic := rd.do(t, "/readyz", "")
	for _, s := range secrets {
		for what, text := range map[string]string{"log": rd.logs.String(), "metrics": metrics, "readyz": ready + readyPublic} {
			if strings.Contains(text, s) {
				t.Errorf("the %s contains a secret (%.6s…)", what, s)
			}
		}
	}
}

// TestReadyzHidesDetails: an account whose IMAP login fails keeps the
// daemon not ready; anyone sees only "not ready", and the reason (which
// names the account and the server's answer) only with a token. The IMAP
// password never shows.
func TestReadyzHidesDetails(t *testing.T) {
	s := mailstack.Start(t)
	host, port, _ := strings.Cut(s.IMAPAddr(), ":")
	yaml := tokenConfig(t, t.TempDir()) + fmt.Sprintf("accounts:\n  - name: alice\n    host: %s\n    port: %s\n    tls: insecure\n"+
		"    username: alice\n    owner: alice@%s\n    password: ${IMAP}\n", host, port, s.Domain())
	const wrongPassword = "wrong-imap-password-4242"
	rd := runDaemon(t, yaml, map[string]string{"ADMIN": adminToken, "METRICS": metricsToken, "IMAP": wrongPassword})
	waitUntil(t, "the failed login in the account status", 20*time.Second, func() bool {
		for _, st := range rd.d.watcher.Status() {
			if st.LastError != "" {
				return true
			}
		}
		return false
	})
	code, public := rd.do(t, "/readyz", "")
	if code != http.StatusServiceUnavailable || public != "not ready\n" {
		t.Errorf("public /readyz = %d %q, want 503 \"not ready\" and nothing else", code, public)
	}
	code, detail := rd.do(t, "/readyz", "Bearer "+metricsToken)
	if code != http.StatusServiceUnavailable || !strings.Contains(detail, "account alice") {
		t.Errorf("/readyz with the metrics token = %d %q, want 503 naming account alice", code, detail)
	}
	checkNoSecrets(t, rd, adminToken, metricsToken, wrongPassword)
}

// TestReadyzStoreWriteFailure: when the disk is full and store writes fail,
// /readyz goes not ready and says why (to a caller with a token). The
// store lives on a small tmpfs that the test fills; it needs root to
// mount one.
func TestReadyzStoreWriteFailure(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	rd := runDaemon(t, tokenConfig(t, dir), map[string]string{"ADMIN": adminToken, "METRICS": metricsToken})
	if code, body := rd.do(t, "/readyz", ""); code != 200 {
		t.Fatalf("/readyz before the disk is full = %d %q", code, body)
	}
	fillDisk(t, filepath.Join(dir, "filler"))
	var err error
	subject := strings.Repeat("件名", 2000)
	for i := 0; err == nil && i < 10000; i++ {
		m := track.Mail{MessageID: fmt.Sprintf("<fill-%d@example.com>", i), Sender: "alice@example.com", Subject: subject,
			SentAt: time.Now(), Recipients: []track.Recipient{{Address: "bob@example.org", Field: track.FieldTo}}}
		err = rd.d.reg.RegisterMail(context.Background(), m)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("registering on a full disk = %v, want ENOSPC", err)
	}
	code, public := rd.do(t, "/readyz", "")
	if code != http.StatusServiceUnavailable || public != "not ready\n" {
		t.Errorf("public /readyz with failing writes = %d %q, want 503 \"not ready\"", code, public)
	}
	if _, detail := rd.do(t, "/readyz", "Bearer "+adminToken); !strings.Contains(detail, "store: last write failed") ||
		!strings.Contains(detail, "no space left") {
		t.Errorf("/readyz details = %q, want the failed write", detail)
	}
	// Space again: the next write commits and the daemon is ready again.
	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	m := track.Mail{MessageID: "<after@example.com>", Sender: "alice@example.com", SentAt: time.Now(),
		Recipients: []track.Recipient{{Address: "bob@example.org", Field: track.FieldTo}}}
	if err := rd.d.reg.RegisterMail(context.Background(), m); err != nil {
		t.Fatalf("register after freeing space: %v", err)
	}
	if code, body := rd.do(t, "/readyz", ""); code != 200 {
		t.Errorf("/readyz after a write committed = %d %q, want 200", code, body)
	}
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := bytes.Repeat([]byte{'x'}, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill disk: %v", err)
			}
			return
		}
	}
}

// TestMetricsLabelsBounded: replies to slash commands go to response_url
// addresses whose path ends in a live token; the metric counts them under
// one bounded label and the token never appears.
func TestMetricsLabelsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }))
	defer srv.Close()
	m := newMetrics()
	c := &http.Client{Transport: &slackMetrics{next: http.DefaultTransport, m: m}}
	var tokens []string
	for i := range 50 {
		tok := fmt.Sprintf("96rGlfmibIGlgcZRskXaIF%02d", i)
		tokens = append(tokens, tok)
		for _, u := range []string{srv.URL + "/commands/T1DC2JH3J/3977008855" + fmt.Sprint(i) + "/" + tok,
			srv.URL + "/actions/T1DC2JH3J/3977/" + tok, srv.URL + "/api/" + tok, srv.URL + "/api/chat.postMessage"} {
			resp, err := c.Post(u, "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "mailack_slack_calls_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				for _, tok := range tokens {
					if strings.Contains(l.GetValue(), tok) {
						t.Errorf("label %s=%q holds a response_url token", l.GetName(), l.GetValue())
					}
				}
				if l.GetName() == "method" {
					methods[l.GetValue()] += mt.GetCounter().GetValue()
				}
			}
		}
	}
	want := map[string]float64{"response_url": 100, "other": 50, "chat.postMessage": 50}
	if fmt.Sprint(methods) != fmt.Sprint(want) {
		t.Errorf("calls by method = %v, want %v", methods, want)
	}
}

// TestHTTPSlowAndIdleClientsCut is the slow-client attack: connections
// that send nothing, half a header, or one request and then idle, are all
// closed by the daemon once its limits pass (shortened here), and a
// header over the size limit is refused.
func TestHTTPSlowAndIdleClientsCut(t *testing.T) {
	rd := runDaemonWith(t, tokenConfig(t, t.TempDir()), map[string]string{"ADMIN": adminToken, "METRICS": metricsToken}, func(d *daemon) {
		d.httpLimits.ReadHeader, d.httpLimits.Read, d.httpLimits.Idle = 300*time.Millisecond, 600*time.Millisecond, 300*time.Millisecond
	})
	addr := strings.TrimPrefix(rd.url, "http://")
	const each = 30
	var conns []net.Conn
	for i := range 3 * each {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		switch i % 3 {
		case 1: // half a header, never finished
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		case 2: // one request, then idle on the kept-alive connection
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		// Each read ends when the server closes the connection; a daemon
		// that never did would leave it blocked until this deadline.
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection %d (kind %d) still open after 30 s", i, i%3)
		}
	}
	big := strings.Repeat("x", 64<<10)
	req, _ := http.NewRequest(http.MethodGet, rd.url+"/healthz", nil)
	req.Header.Set("X-Big", big)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 64 KiB header = %d, want 431", resp.StatusCode)
	}
}

// TestExportAndBackupWhileRunning: `mailack export --config` and `mailack
// backup --config` work while the daemon holds the database, through its
// /export and /backup with the admin token; with a wrong token the daemon
// refuses and the command fails.
func TestExportAndBackupWhileRunning(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "mailack.yaml")
	writeConfig := func(addrs ...string) {
		cfg := fmt.Sprintf("store:\n  path: %s\nhttp:\n  listen: %s\n  admin_token: ${%s}\n", filepath.Join(dir, "mailack.db"), addrs[0], testTokenEnv) + pixelOnly(t, dir)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := startDaemonOnFreePorts(t, bin, cfgPath, nil, writeConfig, 1)
	run := func(token string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), testTokenEnv+"="+token)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String() + errOut.String(), err
	}
	out, err := run(testAdminToken, "export", "--json", "--config", cfgPath)
	if err != nil || !strings.Contains(out, `"mails"`) {
		t.Fatalf("export while the daemon runs = %v\n%s", err, out)
	}
	dest := filepath.Join(dir, "copy.db")
	if out, err := run(testAdminToken, "backup", "--config", cfgPath, dest); err != nil || !strings.Contains(out, "from the running daemon") {
		t.Fatalf("backup while the daemon runs = %v\n%s", err, out)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Size() == 0 {
		t.Errorf("backup file: %v", err)
	}
	wrong := "wrong-token-0123456789abcdefghij"
	if out, err := run(wrong, "export", "--json", "--config", cfgPath); err == nil || !strings.Contains(out, "401") {
		t.Errorf("export with a wrong token = %v\n%s; want the daemon's 401", err, out)
	}
	if strings.Contains(p.log(), testAdminToken) || strings.Contains(p.log(), wrong) {
		t.Errorf("the daemon's log shows a token:\n%s", p.log())
	}
	p.stop(t)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
