package bot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/track"
)

// A button pressed in App Home has no response_url: the answer appears at
// the top of App Home, not as an ephemeral message in the Messages tab.
func TestAppHomePressAnsweredInAppHome(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	e.register(t, "a1@example.com", alice.Email, "Budget <!channel>", time.Now().Add(-time.Hour), carol.Email)
	e.observe(t, "a1@example.com", carol.Email, track.StatusDelivered, "", time.Now())
	e.fake.WaitFor(t, "App Home", method("views.publish", "Budget"))
	e.press(t, alice, blockAction{ActionID: "snooze_1d", Value: "a1@example.com", InHome: true})
	e.fake.WaitFor(t, "App Home with the answer", method("views.publish", ":information_source: Snoozed “Budget &lt;!channel&gt;” until"))
	for _, c := range e.fake.All(func(c call) bool { return c.Method == "chat.postEphemeral" || c.Method == "response" }) {
		t.Errorf("App Home press answered with %s: %s", c.Method, c.Text())
	}
}

// A nudge that could not be sent does not count: the next press sends it,
// rather than saying the recipient was nudged recently.
func TestNudgeCountsOnlyWhenSent(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	id := "a1@example.com"
	e.register(t, id, alice.Email, "Room booking", time.Now().Add(-time.Hour), carol.Email)
	e.observe(t, id, carol.Email, track.StatusDelivered, "", time.Now())
	e.fake.WaitFor(t, "card", method("chat.postMessage", "Room booking"))
	e.fake.FailNext("conversations.open", failure{Status: http.StatusServiceUnavailable})
	if got := e.answer(t, e.press(t, alice, blockAction{ActionID: "nudge.0", Value: id + " " + carol.Email})); !strings.Contains(got, "something went wrong") {
		t.Fatalf("nudge while Slack fails = %s, want an apology", got)
	}
	if got := e.answer(t, e.press(t, alice, blockAction{ActionID: "nudge.0", Value: id + " " + carol.Email})); !strings.Contains(got, "friendly reminder") {
		t.Errorf("nudge after the failure = %s, want it sent", got)
	}
	e.fake.WaitFor(t, "nudge DM", method("chat.postMessage", "Room booking", "Seen it"))
}

// A cold App Home, whose recipients are not looked up yet while Slack
// rate-limits users.lookupByEmail, still offers to nudge them.
func TestColdAppHomeKeepsNudgeButtons(t *testing.T) {
	e := newEnv(t, envOptions{config: func(c *bot.Config) { c.Users = map[string]string{alice.Email: alice.ID} }})
	e.register(t, "a1@example.com", alice.Email, "Quarterly figures", time.Now().Add(-time.Hour), carol.Email, bob.Email)
	for range 10 {
		e.fake.FailNext("users.lookupByEmail", failure{Status: http.StatusTooManyRequests, RetryAfter: "60", Error: "ratelimited"})
	}
	event := `{"token":"x","team_id":"T1DC2JH3J","api_app_id":"A0MAILACK","type":"event_callback","event_id":"Ev0COLD","event_time":1700000000,` +
		`"event":{"type":"app_home_opened","user":"UALICE","channel":"DUALICE","tab":"home","event_ts":"1700000000.000100"}}`
	if rec := e.post(bot.PathEvents, event); rec.Code != http.StatusOK {
		t.Fatalf("POST event = %d", rec.Code)
	}
	e.fake.WaitFor(t, "App Home with both nudge buttons", method("views.publish", "Nudge carol@example.com", "Nudge bob@example.com"))
	e.run(t)()
}

// Hostile mail goes through the running bot: card, thread reply, App
// Home, /track list and show, nudge and digest. The fake refuses any
// payload Slack would, and no mention or link from the mail comes alive.
func TestHostileMailEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{config: func(c *bot.Config) {
		c.Digests = []bot.DigestConfig{{Channel: "C0OPEN", Schedule: "0 0 1 1 *", After: time.Hour}}
	}})
	e.fake.NoRateLimits() // 300 recipients and many calls within a second of real time
	defer e.run(t)()
	sent := time.Now().Add(-2 * time.Hour)
	subject := "<!channel> <@U123> <http://evil.example|click me> *urgent* &lt; " + strings.Repeat("長", 5000)
	var rcpts []string
	for i := range 300 {
		rcpts = append(rcpts, fmt.Sprintf("r%03d@partner.example", i))
	}
	rcpts = append(rcpts, carol.Email)
	e.register(t, "h1@example.com", alice.Email, subject, sent, rcpts...)
	e.observe(t, "h1@example.com", carol.Email, track.StatusDelivered, "", sent)
	e.fake.WaitFor(t, "card", method("chat.postMessage", "*urgent*"))
	e.observe(t, "h1@example.com", "r000@partner.example", track.StatusFailed, "", time.Now())
	e.bot.Wake()
	e.fake.WaitFor(t, "thread reply", func(c call) bool { return method("chat.postMessage")(c) && c.Param("thread_ts") != "" })
	e.fake.WaitFor(t, "App Home", method("views.publish", "*urgent*"))
	e.answer(t, e.command(t, alice, "list"))
	e.answer(t, e.command(t, alice, "show h1@example.com"))
	e.answer(t, e.press(t, alice, blockAction{ActionID: "nudge.0", Value: "h1@example.com " + carol.Email}))
	e.fake.WaitFor(t, "nudge", method("chat.postMessage", "Seen it"))
	e.bot.PostDigest(t.Context(), bot.DigestConfig{Channel: "C0OPEN", After: time.Hour}, time.Now())
	e.fake.WaitFor(t, "digest", func(c call) bool { return method("chat.postMessage")(c) && c.Param("channel") == "C0OPEN" })
	for _, c := range e.fake.All(func(c call) bool { return c.Method != "users.lookupByEmail" }) {
		// A JSON body holds the subject percent-encoded only inside a
		// mailto: URL, where Slack parses no mrkdwn.
		formLive := c.JSON == nil && strings.Contains(c.Raw, "%3C%21channel")
		if strings.Contains(c.Param("text"), "<!") || formLive || strings.Contains(c.Raw, "<!channel") {
			t.Errorf("%s carries a live <!channel>: %.300s", c.Method, c.Text())
		}
	}
}
