package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// answerFrom applies a reply (sig StatusReplied) or an automatic reply
// (StatusAway, StatusAutoAck) from rcpt, as the watcher would, and returns
// the notices it caused.
func (e *env) answerFrom(t *testing.T, id, rcpt string, sig track.Status, away time.Time, at time.Time) []track.Notice {
	t.Helper()
	ev := track.Evidence{
		ID: fmt.Sprintf("test-%s-%s-%s", id, rcpt, sig), MessageID: id, Recipient: rcpt, Source: track.SourceReply,
		Signal: sig, At: at, Seen: at, Confidence: track.ConfidenceExact, ReplyID: "r-" + rcpt,
	}
	switch sig {
	case track.StatusAway:
		ev.Source, ev.AutoReply, ev.AwayUntil = track.SourceAutoReply, report.AutoReplyAway, away
	case track.StatusAutoAck:
		ev.Source, ev.AutoReply = track.SourceAutoReply, report.AutoReplyAck
	}
	res, err := e.store.ApplyReport(t.Context(), store.ApplyInput{Evidence: []track.Evidence{ev}, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notices) == 0 {
		t.Fatalf("%s from %s caused no notice", sig, rcpt)
	}
	return res.Notices
}

// calendarDay is the date d days after t, as the reader gives an
// out-of-office notice's date: midnight UTC.
func calendarDay(t time.Time, d int) time.Time {
	y, m, day := t.UTC().Date()
	return time.Date(y, m, day+d, 0, 0, 0, 0, time.UTC)
}

// Each answer gets a thread reply in its own words for a user told of
// every change; one who chose "problems and deadlines only" sees the card
// change and gets no reply, since an answer is no problem and an
// out-of-office notice only moves the deadline (whose miss is told).
func TestAnswerThreadRepliesByLevel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     bot.UserSettings
		replies []string // the thread replies expected, in order
	}{
		{"every change", bot.UserSettings{}, []string{"replied at", "away until", "automatic acknowledgement"}},
		{"problems only", bot.UserSettings{Level: bot.LevelProblems}, nil},
		{"each read or reply", bot.UserSettings{Notify: []bot.NotifyPref{{MessageID: "m1@example.com", On: bot.NotifyRead}}}, []string{"replied at"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, envOptions{inProcess: true})
				if err := e.settings.PutSettings(t.Context(), alice.ID, tc.set); err != nil {
					t.Fatal(err)
				}
				defer e.run(t)()
				sent := time.Now().Add(-time.Hour)
				id := "m1@example.com"
				e.register(t, id, alice.Email, "Quote", sent, carol.Email, bob.Email, "desk@vendor.example")
				e.observe(t, id, carol.Email, track.StatusDelivered, "", sent)
				settle(10 * time.Second)
				ts := cardTS(t, e.fake, "Quote")

				steps := []struct {
					rcpt string
					sig  track.Status
					card string // what the card says afterwards
				}{
					{carol.Email, track.StatusReplied, "replied at"},
					{bob.Email, track.StatusAway, "away until " + calendarDay(time.Now(), 5).Format("Mon 2 Jan")},
					{"desk@vendor.example", track.StatusAutoAck, "automatic acknowledgement — no reply from a person yet"},
				}
				for i, s := range steps {
					e.answerFrom(t, id, s.rcpt, s.sig, calendarDay(time.Now(), 5), time.Now())
					settle(10 * time.Second)
					ups := updates(e.fake, ts)
					if len(ups) != i+1 || !strings.Contains(ups[i].Text(), s.card) {
						t.Fatalf("after %s from %s: %d card updates, want %d saying %q; last: %v", s.sig, s.rcpt, len(ups), i+1, s.card, ups)
					}
				}
				rs := replies(e.fake, ts)
				if len(rs) != len(tc.replies) {
					t.Fatalf("thread replies = %d, want %d (%q): %v", len(rs), len(tc.replies), tc.replies, rs)
				}
				for i, w := range tc.replies {
					if !strings.Contains(rs[i].Text(), w) {
						t.Errorf("thread reply %d = %q, want it to say %q", i, rs[i].Text(), w)
					}
				}
			})
		})
	}
}

// Nudge buttons go from the card and App Home once a recipient answered
// or is away by their automatic reply, and a button left on an older
// rendering nudges nobody.
func TestNudgeHiddenWhenAnsweredOrAway(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	now := time.Now()
	id := "n1@example.com"
	e.register(t, id, alice.Email, "Contract", now.Add(-time.Hour), carol.Email, bob.Email)
	e.observe(t, id, carol.Email, track.StatusDelivered, "", now)
	nudgeBob, nudgeCarol := `"value":"`+id+" "+bob.Email+`"`, `"value":"`+id+" "+carol.Email+`"`
	e.fake.WaitFor(t, "card with both nudges", method("chat.postMessage", "Contract", nudgeBob, nudgeCarol))

	back := calendarDay(now, 4)
	e.answerFrom(t, id, bob.Email, track.StatusAway, back, now)
	e.fake.WaitFor(t, "card without bob's nudge", func(c call) bool {
		return method("chat.update", "Contract", "away until", nudgeCarol)(c) && !strings.Contains(c.Text(), nudgeBob)
	})
	e.answerFrom(t, id, carol.Email, track.StatusReplied, time.Time{}, now)
	e.fake.WaitFor(t, "card without nudges, still waiting for bob", func(c call) bool {
		return method("chat.update", "Contract", "replied at", "waiting for confirmation until")(c) && !strings.Contains(c.Text(), `"action_id":"nudge`)
	})
	e.press(t, alice, blockAction{ActionID: "home_tab.waiting", Value: "waiting", InHome: true})
	e.fake.WaitFor(t, "home without nudges", func(c call) bool {
		return homeOf(alice, "Contract", "away until")(c) && !strings.Contains(c.Text(), `"action_id":"nudge`)
	})

	for _, tc := range []struct {
		addr, want string
	}{
		{bob.Email, "is away until " + back.Format("Mon 2 Jan") + " (automatic reply), so I sent no reminder."},
		{carol.Email, "has already answered this mail, so I sent no reminder."},
	} {
		resp := e.press(t, alice, blockAction{ActionID: "nudge.0", Value: id + " " + tc.addr})
		if got := e.answer(t, resp); !strings.Contains(got, tc.want) {
			t.Errorf("nudge of %s = %q, want %q", tc.addr, got, tc.want)
		}
	}
	// Once bob answers too, the card waits for nobody.
	e.answerFrom(t, id, bob.Email, track.StatusReplied, time.Time{}, now.Add(time.Minute))
	e.fake.WaitFor(t, "card waiting for nobody", func(c call) bool {
		return method("chat.update", "Contract", "nothing left to wait for")(c) && !strings.Contains(c.Text(), "waiting for confirmation")
	})
	if dms := e.fake.All(func(c call) bool {
		return c.Method == "chat.postMessage" && (c.Param("channel") == "D"+bob.ID || c.Param("channel") == "D"+carol.ID)
	}); len(dms) != 0 {
		t.Errorf("nudges sent: %v", dms)
	}
}
