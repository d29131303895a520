package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/mailwatch/mailstack"
)

// buildBinary builds the mailack command once per test binary run.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mailack")
	// go test puts its own GOROOT/bin first on the test's PATH.
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// daemonProc is a running `mailack run`.
type daemonProc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex // guards logs
	logs bytes.Buffer
	done chan error
}

func (p *daemonProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// The admin token the full-stack daemons run with, from this environment
// variable (startDaemon sets it).
const (
	testAdminToken = "test-admin-token-0123456789abcdef"
	testTokenEnv   = "MAILACK_TEST_ADMIN_TOKEN"
)

var listenLine = regexp.MustCompile(`msg="mailack starting".* http=(\S+)`)

// slackSection is the configuration's slack section for a daemon that
// talks to the Slack fake at apiURL in HTTP mode, with the secrets of
// slackDaemonEnv.
func slackSection(apiURL string) string {
	return "slack:\n  enabled: true\n  mode: http\n  bot_token: ${SLACK_BOT_TOKEN}\n  signing_secret: ${SLACK_SIGNING_SECRET}\n  api_url: " + apiURL + "/\n"
}

// slackDaemonEnv is the environment of a daemon configured by
// writeDaemonConfig and slackSection: the IMAP password and Slack's secrets.
func slackDaemonEnv(imapPassword string) []string {
	return []string{"MAILACK_TEST_PASSWORD=" + imapPassword, "SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5"}
}

func startDaemon(t testing.TB, bin, cfgPath string, env []string) *daemonProc {
	t.Helper()
	p, err := tryStartDaemon(t, bin, cfgPath, env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// errAddrInUse marks a daemon that exited at start because a port in its
// configuration was taken.
var errAddrInUse = errors.New("address already in use")

// startDaemonOnFreePorts starts a daemon whose configuration needs ports
// known in advance (a public URL, a relay address). A port picked free can
// be taken by another process before the daemon binds it, so the start is
// retried with new ports a few times.
func startDaemonOnFreePorts(t testing.TB, bin, cfgPath string, env []string, writeConfig func(addrs ...string), ports int) (*daemonProc, []string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addrs := make([]string, ports)
		for i := range addrs {
			addrs[i] = freePort(t)
		}
		writeConfig(addrs...)
		p, err := tryStartDaemon(t, bin, cfgPath, env)
		if err == nil {
			return p, addrs
		}
		if !errors.Is(err, errAddrInUse) || attempt == 5 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; trying other ports", attempt, err)
	}
}

func tryStartDaemon(t testing.TB, bin, cfgPath string, env []string) (*daemonProc, error) {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Env = append(append(os.Environ(), testTokenEnv+"="+testAdminToken), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &daemonProc{cmd: cmd, done: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listenLine.FindStringSubmatch(line); m != nil {
				addrc <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case p.addr = <-addrc:
	case err := <-p.done:
		if strings.Contains(p.log(), "address already in use") {
			return nil, fmt.Errorf("daemon exited at start: %v: %w\n%s", err, errAddrInUse, p.log())
		}
		return nil, fmt.Errorf("daemon exited at start: %v\n%s", err, p.log())
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("daemon did not start:\n%s", p.log())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", p.log())
		}
	})
	return p, nil
}

func (p *daemonProc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("daemon exited with %v after SIGTERM", err)
		}
		if !strings.Contains(p.log(), "mailack stopped") {
			t.Errorf("daemon did not log a clean stop")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop within 20 s of SIGTERM")
	}
}

// get fetches path from the daemon with the admin token.
func (p *daemonProc) get(path string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of a metric line (name with labels) or -1.
func (p *daemonProc) metric(name string) float64 {
	_, body := p.get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return -1
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool, onFail ...func()) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			for _, f := range onFail {
				f()
			}
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeDaemonConfig(t *testing.T, s *mailstack.Stack, dir string, extra ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(s.IMAPAddr(), ":")
	cfg := fmt.Sprintf(`log:
  level: debug
store:
  path: %s
tracking:
  sweep_interval: 1s
http:
  listen: 127.0.0.1:0
  admin_token: ${`+testTokenEnv+`}
accounts:
  - name: alice
    host: %s
    port: %s
    tls: insecure
    username: alice
    owner: alice@%s
    password: ${MAILACK_TEST_PASSWORD}
`, filepath.Join(dir, "mailack.db"), host, port, s.Domain()) + strings.Join(extra, "")
	path := filepath.Join(dir, "mailack.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// exported is what `mailack export --json` prints, as far as the tests
// read it.
type exported struct {
	Mails []struct {
		Mail struct {
			MessageID  string
			EnvelopeID string
			Recipients []struct {
				Address string
				Status  string
			}
		} `json:"mail"`
		Evidence []struct{ ID, Source string } `json:"evidence"`
	} `json:"mails"`
}

// exportDB runs `mailack export --json` on a stopped daemon's database.
func exportDB(t *testing.T, bin, db string) exported {
	t.Helper()
	var ex exported
	exportInto(t, bin, db, &ex)
	return ex
}

// exportInto runs `mailack export --json` on a stopped daemon's database
// and decodes what it prints into v.
func exportInto(t *testing.T, bin, db string, v any) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, "export", "--json", "--db", db)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("export: %v", err)
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, out.String())
	}
}

