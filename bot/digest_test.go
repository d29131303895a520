package bot_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/slackfake"
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
		// At start the bot joined the public digest channels it was not in.
		for _, id := range []string{"C0REDACTED", "C0OPEN", "C0QUIET"} {
			if ch, _ := e.fake.ChannelState(id); !ch.Member {
				t.Errorf("bot is not in digest channel %s after starting", id)
			}
		}
		inChannels := func(c call) bool { return method("chat.postMessage")(c) && strings.HasPrefix(c.Param("channel"), "C") }
		if got := e.fake.All(inChannels); len(got) != 0 {
			t.Fatalf("posts before 09:30 Tokyo = %d, want 0", len(got))
		}
		settle(2 * time.Minute)
		redacted := e.fake.All(method("chat.postMessage", "Mail still waiting for confirmation after"))
		if len(redacted) != 1 || redacted[0].Param("channel") != "C0REDACTED" {
			t.Fatalf("digest at 09:30 Tokyo = %v, want one in C0REDACTED", redacted)
		}
		text := redacted[0].Text()
		for _, w := range []string{"*Alice Adams*", "*boss@partner.example*", "(subject hidden)", "waiting for 2 recipient(s)", "after 24 hours"} {
			if !strings.Contains(text, w) {
				t.Errorf("redacted digest lacks %q:\n%s", w, text)
			}
		}
		// Nobody is mentioned (and notified) in a channel, and with
		// redact_subjects the addresses of partners are hidden too.
		for _, w := range []string{"Old question", "Answered question", "Fresh question", "Outside sender", "<@", outsider} {
			if strings.Contains(text, w) {
				t.Errorf("redacted digest shows %q", w)
			}
		}

		settle(18 * time.Hour) // past 18:00 in London, which is UTC in January
		open := e.fake.All(func(c call) bool { return method("chat.postMessage")(c) && c.Param("channel") == "C0OPEN" })
		if len(open) != 1 {
			t.Fatalf("digests in C0OPEN = %d, want 1", len(open))
		}
		for _, w := range []string{"Old question", "24時間以上確認待ちのメール", "確認待ち: carol@example.com, someone@partner.example"} {
			if !strings.Contains(open[0].Text(), w) {
				t.Errorf("digest lacks %q:\n%s", w, open[0].Text())
			}
		}
		if strings.Contains(open[0].Text(), "Answered question") {
			t.Error("digest lists an answered mail")
		}
		if got := e.fake.All(func(c call) bool { return c.Method == "chat.postMessage" && c.Param("channel") == "C0QUIET" }); len(got) != 0 {
			t.Errorf("digest with nothing waiting posted %d times", len(got))
		}
	})
}

// A private digest channel the bot was not invited to cannot be joined:
// the bot says so at start, naming the channel and how to invite it.
func TestDigestPrivateChannelWarns(t *testing.T) {
	e := newEnv(t, envOptions{config: func(c *bot.Config) {
		c.Digests = []bot.DigestConfig{{Channel: "C0PRIVATE", Schedule: "0 9 * * *", After: time.Hour}}
	}})
	err := e.bot.CheckDigestChannels(t.Context())
	if err == nil || !strings.Contains(err.Error(), "C0PRIVATE") || !strings.Contains(err.Error(), "/invite @mailack") {
		t.Errorf("CheckDigestChannels = %v, want the channel named and how to invite the bot", err)
	}
	e.fake.AddChannel(slackfake.Channel{ID: "C0PRIVATE", Name: "board", Private: true, Member: true})
	if err := e.bot.CheckDigestChannels(t.Context()); err != nil {
		t.Errorf("CheckDigestChannels after the invitation = %v", err)
	}
}
