package bot_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// cards returns the status cards posted: top-level chat.postMessage calls
// in direct messages.
func cards(f *fakeSlack) []call {
	return f.All(func(c call) bool {
		return c.Method == "chat.postMessage" && c.OK() && c.Param("thread_ts") == "" && strings.HasPrefix(c.Param("channel"), "D")
	})
}

// replies returns the thread replies under the card with timestamp ts.
func replies(f *fakeSlack, ts string) []call {
	return f.All(func(c call) bool { return c.Method == "chat.postMessage" && c.OK() && c.Param("thread_ts") == ts })
}

// updates returns the successful chat.update calls of the card with
// timestamp ts.
func updates(f *fakeSlack, ts string) []call {
	return f.All(func(c call) bool { return c.Method == "chat.update" && c.OK() && c.Param("ts") == ts })
}

// cardTS returns the timestamp of the one card whose text has subject.
func cardTS(t *testing.T, f *fakeSlack, subject string) string {
	t.Helper()
	var found []call
	for _, c := range cards(f) {
		if strings.Contains(c.Text(), subject) {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d cards for %q, want 1; calls: %s", len(found), subject, f.Summary())
	}
	return found[0].TS
}

// settle lets the bot work for d of fake time.
func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func TestWriterPostsCardThenUpdatesAndReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m1@example.com", alice.Email, "Quarterly figures", sent, carol.Email, outsider)
		e.observe(t, "m1@example.com", carol.Email, track.StatusDelivered, "", sent.Add(time.Minute))
		settle(10 * time.Second)

		if got := e.fake.Succeeded("conversations.open"); len(got) != 1 || got[0].Param("users") != alice.ID {
			t.Fatalf("conversations.open = %v, want one for %s", got, alice.ID)
		}
		card := cards(e.fake)
		if len(card) != 1 || card[0].Param("channel") != "D"+alice.ID {
			t.Fatalf("cards = %d, want 1 in alice's DM; calls: %s", len(card), e.fake.Summary())
		}
		for _, w := range []string{"Quarterly figures", "carol@example.com", "delivered", outsider, "no news yet", "Nudge in Slack", "Snooze 1 day", "Done"} {
			if !strings.Contains(card[0].Text(), w) {
				t.Errorf("card lacks %q:\n%s", w, card[0].Text())
			}
		}
		ts := cardTS(t, e.fake, "Quarterly figures")
		if n := len(replies(e.fake, ts)); n != 0 {
			t.Errorf("replies to a fresh card = %d, want 0 (the card notifies)", n)
		}
		if len(e.fake.All(method("views.publish", "Quarterly figures"))) == 0 {
			t.Error("App Home not published after the card")
		}

		e.observe(t, "m1@example.com", outsider, track.StatusFailed, report.ReasonMailboxFull, time.Now())
		settle(10 * time.Second)
		up := updates(e.fake, ts)
		if len(up) != 1 || up[0].Param("channel") != "D"+alice.ID || !strings.Contains(up[0].Text(), "bounced (mailbox full)") {
			t.Fatalf("chat.update of the card = %v, want one with the bounce", up)
		}
		rs := replies(e.fake, ts)
		if len(rs) != 1 {
			t.Fatalf("thread replies = %d, want 1", len(rs))
		}
		for _, w := range []string{outsider, "bounced (mailbox full)", "Try again later, or call them."} {
			if !strings.Contains(rs[0].Text(), w) {
				t.Errorf("reply lacks %q: %s", w, rs[0].Text())
			}
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox after delivery = %v, want empty", p)
		}
	})
}