// statuses maps each recipient of the export's only mail to its status.
func (ex exported) statuses(t *testing.T) map[string]string {
	t.Helper()
	if len(ex.Mails) != 1 {
		t.Fatalf("exported %d mails, want 1", len(ex.Mails))
	}
	out := map[string]string{}
	for _, r := range ex.Mails[0].Mail.Recipients {
		out[r.Address] = r.Status
	}
	return out
}

// TestDaemonFullStack runs the built binary against Dovecot and Postfix: a
// sent mail asking for a receipt is registered from Sent, a real bounce and
// a receipt are correlated to it, /healthz, /readyz and /metrics answer,
// SIGTERM stops it cleanly, reports arriving while it is down are read
// after a restart, and nothing is applied twice.
func TestDaemonFullStack(t *testing.T) {
	s := mailstack.Start(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	// Slack is the strict fake: any payload Slack would refuse fails the
	// test; the daemon's calls pass its rate limits, as real Slack's.
	fake := slackfake.New(slackfake.User{ID: "UALICE", Name: "Alice", Email: "alice@test.example", Locale: "en-US", TZ: "UTC"})
	slackAPI := fake.Serve(t)
	cfg := writeDaemonConfig(t, s, dir, slackSection(slackAPI.URL))
	env := slackDaemonEnv(s.Password("alice"))
	p := startDaemon(t, bin, cfg, env)

	waitUntil(t, "/healthz", 15*time.Second, func() bool { c, _ := p.get("/healthz"); return c == 200 })
	waitUntil(t, "/readyz", 10*time.Second, func() bool { c, _ := p.get("/readyz"); return c == 200 })

	c := s.Login(t, "alice")
	id := "quote-42@test.example"
	sent := "From: alice@test.example\r\nTo: bob@test.example, nosuch@test.example\r\nSubject: =?UTF-8?B?6KaL56mN5pu4?=\r\n" +
		"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\nMessage-ID: <" + id + ">\r\nDisposition-Notification-To: alice@test.example\r\n\r\nPlease find the quote.\r\n"
	mailstack.Append(t, c, "Sent Items", sent)
	waitUntil(t, "registration", 10*time.Second, func() bool { return p.metric("mailack_mails_registered_total") == 1 })

	s.Send(t, s.Address("alice"), []string{"nosuch@test.example"}, []byte(sent), mailstack.SendOptions{Return: smtp.DSNReturnHeaders})
	// The bot tells alice in a DM card...
	card := fake.WaitFor(t, "the card", func(c slackfake.Call) bool {
		return slackfake.Method("chat.postMessage", "見積書")(c) && c.Param("channel") == "DUALICE" && c.Param("thread_ts") == ""
	})
	fake.WaitFor(t, "the card showing the bounce", func(c slackfake.Call) bool {
		return slackfake.Method("*", "*nosuch@test.example* — bounced (no such address)")(c) && (c.TS == card.TS || c.Param("ts") == card.TS)
	})
	// ...updated in place when the receipt comes, with a thread reply.
	s.DeliverLMTP(t, "alice", []byte(mailstack.MDN(id, "bob@test.example", "alice@test.example", 1)))
	waitUntil(t, "two applied reports", 15*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="applied"}`) == 2
	})
	fake.WaitFor(t, "the card update", func(c slackfake.Call) bool {
		return slackfake.Method("chat.update", "*bob@test.example* — read at")(c) && c.Param("ts") == card.TS
	})
	fake.WaitFor(t, "its thread reply", func(c slackfake.Call) bool {
		return slackfake.Method("chat.postMessage", "bob@test.example")(c) && c.Param("thread_ts") == card.TS
	})
	if n := p.metric(`mailack_slack_calls_total{method="chat.postMessage",result="ok"}`); n < 2 {
		t.Errorf("metrics count %v successful chat.postMessage calls, want at least 2 (card and thread reply)", n)
	}
	// The bot acknowledges a notice in the store after Slack answered, so
	// the card shows before the outbox is empty.
	waitUntil(t, "the outbox drained", 10*time.Second, func() bool { return p.metric("mailack_outbox_depth") == 0 },
		func() { t.Logf("outbox depth %v", p.metric("mailack_outbox_depth")) })
	// A forged Slack request is refused.
	resp, err := http.Post("http://"+p.addr+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("command=%2Ftrack&text=list&user_id=UALICE"))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned slash command = %v %v, want 401", resp, err)
	}
	p.stop(t)

	// While mailack is down, more receipts arrive; one is a duplicate of a
	// receipt already read (a client sending it twice).
	s.DeliverLMTP(t, "alice", []byte(mailstack.MDN(id, "bob@test.example", "alice@test.example", 1)))
	p = startDaemon(t, bin, cfg, env)
	waitUntil(t, "the duplicate", 15*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="duplicate"}`) == 1
	})
	p.stop(t)

	ex := exportDB(t, bin, filepath.Join(dir, "mailack.db"))
	status := ex.statuses(t)
	if ex.Mails[0].Mail.MessageID != id {
		t.Fatalf("exported mail %s, want %s", ex.Mails[0].Mail.MessageID, id)
	}
	if status["bob@test.example"] != "read" || status["nosuch@test.example"] != "failed" {
		t.Errorf("statuses = %v, want bob read and nosuch failed", status)
	}
	if n := len(ex.Mails[0].Evidence); n != 2 {
		t.Errorf("evidence records = %d, want 2 (the duplicate receipt must not count)", n)
	}
}

