package bot_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/track"
)

// Digests are posted on their cron schedule in their time zone, list the
// mails still unconfirmed after the configured time grouped by sender,
// hide subjects where configured, and post nothing when nothing waits.
func TestDigests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble starts on Saturday 1 January 2000, 00:00 UTC (09:00 in Tokyo).
		e := newEnv(t, envOptions{inProcess: true, config: func(c *bot.Config) {
			c.Poll = time.Hour
			c.Digests = []bot.DigestConfig{
				{Channel: "C0REDACTED", Schedule: "30 9 * * *", Timezone: "Asia/Tokyo", After: 24 * time.Hour, RedactSubjects: true},
				{Channel: "C0OPEN", Schedule: "0 18 * * *", Timezone: "Europe/London", After: 24 * time.Hour, Language: bot.Japanese},
				{Channel: "C0QUIET", Schedule: "*/10 * * * *", After: 1000 * time.Hour},
			}
		}})
		now := time.Now()
		e.register(t, "a1@example.com", alice.Email, "Old question", now.Add(-30*time.Hour), carol.Email, outsider)
		e.register(t, "a2@example.com", alice.Email, "Answered question", now.Add(-30*time.Hour), carol.Email)
		e.observe(t, "a2@example.com", carol.Email, track.StatusRead, "", now.Add(-29*time.Hour))
		e.register(t, "x1@partner.example", "boss@partner.example", "Outside sender", now.Add(-40*time.Hour), carol.Email)
		e.register(t, "a3@example.com", alice.Email, "Fresh question", now.Add(-time.Hour), carol.Email)
		defer e.run(t)()

		settle(29 * time.Minute)
		inChannels := func(c call) bool { return method("chat.postMessage")(c) && strings.HasPrefix(c.param("channel"), "C") }
		if got := e.fake.all(inChannels); len(got) != 0 {
			t.Fatalf("posts before 09:30 Tokyo = %d, want 0", len(got))
		}
		settle(2 * time.Minute)
		redacted := e.fake.all(method("chat.postMessage", "Mail still waiting for an answer after"))
		if len(redacted) != 1 || redacted[0].param("channel") != "C0REDACTED" {
			t.Fatalf("digest at 09:30 Tokyo = %v, want one in C0REDACTED", redacted)
		}
		text := redacted[0].text()
		for _, w := range []string{"<@UALICE>", "*boss@partner.example*", "(subject hidden)", "carol@example.com, someone@partner.example", "after 24 hours"} {
			if !strings.Contains(text, w) {
				t.Errorf("redacted digest lacks %q:\n%s", w, text)
			}
		}
		for _, w := range []string{"Old question", "Answered question", "Fresh question", "Outside sender"} {
			if strings.Contains(text, w) {
				t.Errorf("redacted digest shows %q", w)
			}
		}

		settle(18 * time.Hour) // past 18:00 in London, which is UTC in January
		open := e.fake.all(func(c call) bool { return method("chat.postMessage")(c) && c.param("channel") == "C0OPEN" })
		if len(open) != 1 {
			t.Fatalf("digests in C0OPEN = %d, want 1", len(open))
		}
		for _, w := range []string{"Old question", "以上返答を待っているメール", "返答待ち"} {
			if !strings.Contains(open[0].text(), w) {
				t.Errorf("digest lacks %q:\n%s", w, open[0].text())
			}
		}
		if strings.Contains(open[0].text(), "Answered question") {
			t.Error("digest lists an answered mail")
		}
		if got := e.fake.all(func(c call) bool { return c.param("channel") == "C0QUIET" }); len(got) != 0 {
			t.Errorf("digest with nothing waiting posted %d times", len(got))
		}
	})
}