// The core issues one notice per recipient per status; the same report
// read twice, a lower-ranked report and the sender's own receipt cause no
// further reply however often the writer runs.
func TestWriterOneNoticePerState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		sent := time.Now().Add(-time.Hour)
		id := "m1@example.com"
		e.register(t, id, alice.Email, "Contract draft", sent, carol.Email)
		e.observe(t, id, carol.Email, track.StatusDelivered, "", sent)
		settle(10 * time.Second)
		ts := cardTS(t, e.fake, "Contract draft")

		e.observe(t, id, carol.Email, track.StatusRead, "", time.Now())
		e.observe(t, id, carol.Email, track.StatusRead, "", time.Now())      // the same receipt again
		e.observe(t, id, carol.Email, track.StatusDelayed, "", time.Now())   // lower rank: nothing new
		e.observe(t, id, alice.Email, track.StatusRead, "", time.Now())      // the sender's own copy
		e.observe(t, id, carol.Email, track.StatusDelivered, "", time.Now()) // already announced
		settle(time.Minute)

		rs := replies(e.fake, ts)
		if len(rs) != 1 || !strings.Contains(rs[0].Text(), "read at") {
			t.Fatalf("replies = %d (%v), want exactly one read notice", len(rs), rs)
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox = %v, want empty", p)
		}
	})
}

// A 429 with Retry-After pauses the method for that long (Slack's limits
// are "per API method per workspace per app",
// https://docs.slack.dev/apis/web-api/rate-limits); the card is delivered
// after it, once.
func TestWriterHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		fail failure
		wait time.Duration
	}{
		{"429 with Retry-After", failure{Status: http.StatusTooManyRequests, RetryAfter: "42"}, 42 * time.Second},
		{"429 without Retry-After", failure{Status: http.StatusTooManyRequests}, 30 * time.Second},
		{"ok false ratelimited", failure{Error: "ratelimited"}, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, envOptions{inProcess: true})
				e.fake.FailNext("chat.postMessage", tc.fail)
				sent := time.Now().Add(-time.Hour)
				e.register(t, "m1@example.com", alice.Email, "Invoice 42", sent, carol.Email)
				e.observe(t, "m1@example.com", carol.Email, track.StatusDelivered, "", sent)
				e.register(t, "m2@example.com", bob.Email, "Team lunch", sent, carol.Email)
				e.observe(t, "m2@example.com", carol.Email, track.StatusDelivered, "", sent)
				defer e.run(t)()
				settle(10 * time.Second)

				limited := e.fake.All(func(c call) bool { return c.Method == "chat.postMessage" && !c.OK() })
				if len(limited) != 1 {
					t.Fatalf("rate-limited calls = %d, want 1; calls: %s", len(limited), e.fake.Summary())
				}
				at := limited[0].At
				settle(tc.wait + time.Minute)
				for _, c := range e.fake.All(func(c call) bool { return c.Method == "chat.postMessage" && c.At.After(at) }) {
					if c.At.Before(at.Add(tc.wait)) {
						t.Errorf("%s %v after the 429, want no call for %v", c.Method, c.At.Sub(at), tc.wait)
					}
				}
				if got := len(cards(e.fake)); got != 2 {
					t.Errorf("cards = %d, want 2 (each once); calls: %s", got, e.fake.Summary())
				}
				if p := e.pending(t); len(p) != 0 {
					t.Errorf("outbox = %v, want empty", p)
				}
			})
		})
	}
}

