package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
)

// Every action re-checks ownership on the server: a payload crafted with
// another sender's Message-ID is refused and changes nothing; an admin may
// look at it but not act on it.
func TestActionsRefuseAnotherSendersMail(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	bobs := "b1@example.com"
	e.register(t, bobs, bob.Email, "Bob secret plans", time.Now().Add(-time.Hour), carol.Email)
	if err := e.store.PutSlackRef(t.Context(), bobs, store.SlackRef{Channel: "DUBOB", TS: "1700000000.999999"}); err != nil {
		t.Fatal(err)
	}
	crafted := []struct {
		name string
		user fakeUser
		a    blockAction
	}{
		{"done", alice, blockAction{ActionID: "done", BlockID: bobs, Value: bobs}},
		{"snooze 1 day", alice, blockAction{ActionID: "snooze_1d", Value: bobs}},
		{"snooze 3 days", alice, blockAction{ActionID: "snooze_3d", Value: bobs}},
		{"snooze until", alice, blockAction{ActionID: "snooze_date", BlockID: bobs, Type: "datepicker", SelectedDate: "2099-01-02"}},
		{"follow-up text", alice, blockAction{ActionID: "followup", Value: bobs}},
		{"nudge", alice, blockAction{ActionID: "nudge", Value: bobs + " " + carol.Email}},
		{"admin done", admin, blockAction{ActionID: "done", Value: bobs}},
	}
	for _, tc := range crafted {
		t.Run(tc.name, func(t *testing.T) {
			got := e.answer(t, e.press(t, tc.user, tc.a))
			if !strings.Contains(got, "You can only act on mail you sent.") {
				t.Errorf("%s on bob's mail as %s = %s, want refused", tc.name, tc.user.ID, got)
			}
		})
	}
	for _, cmd := range []string{"stop " + bobs, "snooze " + bobs + " 1d", "show " + bobs} {
		if got := e.answer(t, e.command(t, alice, cmd)); !strings.Contains(got, "You can only act on mail you sent.") || strings.Contains(got, "Bob secret plans") {
			t.Errorf("/track %s as alice = %s, want refused", cmd, got)
		}
	}
	if got := e.answer(t, e.command(t, admin, "show "+bobs)); !strings.Contains(got, "Bob secret plans") {
		t.Errorf("/track show as admin = %s, want bob's card", got)
	}
	m, err := e.store.Mail(t.Context(), bobs)
	if err != nil || m.State != track.StateOpen {
		t.Errorf("bob's mail after crafted actions: state %q, %v; want open", m.State, err)
	}
	for _, c := range e.fake.All(func(c call) bool { return c.OK() }) {
		switch {
		case c.Method == "chat.update", c.Method == "views.open", c.Method == "conversations.open" && c.Param("users") == carol.ID:
			t.Errorf("crafted action caused %s: %s", c.Method, c.Text())
		}
	}
	if !strings.Contains(e.logged(), "refused access to another sender's mail") {
		t.Error("refusals were not logged")
	}
}

func TestActionsDoneAndSnooze(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	sent := time.Now().Add(-time.Hour)
	e.register(t, "h1@example.jp", hanako.Email, "打ち合わせ日程", sent, carol.Email)
	e.register(t, "h2@example.jp", hanako.Email, "請求書", sent, carol.Email)
	e.observe(t, "h2@example.jp", carol.Email, track.StatusDelivered, "", sent)
	card := e.fake.WaitFor(t, "card", method("chat.postMessage", "請求書"))
	e.fake.WaitFor(t, "App Home after the card is stored", method("views.publish", "請求書"))

	got := e.answer(t, e.press(t, hanako, blockAction{ActionID: "snooze_date", BlockID: "h1@example.jp", Type: "datepicker", SelectedDate: "2099-03-04"}))
	if !strings.Contains(got, "までスヌーズしました") {
		t.Errorf("snooze answer = %s", got)
	}
	m, err := e.store.Mail(t.Context(), "h1@example.jp")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if want := time.Date(2099, 3, 4, 9, 0, 0, 0, tokyo); err != nil || m.State != track.StateSnoozed || !m.SnoozedUntil.Equal(want) {
		t.Errorf("after snooze: state %q until %v (%v); want snoozed until %v", m.State, m.SnoozedUntil, err, want)
	}
	if got := e.answer(t, e.press(t, hanako, blockAction{ActionID: "snooze_date", BlockID: "h1@example.jp", Type: "datepicker", SelectedDate: "2001-01-01"})); !strings.Contains(got, "未来の日付") {
		t.Errorf("snooze into the past = %s, want refused", got)
	}

	got = e.answer(t, e.press(t, hanako, blockAction{ActionID: "done", Value: "h2@example.jp"}))
	if !strings.Contains(got, "「請求書」を完了にしました") {
		t.Errorf("done answer = %s", got)
	}
	if m, err := e.store.Mail(t.Context(), "h2@example.jp"); err != nil || m.State != track.StateDone {
		t.Errorf("after done: state %q, %v", m.State, err)
	}
	up := e.fake.WaitFor(t, "card update", method("chat.update", "完了（追跡終了）"))
	if up.Param("channel") != card.Param("channel") {
		t.Errorf("updated channel %s, want the card's %s", up.Param("channel"), card.Param("channel"))
	}
	if strings.Contains(up.Text(), `"action_id":"done"`) {
		t.Error("a closed mail's card still has buttons")
	}
}

