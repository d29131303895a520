package bot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// homeOf matches alice's App Home with every one of words.
func homeOf(u fakeUser, words ...string) func(call) bool {
	return func(c call) bool { return method("views.publish", words...)(c) && c.Param("user_id") == u.ID }
}

// App Home welcomes a newcomer once, pages through more mail than fits,
// switches tabs, and its Settings use Slack's controls: changing the
// language publishes Home again in it.
func TestHomeTabsPagingAndSettings(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	sent := time.Now().Add(-3 * time.Hour)
	for i := range 45 {
		e.register(t, fmt.Sprintf("h%02d@example.com", i), alice.Email, fmt.Sprintf("Offer %02d", i), sent.Add(time.Duration(i)*time.Minute), carol.Email)
	}
	e.register(t, "answered@example.com", alice.Email, "Answered offer", sent, carol.Email)
	e.observe(t, "answered@example.com", carol.Email, track.StatusRead, "", sent.Add(time.Hour))
	e.fake.WaitFor(t, "card", method("chat.postMessage", "Answered offer"))
	e.register(t, "bounced@example.com", alice.Email, "Bounced offer", sent.Add(-time.Hour), "gone@partner.example")
	e.observe(t, "bounced@example.com", "gone@partner.example", track.StatusFailed, report.ReasonUserUnknown, sent)
	e.fake.WaitFor(t, "card", method("chat.postMessage", "Bounced offer"))

	home := func(a blockAction) {
		e.press(t, alice, blockAction{ActionID: a.ActionID, Value: a.Value, SelectedOption: a.SelectedOption, SelectedTime: a.SelectedTime, Type: a.Type, InHome: true})
	}
	e.fake.WaitFor(t, "home with welcome and page 1", homeOf(alice, "Welcome to mailack", "Page 1 of 2 · 46 mails", "Offer 44", `"type":"overflow"`, `"action_id":"home_page.next"`))

	home(blockAction{ActionID: "home_page.next", Value: "1"})
	e.fake.WaitFor(t, "page 2", homeOf(alice, "Page 2 of 2 · 46 mails", "Offer 00", "Bounced offer", `"action_id":"snooze_1d"`, `"action_id":"home_page.prev"`))
	home(blockAction{ActionID: "welcome_ok", Value: "ok"})
	e.fake.WaitFor(t, "home without welcome", func(c call) bool {
		return homeOf(alice, "Page 2 of 2")(c) && !strings.Contains(c.Text(), "Welcome to mailack")
	})
	home(blockAction{ActionID: "home_tab.answered", Value: "answered"})
	e.fake.WaitFor(t, "answered tab", func(c call) bool {
		return homeOf(alice, "Answered offer")(c) && !strings.Contains(c.Text(), "Offer 44") && !strings.Contains(c.Text(), "Bounced offer")
	})
	home(blockAction{ActionID: "home_tab.closed", Value: "closed"})
	e.fake.WaitFor(t, "closed tab, empty", homeOf(alice, "No mail is closed yet."))
	home(blockAction{ActionID: "home_menu", Type: "overflow", SelectedOption: picked("done h05@example.com")})
	e.fake.WaitFor(t, "closed tab with the mail, Reopen and the answer's Undo", homeOf(alice, "Offer 05", `"action_id":"reopen"`, "Marked “Offer 05” done", `"action_id":"undo"`))
	home(blockAction{ActionID: "home_tab.bogus", Value: "bogus"})

	home(blockAction{ActionID: "home_tab.settings", Value: "settings"})
	e.fake.WaitFor(t, "settings tab", homeOf(alice, `"action_id":"set_lang"`, `"type":"static_select"`, `"type":"timepicker"`))
	home(blockAction{ActionID: "set_deadline", Type: "static_select", SelectedOption: picked("forever")})
	e.fake.WaitFor(t, "a value no select offers refused", homeOf(alice, "I could not understand “forever”."))
	home(blockAction{ActionID: "set_quiet_from", Type: "timepicker", SelectedTime: "21:30"})
	e.fake.WaitFor(t, "quiet hours set", homeOf(alice, "21:30–07:00"))
	home(blockAction{ActionID: "set_summary", Type: "static_select", SelectedOption: picked("08:00")})
	e.fake.WaitFor(t, "summary on", homeOf(alice, "Saved."))
	home(blockAction{ActionID: "set_lang", Type: "static_select", SelectedOption: picked("ja")})
	e.fake.WaitFor(t, "home again in Japanese", homeOf(alice, "保存しました。", "言語", "設定"))
	set, err := e.settings.Settings(t.Context(), alice.ID)
	if err != nil || set.Language != bot.Japanese || set.Quiet != (bot.QuietHours{Start: 21*60 + 30, End: 7 * 60}) || set.Summary != (bot.Summary{On: true, At: 8 * 60}) || set.Deadline != 0 || !set.Welcomed {
		t.Errorf("settings = %+v, %v", set, err)
	}
}

// homeOpened is the app_home_opened event of u, with its own event ID.
func homeOpened(u fakeUser, eventID string) string {
	return `{"token":"x","team_id":"T1DC2JH3J","api_app_id":"A0MAILACK","type":"event_callback","event_id":"` + eventID + `","event_time":1700000000,` +
		`"event":{"type":"app_home_opened","user":"` + u.ID + `","channel":"D` + u.ID + `","tab":"home","event_ts":"1700000000.000100"}}`
}

// The tab and page a user is on in App Home are kept in their settings:
// after a restart of the bot on the same store, App Home opens where they
// left it.
func TestHomeTabAndPageSurviveRestart(t *testing.T) {
	e := newEnv(t, envOptions{})
	stop := e.run(t)
	sent := time.Now().Add(-3 * time.Hour)
	for i := range 45 {
		id := fmt.Sprintf("c%02d@example.com", i)
		e.register(t, id, alice.Email, fmt.Sprintf("Closed %02d", i), sent.Add(time.Duration(i)*time.Minute), carol.Email)
		if _, err := e.store.CloseMail(t.Context(), id, track.StateDone, sent.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	e.register(t, "open@example.com", alice.Email, "Still open", sent, carol.Email)
	home := func(a blockAction) { a.InHome = true; e.press(t, alice, a) }
	home(blockAction{ActionID: "home_tab.closed", Value: "closed"})
	e.fake.WaitFor(t, "closed tab, page 1", homeOf(alice, "Closed 44", "Page 1 of 2 · 45 mails"))
	home(blockAction{ActionID: "home_page.next", Value: "1"})
	e.fake.WaitFor(t, "closed tab, page 2", homeOf(alice, "Closed 00", "Page 2 of 2 · 45 mails"))
	stop()

	e.restart(t)
	defer e.run(t)()
	restarted := time.Now()
	if rec := e.post(bot.PathEvents, homeOpened(alice, "Ev0RESTART1")); rec.Code != http.StatusOK {
		t.Fatalf("POST app_home_opened = %d", rec.Code)
	}
	c := e.fake.WaitFor(t, "app home after the restart", func(c call) bool {
		return homeOf(alice)(c) && !c.At.Before(restarted)
	})
	if text := c.Text(); !strings.Contains(text, "Page 2 of 2 · 45 mails") || !strings.Contains(text, "Closed 00") || strings.Contains(text, "Still open") {
		t.Errorf("app home after the restart is not the closed tab's page 2:\n%s", text)
	}
	set, err := e.settings.Settings(t.Context(), alice.ID)
	if err != nil || set.Home != (bot.HomeView{Tab: "closed", Page: 1}) {
		t.Errorf("settings after the restart = %+v, %v; want home on closed, page 1", set.Home, err)
	}
}
