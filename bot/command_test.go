package bot_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func TestCommandHelp(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	tests := []struct {
		name, text string
		user       fakeUser
		want       []string
		notWant    []string
	}{
		{"english", "help", alice, []string{"/track list [pending|problems|all]", "list your tracked mail", "/track settings", "&lt;Message-ID&gt;"}, []string{"/track who"}},
		{"japanese", "help", hanako, []string{"/track list", "追跡中のメールを一覧表示", "送信済みメールの追跡を開始"}, []string{"list your tracked mail"}},
		{"admin sees admin commands", "", admin, []string{"/track who &lt;address&gt;", "list the tracked mail of any sender"}, nil},
		{"wrong arguments get usage and help", "list everything", alice, []string{"Usage: `/track list [pending|problems|all]`", "/track snooze"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.answer(t, e.command(t, tc.user, tc.text))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("/track %s as %s lacks %q:\n%s", tc.text, tc.user.ID, w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("/track %s as %s has %q:\n%s", tc.text, tc.user.ID, w, got)
				}
			}
			if !strings.Contains(got, `"response_type":"ephemeral"`) {
				t.Errorf("answer is not ephemeral: %s", got)
			}
		})
	}
}

func TestCommandList(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	sent := time.Now().Add(-time.Hour)
	e.register(t, "a1@example.com", alice.Email, "Alice waiting", sent, carol.Email)
	e.register(t, "a2@example.com", alice.Email, "Alice bounced", sent, outsider)
	e.observe(t, "a2@example.com", outsider, track.StatusFailed, report.ReasonUserUnknown, sent)
	e.register(t, "a3@example.com", alice.Email, "Alice answered", sent, carol.Email)
	e.observe(t, "a3@example.com", carol.Email, track.StatusRead, "", sent)
	e.register(t, "a4@example.com", alice.Email, "Alice closed", sent, carol.Email)
	if _, err := e.store.CloseMail(t.Context(), "a4@example.com", track.StateDone, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.register(t, "b1@example.com", bob.Email, "Bob secret plans", sent, carol.Email)

	tests := []struct {
		text    string
		want    []string
		notWant []string
	}{
		{"list", []string{"Alice waiting", "Alice bounced", "Alice answered"}, []string{"Alice closed"}},
		{"list pending", []string{"Alice waiting"}, []string{"Alice bounced", "Alice answered"}},
		{"list problems", []string{"Alice bounced", "no such address"}, []string{"Alice waiting"}},
		{"list all", []string{"Alice closed", "Alice waiting"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got := e.answer(t, e.command(t, alice, tc.text))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("/track %s lacks %q:\n%s", tc.text, w, got)
				}
			}
			for _, w := range append(tc.notWant, "Bob secret plans") {
				if strings.Contains(got, w) {
					t.Errorf("/track %s shows %q:\n%s", tc.text, w, got)
				}
			}
		})
	}
}

func TestCommandSettings(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	got := e.answer(t, e.command(t, alice, "settings lang ja notify problems deadline 3d quiet 22:00-07:00"))
	if !strings.Contains(got, "保存しました。言語: ") || !strings.Contains(got, "問題と期限切れのみ") || !strings.Contains(got, "22:00–07:00") {
		t.Errorf("settings answer = %s, want the new settings in Japanese", got)
	}
	set, err := e.settings.Settings(t.Context(), alice.ID)
	want := bot.UserSettings{Language: bot.Japanese, Level: bot.LevelProblems, Deadline: 72 * time.Hour, Quiet: bot.QuietHours{Start: 22 * 60, End: 7 * 60}}
	if err != nil || !reflect.DeepEqual(set, want) {
		t.Errorf("stored settings = %+v, %v; want %+v", set, err, want)
	}
	if got := e.answer(t, e.command(t, alice, "settings notify sometimes")); !strings.Contains(got, "notify sometimes") {
		t.Errorf("bad setting answer = %s, want it named", got)
	}
	if got, _ := e.settings.Settings(t.Context(), alice.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("a bad setting changed the settings to %+v", got)
	}
}

func TestCommandAdminOnly(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	e.register(t, "b1@example.com", bob.Email, "Bob secret plans", time.Now().Add(-time.Hour), carol.Email)
	if got := e.answer(t, e.command(t, alice, "who bob@example.com")); strings.Contains(got, "Bob secret plans") || !strings.Contains(got, "for administrators") {
		t.Errorf("/track who as a user = %s, want refused", got)
	}
	if got := e.answer(t, e.command(t, admin, "who bob@example.com")); !strings.Contains(got, "Bob secret plans") {
		t.Errorf("/track who as admin = %s, want bob's mail", got)
	}
}

func TestCommandStartsTracking(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	sent := time.Now().Add(-2 * time.Hour)
	e.sent.add(alice.Email, bot.SentMail{MessageID: "s1@example.com", Subject: "Proposal v2", SentAt: sent, To: []string{carol.Email}})
	e.sent.add(alice.Email, bot.SentMail{MessageID: "s2@example.com", Subject: "Proposal v3", SentAt: sent, To: []string{outsider}})
	e.sent.add(bob.Email, bot.SentMail{MessageID: "s9@example.com", Subject: "Proposal from Bob", SentAt: sent, To: []string{carol.Email}})

	got := e.answer(t, e.command(t, alice, "proposal"))
	for _, w := range []string{"Proposal v2", "Proposal v3", `"action_id":"track_pick"`, `"value":"s1@example.com"`} {
		if !strings.Contains(got, w) {
			t.Errorf("search answer lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "Proposal from Bob") {
		t.Error("search offered another sender's mail")
	}
	if got := e.answer(t, e.command(t, alice, "nothing like this")); !strings.Contains(got, "No sent mail matched") || !strings.Contains(got, "/track list") {
		t.Errorf("search without matches = %s, want a note and the help", got)
	}

	got = e.answer(t, e.press(t, alice, blockAction{ActionID: "track_pick", Value: "s1@example.com"}))
	if !strings.Contains(got, "Now tracking “Proposal v2”") {
		t.Errorf("track answer = %s", got)
	}
	if m, err := e.store.Mail(t.Context(), "s1@example.com"); err != nil || m.Sender != alice.Email {
		t.Fatalf("tracked mail = %+v, %v", m, err)
	}
	e.fake.WaitFor(t, "card of the tracked mail", method("chat.postMessage", "Proposal v2"))

	// A Message-ID typed in, with the brackets Slack escapes.
	got = e.answer(t, e.command(t, alice, "&lt;s2@example.com&gt;"))
	if !strings.Contains(got, "Now tracking “Proposal v3”") {
		t.Errorf("track by Message-ID = %s", got)
	}
	// Someone else's Message-ID is not in alice's Sent folder.
	if got := e.answer(t, e.command(t, alice, "s9@example.com")); !strings.Contains(got, "No sent mail matched") {
		t.Errorf("tracking bob's mail as alice = %s, want not found", got)
	}
	if _, err := e.store.Mail(t.Context(), "s9@example.com"); err == nil {
		t.Error("bob's mail was tracked on alice's request")
	}
}
