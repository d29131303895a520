package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/mailwatch/mailstack"
)

const testSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// slashCommand is a /track request as Slack sends it in HTTP mode, signed
// at a given time.
type slashCommand struct {
	body, ts, sig string
}

func newSlashCommand(user, text, responseURL string, at time.Time) slashCommand {
	body := url.Values{"token": {"x"}, "team_id": {"T1"}, "channel_id": {"C0GENERAL"}, "user_id": {user},
		"command": {"/track"}, "text": {text}, "trigger_id": {"1.2.3"}, "response_url": {responseURL}}.Encode()
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(testSigningSecret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	return slashCommand{body: body, ts: ts, sig: "v0=" + hex.EncodeToString(mac.Sum(nil))}
}

func (p *daemonProc) post(t *testing.T, c slashCommand) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/slack/commands", strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", c.ts)
	req.Header.Set("X-Slack-Signature", c.sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /slack/commands: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDaemonAttackOtherSendersMail replays the colleague's attacks on the
// real binary, Dovecot and the store on disk. Bob tracks a mail from his
// Sent folder. Alice, one of its recipients, puts her copy into her own
// Sent folder and runs /track with its Message-ID: no sent mail of hers
// matches. She rewrites the copy as her own: the watcher refuses it and
// /track tells her it is tracked for another sender, showing nothing of
// it. Bob keeps his mail and his card.
// A receipt for Bob's mail delivered to Alice's inbox changes nothing and
// is counted as unauthorized; the same receipt in Bob's inbox marks it
// read. What held before still holds: /track show on Bob's mail is
// refused, and stale and replayed signed requests get 401.
func TestDaemonAttackOtherSendersMail(t *testing.T) {
	s := mailstack.Start(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	fake := slackfake.New(
		slackfake.User{ID: "UALICE", Name: "Alice", Email: s.Address("alice"), Locale: "en-US", TZ: "UTC"},
		slackfake.User{ID: "UBOB", Name: "Bob", Email: s.Address("bob"), Locale: "en-US", TZ: "UTC"},
	)
	// The commands are typed in #general, where the bot is a member.
	fake.AddChannel(slackfake.Channel{ID: "C0GENERAL", Name: "general", Member: true})
	slackAPI := fake.Serve(t)
	respURL := func() string { return fake.ResponseURL(slackAPI.URL) }
	// seen tells whether Slack took a message with every one of words,
	// in the channel ch when ch is not empty.
	seen := func(ch string, words ...string) bool {
		return len(fake.All(func(c slackfake.Call) bool {
			return slackfake.Method("*", words...)(c) && (ch == "" || c.Param("channel") == ch)
		})) > 0
	}
	host, port, _ := strings.Cut(s.IMAPAddr(), ":")
	cfg := writeDaemonConfig(t, s, dir, `  - name: bob
    host: `+host+`
    port: `+port+`
    tls: insecure
    username: bob
    owner: `+s.Address("bob")+`
    password: ${MAILACK_TEST_BOB_PASSWORD}
slack:
  enabled: true
  mode: http
  bot_token: ${SLACK_BOT_TOKEN}
  signing_secret: ${SLACK_SIGNING_SECRET}
  api_url: `+slackAPI.URL+`/
`)
	env := []string{"MAILACK_TEST_PASSWORD=" + s.Password("alice"), "MAILACK_TEST_BOB_PASSWORD=" + s.Password("bob"),
		"SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=" + testSigningSecret}
	p := startDaemon(t, bin, cfg, env)
	waitUntil(t, "/readyz", 15*time.Second, func() bool { c, _ := p.get("/readyz"); return c == 200 })
	showSlack := func() { t.Logf("slack saw: %s", fake.Summary()) }

	id := "bob-plan-7@test.example"
	bobsMail := "From: Bob <bob@test.example>\r\nTo: carol@test.example, alice@test.example\r\nSubject: Bob secret plans\r\n" +
		"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\nMessage-ID: <" + id + ">\r\nDisposition-Notification-To: bob@test.example\r\n\r\nx\r\n"
	mailstack.Append(t, s.Login(t, "bob"), "Sent Items", bobsMail)
	waitUntil(t, "bob's mail registered", 15*time.Second, func() bool { return p.metric("mailack_mails_registered_total") == 1 })

	// Carol's receipt, delivered to Alice's inbox, is refused...
	carolRead := []byte(mailstack.MDN(id, "carol@test.example", "bob@test.example", 1))
	s.DeliverLMTP(t, "alice", carolRead)
	waitUntil(t, "the receipt in alice's inbox refused", 15*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="unauthorized"}`) == 1
	})
	if !strings.Contains(p.log(), `msg="report refused: its mailbox may not report on that sender's mail" component=sink account=alice`) {
		t.Error("the refused report was not logged at warn with its mailbox")
	}
	// ...and the same receipt in Bob's inbox counts: Bob gets his card.
	s.DeliverLMTP(t, "bob", carolRead)
	waitUntil(t, "bob's card", 20*time.Second, func() bool {
		return seen("DUBOB", "*carol@test.example* — read at") || seen("UBOB", "*carol@test.example* — read at")
	}, showSlack)

	// Alice drags her copy of Bob's mail into her Sent folder and asks to
	// track it: it is Bob's mail, which his own mailbox tracks, so hers
	// has nothing to offer.
	alice := s.Login(t, "alice")
	mailstack.Append(t, alice, "Sent Items", bobsMail)
	now := time.Now()
	if code := p.post(t, newSlashCommand("UALICE", id, respURL(), now)); code != http.StatusOK {
		t.Fatalf("signed /track = %d, want 200", code)
	}
	waitUntil(t, "no match for the dragged copy", 20*time.Second, func() bool {
		return seen("", "No sent mail matched")
	}, showSlack)
	// A copy rewritten as her own (From: alice) is refused as well: by the
	// watcher...
	forged := strings.Replace(bobsMail, "From: Bob <bob@test.example>", "From: Alice <alice@test.example>", 1)
	mailstack.Append(t, alice, "Sent Items", forged)
	waitUntil(t, "the forged copy refused", 15*time.Second, func() bool {
		return p.metric("mailack_registrations_refused_total") == 1
	})
	if n := p.metric("mailack_mails_registered_total"); n != 1 {
		t.Errorf("registered mails = %v, want 1 (Bob's; neither copy)", n)
	}
	// ...and by /track.
	track := newSlashCommand("UALICE", "<"+id+">", respURL(), now)
	if code := p.post(t, track); code != http.StatusOK {
		t.Fatalf("signed /track = %d, want 200", code)
	}
	waitUntil(t, "the refusal", 20*time.Second, func() bool {
		return seen("", "already tracked for another sender")
	}, showSlack)
	if n := p.metric("mailack_registrations_refused_total"); n != 2 {
		t.Errorf("refused registrations = %v, want 2 (the forged copy and /track)", n)
	}
	// Replaying the signed request within its five minutes is refused.
	if code := p.post(t, track); code != http.StatusUnauthorized {
		t.Errorf("replayed /track = %d, want 401", code)
	}
	if code := p.post(t, newSlashCommand("UALICE", "list", respURL(), now.Add(-6*time.Minute))); code != http.StatusUnauthorized {
		t.Errorf("stale /track = %d, want 401", code)
	}
	if code := p.post(t, newSlashCommand("UALICE", "show "+id, respURL(), now)); code != http.StatusOK {
		t.Fatalf("signed /track show = %d, want 200", code)
	}
	waitUntil(t, "/track show refused", 20*time.Second, func() bool {
		return seen("", "You can only act on mail you sent.")
	}, showSlack)

	// Later receipts update Bob's card, never a card of Alice's.
	s.DeliverLMTP(t, "bob", []byte(mailstack.MDN(id, "alice@test.example", "bob@test.example", 2)))
	waitUntil(t, "bob's card updated", 20*time.Second, func() bool {
		return seen("DUBOB", "*alice@test.example* — read at") || seen("UBOB", "*alice@test.example* — read at")
	}, showSlack)
	p.stop(t)
	for _, c := range fake.All(func(c slackfake.Call) bool { return c.OK() }) {
		ch := c.Param("channel")
		if c.Method == "views.publish" {
			ch = "D" + c.Param("user_id") // App Home is the user's own
		}
		if ch == "DUALICE" || ch == "UALICE" {
			t.Errorf("Alice received a direct message: %s", c.Text())
		}
		if strings.Contains(c.Text(), "Bob secret plans") && ch != "DUBOB" && ch != "UBOB" {
			t.Errorf("Bob's mail was shown outside his direct messages (%s %s): %s", c.Method, c.Path, c.Text())
		}
	}
	cards := fake.All(func(c slackfake.Call) bool {
		return slackfake.Method("chat.postMessage", "Bob secret plans")(c) && (c.Param("channel") == "DUBOB" || c.Param("channel") == "UBOB") && c.Param("thread_ts") == ""
	})
	if len(cards) != 1 {
		t.Errorf("Bob's card was posted %d times, want once", len(cards))
	}

	ex := exportDB(t, bin, filepath.Join(dir, "mailack.db"))
	status := ex.statuses(t)
	if status["carol@test.example"] != "read" || status["alice@test.example"] != "read" || len(ex.Mails[0].Evidence) != 2 {
		t.Errorf("bob's mail = %v with %d evidence, want carol and alice read from two receipts", status, len(ex.Mails[0].Evidence))
	}
}