// Follow-up text opens a modal with courteous wording in the sender's
// language.
func TestActionFollowUpText(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	sent := time.Now().Add(-time.Hour)
	e.register(t, "h1@example.jp", hanako.Email, "お見積もり", sent, outsider)
	e.register(t, "a1@example.com", alice.Email, "Estimate", sent, outsider)
	e.press(t, hanako, blockAction{ActionID: "followup", Value: "h1@example.jp"})
	e.fake.WaitFor(t, "Japanese follow-up modal", method("views.open", "ご確認いただけましたでしょうか", "「お見積もり」", "フォローアップ文面"))
	e.press(t, alice, blockAction{ActionID: "followup", Value: "a1@example.com"})
	c := e.fake.WaitFor(t, "English follow-up modal", method("views.open", "Could you let me know whether you have had a chance to look at it?", "“Estimate”"))
	if c.Param("trigger_id") == "" {
		t.Error("views.open without the trigger_id")
	}
}

// Nudge in Slack DMs a recipient who is in the workspace; their "Seen it"
// records an acknowledgement that reaches the sender's card. Only that
// recipient may press it.
func TestActionNudgeAndSeenIt(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	id := "a1@example.com"
	e.register(t, id, alice.Email, "Room booking", time.Now().Add(-time.Hour), carol.Email, outsider)
	e.observe(t, id, carol.Email, track.StatusDelivered, "", time.Now())
	card := e.fake.WaitFor(t, "card", method("chat.postMessage", "Room booking", `"action_id":"nudge.0"`))
	if strings.Contains(card.Text(), `"value":"a1@example.com someone@partner.example"`) {
		t.Error("the card offers to nudge a recipient outside Slack")
	}

	got := e.answer(t, e.press(t, alice, blockAction{ActionID: "nudge", Value: id + " " + carol.Email}))
	if !strings.Contains(got, "<@UCAROL>") {
		t.Errorf("nudge answer = %s", got)
	}
	dm := e.fake.WaitFor(t, "nudge DM", method("chat.postMessage", "Room booking", "Seen it", "<@UALICE>"))
	if dm.Param("channel") != "D"+carol.ID {
		t.Errorf("nudge went to %s, want carol's DM", dm.Param("channel"))
	}
	if got := e.answer(t, e.press(t, alice, blockAction{ActionID: "nudge", Value: id + " " + carol.Email})); !strings.Contains(got, "recently") {
		t.Errorf("second nudge = %s, want held back", got)
	}
	if got := e.answer(t, e.press(t, alice, blockAction{ActionID: "nudge", Value: id + " " + outsider})); !strings.Contains(got, "not in this Slack workspace") {
		t.Errorf("nudging an outsider = %s", got)
	}

	if got := e.answer(t, e.press(t, bob, blockAction{ActionID: "seen", Value: id + " " + carol.Email})); !strings.Contains(got, "for the person the mail was sent to") {
		t.Errorf("seen-it by bob = %s, want refused", got)
	}
	e.press(t, carol, blockAction{ActionID: "seen", Value: id + " " + carol.Email, OnMessage: dm.TS})
	e.fake.WaitFor(t, "thank-you", method("chat.update", "Thank you! I let <@UALICE> know"))
	e.fake.WaitFor(t, "card showing the acknowledgement", method("chat.update", "Room booking", "confirmed in Slack"))
	e.fake.WaitFor(t, "thread reply", func(c call) bool {
		return method("chat.postMessage", "carol@example.com", "confirmed in Slack")(c) && c.Param("thread_ts") != ""
	})
	m, err := e.store.Mail(t.Context(), id)
	if err != nil || m.Recipients[0].Status != track.StatusAcknowledged {
		t.Errorf("carol's status = %+v, %v; want acknowledged", m.Recipients, err)
	}
}
