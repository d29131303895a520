package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// nextWeekday is the first Monday-to-Friday on or after t's day, at h:m
// in loc.
func nextWeekday(t time.Time, loc *time.Location, h, m int) time.Time {
	t = t.In(loc)
	d := time.Date(t.Year(), t.Month(), t.Day(), h, m, 0, 0, loc)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// The morning summary comes once, on a working day after the time the
// user chose in their own zone, with what was answered, what passed its
// deadline and what still waits; nobody else gets one.
func TestMorningSummary(t *testing.T) {
	e := newEnv(t, envOptions{})
	ny, err := time.LoadLocation(alice.TZ)
	if err != nil {
		t.Fatal(err)
	}
	now := nextWeekday(time.Now(), ny, 8, 10)
	e.register(t, "s1@example.com", alice.Email, "Answered yesterday", now.Add(-20*time.Hour), carol.Email)
	e.observe(t, "s1@example.com", carol.Email, track.StatusRead, "", now.Add(-time.Hour))
	e.register(t, "s2@example.com", alice.Email, "Still open", now.Add(-30*time.Hour), carol.Email)
	e.register(t, "s3@example.com", alice.Email, "Long overdue", now.Add(-100*time.Hour), carol.Email)
	e.register(t, "s4@example.com", alice.Email, "Bounced at once", now.Add(-3*time.Hour), "gone@partner.example")
	e.observe(t, "s4@example.com", "gone@partner.example", track.StatusFailed, report.ReasonUserUnknown, now.Add(-2*time.Hour))
	if err := e.settings.PutSettings(t.Context(), alice.ID, bot.UserSettings{Summary: bot.Summary{On: true, At: 8 * 60}}); err != nil {
		t.Fatal(err)
	}
	if err := e.settings.PutSettings(t.Context(), bob.ID, bot.UserSettings{Language: bot.Japanese}); err != nil {
		t.Fatal(err)
	}
	e.bot.SendSummaries(t.Context(), now.Add(-20*time.Minute)) // before 08:00
	e.bot.SendSummaries(t.Context(), now)
	e.bot.SendSummaries(t.Context(), now.Add(5*time.Minute)) // already sent today
	sent := e.fake.All(method("chat.postMessage", "Good morning"))
	if len(sent) != 1 {
		t.Fatalf("summaries sent = %d, want 1", len(sent))
	}
	text := sent[0].Text()
	for _, want := range []string{"Answered since yesterday (1)", "Answered yesterday", "Past the deadline (1)", "Long overdue", "Still waiting (1)", "Still open"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Bounced at once") {
		t.Errorf("a mail that only bounced is summarised as answered or waiting:\n%s", text)
	}
	if sent[0].Param("channel") != "DUALICE" {
		t.Errorf("summary went to %s, want alice's DM", sent[0].Param("channel"))
	}
	saturday := now
	for saturday.Weekday() != time.Saturday {
		saturday = saturday.AddDate(0, 0, 1)
	}
	e.bot.SendSummaries(t.Context(), saturday)
	if n := len(e.fake.All(method("chat.postMessage", "Good morning"))); n != 1 {
		t.Errorf("summaries after a Saturday = %d, want still 1", n)
	}
	holiday := now.AddDate(0, 0, 7)
	e.bot.SendSummaries(t.Context(), holiday) // a working day by default
	if n := len(e.fake.All(method("chat.postMessage", "Good morning"))); n != 2 {
		t.Errorf("summaries a week later = %d, want 2", n)
	}
	if n := len(e.fake.All(method("chat.postMessage", "おはようございます"))); n != 0 {
		t.Errorf("bob got %d summaries without asking for one", n)
	}
}

// A team's bounces reach its channel with the reason in plain words and
// what to do, without the subject when redacted and without mentioning
// the sender; other senders' bounces do not.
func TestTeamBounceAlerts(t *testing.T) {
	e := newEnv(t, envOptions{config: func(c *bot.Config) {
		c.BounceAlerts = []bot.BounceAlertConfig{{Channel: "C0OPEN", Senders: []string{"@example.com"}, RedactSubjects: true}}
	}})
	defer e.run(t)()
	e.fake.WaitFor(t, "joined the alert channel", method("conversations.join"))
	sent := time.Now().Add(-time.Hour)
	e.register(t, "b1@example.com", alice.Email, "Secret bid <!channel>", sent, "nobody@partner.example")
	e.observe(t, "b1@example.com", "nobody@partner.example", track.StatusFailed, report.ReasonUserUnknown, sent.Add(time.Minute))
	e.register(t, "b2@example.jp", hanako.Email, "別チームの件", sent, "gone@partner.example")
	e.observe(t, "b2@example.jp", "gone@partner.example", track.StatusFailed, report.ReasonUserUnknown, sent.Add(time.Minute))
	e.bot.Wake()
	alert := e.fake.WaitFor(t, "bounce alert", func(c call) bool { return method("chat.postMessage")(c) && c.Param("channel") == "C0OPEN" })
	text := alert.Text()
	for _, want := range []string{"*alice@example.com*", "*nobody@partner.example*", "no such address", "What to do:"} {
		if !strings.Contains(text, want) {
			t.Errorf("alert lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Secret bid") || strings.Contains(text, "<@") {
		t.Errorf("alert shows the redacted subject or mentions someone:\n%s", text)
	}
	e.fake.WaitFor(t, "hanako's card", method("chat.postMessage", "別チームの件"))
	if n := len(e.fake.All(func(c call) bool { return method("chat.postMessage")(c) && c.Param("channel") == "C0OPEN" })); n != 1 {
		t.Errorf("alerts posted = %d, want only alice's team's", n)
	}
}

// On a holiday of the configured calendar there is no summary.
func TestMorningSummarySkipsHolidays(t *testing.T) {
	ny, err := time.LoadLocation(alice.TZ)
	if err != nil {
		t.Fatal(err)
	}
	now := nextWeekday(time.Now(), ny, 9, 0)
	holiday := now.In(ny).Format(time.DateOnly)
	e := newEnv(t, envOptions{config: func(c *bot.Config) {
		c.WorkingDay = func(t time.Time) bool { return t.In(ny).Format(time.DateOnly) != holiday }
	}})
	if err := e.settings.PutSettings(t.Context(), alice.ID, bot.UserSettings{Summary: bot.Summary{On: true, At: 8 * 60}}); err != nil {
		t.Fatal(err)
	}
	e.bot.SendSummaries(t.Context(), now)
	if n := len(e.fake.All(method("chat.postMessage", "Good morning"))); n != 0 {
		t.Errorf("summaries on a holiday = %d, want 0", n)
	}
	next := nextWeekday(now.AddDate(0, 0, 1), ny, 9, 0)
	e.bot.SendSummaries(t.Context(), next)
	e.fake.WaitFor(t, "summary on the next working day", method("chat.postMessage", "Good morning", "Nothing to report today."))
}