// TestDaemonSIGTERMUnderLoad stops the daemon while receipts keep
// arriving and restarts it: every receipt is applied exactly once.
func TestDaemonSIGTERMUnderLoad(t *testing.T) {
	s := mailstack.Start(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := writeDaemonConfig(t, s, dir)
	env := []string{"MAILACK_TEST_PASSWORD=" + s.Password("alice")}
	c := s.Login(t, "alice")
	const n = 40
	var rcpts []string
	for i := range n {
		rcpts = append(rcpts, fmt.Sprintf("r%02d@test.example", i))
	}
	id := "bulk-1@test.example"
	mailstack.Append(t, c, "Sent Items", "From: alice@test.example\r\nTo: "+strings.Join(rcpts, ", ")+"\r\nSubject: bulk\r\nMessage-ID: <"+id+">\r\nDisposition-Notification-To: alice@test.example\r\n\r\nx\r\n")

	p := startDaemon(t, bin, cfg, env)
	waitUntil(t, "registration", 10*time.Second, func() bool { return p.metric("mailack_mails_registered_total") == 1 })
	for i, r := range rcpts {
		s.DeliverLMTP(t, "alice", []byte(mailstack.MDN(id, r, "alice@test.example", i)))
		if i == n/2 {
			p.stop(t)
		}
	}
	p = startDaemon(t, bin, cfg, env)
	last := fmt.Sprintf("folder=INBOX uid=%d ", n)
	waitUntil(t, "the last receipt applied", 30*time.Second, func() bool { return strings.Contains(p.log(), last) })
	p.stop(t)
	ex := exportDB(t, bin, filepath.Join(dir, "mailack.db"))
	read := 0
	for _, st := range ex.statuses(t) {
		if st == "read" {
			read++
		}
	}
	if got := len(ex.Mails[0].Evidence); got != n || read != n {
		t.Errorf("evidence %d, recipients read %d; want %d each: nothing lost, nothing twice", got, read, n)
	}
}