// Slack is unreachable for an hour (calls hang at first, then fail with
// 503) while evidence keeps arriving. Afterwards every notice is
// delivered once, each card is updated once for all its notices, and the
// outbox is empty.
func TestWriterSurvivesHourLongOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true, config: func(c *bot.Config) { c.Poll = 10 * time.Second }})
		defer e.run(t)()
		sent := time.Now().Add(-time.Hour)
		mails := []struct{ id, sender, subject, rcpt string }{
			{"m1@example.com", alice.Email, "Budget review", carol.Email},
			{"m2@example.jp", hanako.Email, "見積もりのご確認", carol.Email},
			{"m3@example.com", bob.Email, "Offsite agenda", carol.Email},
		}
		for _, m := range mails {
			e.register(t, m.id, m.sender, m.subject, sent, m.rcpt, outsider)
			e.observe(t, m.id, m.rcpt, track.StatusDelivered, "", sent)
		}
		settle(time.Minute) // the writer is paced: one call a second after a burst
		ts := map[string]string{}
		for _, m := range mails {
			ts[m.id] = cardTS(t, e.fake, m.subject)
		}
		before := e.fake.Count()

		start := time.Now()
		end := start.Add(time.Hour)
		e.fake.SetDown(func(string) *failure {
			switch now := time.Now(); {
			case now.Before(start.Add(10 * time.Minute)):
				return &failure{Hang: true}
			case now.Before(end):
				return &failure{Status: http.StatusServiceUnavailable}
			}
			return nil
		})
		for i, m := range mails {
			settle(time.Duration(5+i) * time.Minute)
			e.observe(t, m.id, m.rcpt, track.StatusRead, "", time.Now())
			settle(7 * time.Minute)
			e.observe(t, m.id, outsider, track.StatusFailed, report.ReasonUserUnknown, time.Now())
		}
		settle(time.Until(end) - time.Minute)
		during := e.fake.All(func(c call) bool { return !c.At.Before(start) })
		failed := e.fake.All(func(c call) bool { return !c.At.Before(start) && !c.OK() })
		if len(failed) == 0 || len(during) != len(failed) || e.fake.Count()-before != len(during) {
			t.Fatalf("during the outage: %d calls, %d failed; want only failures", len(during), len(failed))
		}
		if len(e.pending(t)) != 2*len(mails) {
			t.Fatalf("outbox during the outage = %d items, want %d kept", len(e.pending(t)), 2*len(mails))
		}
		if len(failed) > 500 {
			t.Errorf("%d calls in an hour of outage; want backoff, not hammering", len(failed))
		}

		settle(15 * time.Minute) // past the longest backoff
		for _, m := range mails {
			if up := updates(e.fake, ts[m.id]); len(up) != 1 {
				t.Errorf("%s: chat.update after the outage = %d, want 1 for both notices", m.id, len(up))
			}
			rs := replies(e.fake, ts[m.id])
			if len(rs) != 2 {
				t.Errorf("%s: replies = %d, want 2 (read, bounce)", m.id, len(rs))
			}
		}
		if got := len(cards(e.fake)); got != len(mails) {
			t.Errorf("cards = %d, want %d: no card posted twice", got, len(mails))
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox after the outage = %v, want empty", p)
		}
	})
}

func TestWriterLevelProblems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		if err := e.settings.PutSettings(t.Context(), alice.ID, bot.UserSettings{Level: bot.LevelProblems}); err != nil {
			t.Fatal(err)
		}
		defer e.run(t)()
		sent := time.Now().Add(-time.Hour)
		id := "m1@example.com"
		e.register(t, id, alice.Email, "Plans", sent, carol.Email, outsider)
		e.observe(t, id, carol.Email, track.StatusDelivered, "", sent)
		settle(10 * time.Second)
		ts := cardTS(t, e.fake, "Plans")

		e.observe(t, id, carol.Email, track.StatusRead, "", time.Now())
		settle(10 * time.Second)
		if got := len(updates(e.fake, ts)); got != 1 {
			t.Errorf("card updates after a read = %d, want 1 (the card stays current)", got)
		}
		if got := len(replies(e.fake, ts)); got != 0 {
			t.Errorf("replies after a read = %d, want 0 at level problems", got)
		}
		e.observe(t, id, outsider, track.StatusFailed, report.ReasonHostUnknown, time.Now())
		settle(10 * time.Second)
		rs := replies(e.fake, ts)
		if len(rs) != 1 || !strings.Contains(rs[0].Text(), "no such domain") {
			t.Errorf("replies after a bounce = %v, want one naming the reason", rs)
		}
	})
}

func TestWriterHoldsDuringQuietHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true, config: func(c *bot.Config) { c.Poll = 10 * time.Second }})
		ny, _ := time.LoadLocation(alice.TZ)
		now := time.Now().In(ny)
		start := now.Hour()*60 + now.Minute()
		q := bot.QuietHours{Start: start, End: (start + 120) % (24 * 60)}
		if err := e.settings.PutSettings(t.Context(), alice.ID, bot.UserSettings{Quiet: q}); err != nil {
			t.Fatal(err)
		}
		defer e.run(t)()
		e.register(t, "m1@example.com", alice.Email, "Late news", now.Add(-time.Hour), carol.Email)
		e.observe(t, "m1@example.com", carol.Email, track.StatusDelivered, "", now)
		settle(110 * time.Minute)
		if got := len(cards(e.fake)); got != 0 {
			t.Fatalf("cards during quiet hours = %d, want 0", got)
		}
		settle(15 * time.Minute)
		if got := len(cards(e.fake)); got != 1 {
			t.Fatalf("cards after quiet hours = %d, want 1", got)
		}
	})
}

// A card deleted in Slack is posted again rather than lost.
func TestWriterRepostsLostCard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m1@example.com", alice.Email, "Gone card", sent, carol.Email)
		if err := e.store.PutSlackRef(t.Context(), "m1@example.com", store.SlackRef{Channel: "DUALICE", TS: "1600000000.000001"}); err != nil {
			t.Fatal(err)
		}
		e.observe(t, "m1@example.com", carol.Email, track.StatusDelivered, "", sent)
		defer e.run(t)()
		settle(10 * time.Second)
		if got := len(cards(e.fake)); got != 1 {
			t.Fatalf("cards = %d, want the lost card posted again; calls: %s", got, e.fake.Summary())
		}
		ref, err := e.store.SlackRef(t.Context(), "m1@example.com")
		if err != nil || ref.TS == "1600000000.000001" {
			t.Errorf("card ref = %v, %v; want the new card", ref, err)
		}
	})
}

// A sender with no Slack user gets nothing, and the notices do not pile
// up in the outbox.
func TestWriterDropsNoticesOfSendersOutsideSlack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m1@partner.example", "boss@partner.example", "Hello", sent, carol.Email)
		e.observe(t, "m1@partner.example", carol.Email, track.StatusDelivered, "", sent)
		defer e.run(t)()
		settle(10 * time.Second)
		if got := len(cards(e.fake)); got != 0 {
			t.Errorf("cards = %d, want 0", got)
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox = %v, want empty", p)
		}
		if !strings.Contains(e.logged(), "sender has no slack user") {
			t.Error("dropping the notices was not logged")
		}
	})
}

// A Japanese-locale sender gets the card and replies in Japanese, with
// times in Asia/Tokyo.
func TestWriterJapaneseCard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		sent := time.Now().Add(-3 * time.Hour) // the bubble starts at 2000-01-01 00:00 UTC: 06:00 JST
		id := "m1@example.jp"
		e.register(t, id, hanako.Email, "お見積もりの件", sent, carol.Email, outsider)
		e.observe(t, id, outsider, track.StatusFailed, report.ReasonMailboxFull, sent.Add(time.Minute))
		settle(10 * time.Second)
		c := cards(e.fake)
		if len(c) != 1 {
			t.Fatalf("cards = %d, want 1", len(c))
		}
		for _, w := range []string{"お見積もりの件", "送信日時: 1月1日(土) 06:00", "不達（メールボックスが満杯）", "時間をおいて再送するか、電話でご連絡ください。", "Slackでお知らせ", "完了"} {
			if !strings.Contains(c[0].Text(), w) {
				t.Errorf("Japanese card lacks %q:\n%s", w, c[0].Text())
			}
		}
		if strings.Contains(c[0].Text(), "bounced") {
			t.Errorf("Japanese card has English status words:\n%s", c[0].Text())
		}
	})
}

// TestWriterLastAttemptOnStop: notices put in the outbox just before the
// bot stops are delivered by its last attempt, not held until the next
// start.
func TestWriterLastAttemptOnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true, config: func(c *bot.Config) { c.Poll = time.Hour }})
		stop := e.run(t)
		settle(time.Second)
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m-stop@example.com", alice.Email, "Before the stop", sent, carol.Email)
		e.observe(t, "m-stop@example.com", carol.Email, track.StatusRead, "", sent.Add(time.Minute))
		if n := len(cards(e.fake)); n != 0 {
			t.Fatalf("cards before the stop = %d, want 0 (the writer polls hourly)", n)
		}
		stop()
		if n := len(cards(e.fake)); n != 1 {
			t.Errorf("cards after the stop = %d, want 1 from the last attempt; calls: %s", n, e.fake.Summary())
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox after the stop holds %d notices, want none", len(p))
		}
	})
}
