package bot_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/track"
)

// interact posts an interactivity payload of u and returns the response.
func (e *env) interact(t *testing.T, payload map[string]any) (int, []byte) {
	t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	rec := e.post(bot.PathInteractivity, url.Values{"payload": {string(raw)}}.Encode())
	return rec.Code, rec.Body.Bytes()
}

func userOf(u fakeUser) map[string]any {
	return map[string]any{"id": u.ID, "username": strings.ToLower(u.ID), "team_id": "T1DC2JH3J"}
}

// submission is a view_submission of the track modal with the values.
func submission(u fakeUser, pick, hours, notify string, due int64) map[string]any {
	values := map[string]any{
		"pick":   map[string]any{"pick_sent": map[string]any{"type": "external_select"}},
		"due":    map[string]any{"due_at": map[string]any{"type": "datetimepicker"}},
		"hours":  map[string]any{"due_hours": map[string]any{"type": "plain_text_input", "value": hours}},
		"notify": map[string]any{"notify_on": map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"text": map[string]any{"type": "plain_text", "text": "x"}, "value": notify}}},
	}
	if pick != "" {
		values["pick"] = map[string]any{"pick_sent": map[string]any{"type": "external_select", "selected_option": map[string]any{"text": map[string]any{"type": "plain_text", "text": "x"}, "value": pick}}}
	}
	if due != 0 {
		values["due"] = map[string]any{"due_at": map[string]any{"type": "datetimepicker", "selected_date_time": due}}
	}
	return map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T1DC2JH3J"}, "user": userOf(u), "api_app_id": "A0MAILACK",
		"trigger_id": "1.2.3",
		"view":       map[string]any{"id": "V9", "type": "modal", "callback_id": "track_modal", "state": map[string]any{"values": values}},
	}
}

// The global shortcut opens the modal; typing searches the user's own
// Sent folder (block_suggestion, answered in the acknowledgement); the
// submission starts tracking with the deadline and notifications chosen.
func TestTrackShortcutModal(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	sent := time.Now().Add(-2 * time.Hour)
	e.sent.add(alice.Email, bot.SentMail{MessageID: "q1@example.com", Subject: "Quote for Q3 <!channel>", SentAt: sent, To: []string{carol.Email}})
	e.sent.add(bob.Email, bot.SentMail{MessageID: "b1@example.com", Subject: "Quote from Bob", SentAt: sent, To: []string{carol.Email}})

	code, _ := e.interact(t, map[string]any{"type": "shortcut", "callback_id": "track_sent", "trigger_id": e.fake.TriggerID(),
		"user": userOf(alice), "team": map[string]any{"id": "T1DC2JH3J"}})
	if code != http.StatusOK {
		t.Fatalf("shortcut = %d", code)
	}
	e.fake.WaitFor(t, "modal", method("views.open", "Track a sent mail", `"type":"external_select"`, `"type":"datetimepicker"`))

	code, body := e.interact(t, map[string]any{"type": "block_suggestion", "action_id": "pick_sent", "block_id": "pick", "value": "quote",
		"user": userOf(alice), "team": map[string]any{"id": "T1DC2JH3J"}, "view": map[string]any{"id": "V1", "type": "modal", "callback_id": "track_modal"}})
	if errs := slackfake.CheckOptions(body); code != http.StatusOK || len(errs) > 0 {
		t.Fatalf("suggestions = %d %s: %v", code, body, errs)
	}
	if s := string(body); !strings.Contains(s, `"value":"q1@example.com"`) || strings.Contains(s, "b1@example.com") {
		t.Errorf("alice's suggestions = %s, want her mail and not bob's", s)
	}

	for name, tc := range map[string]struct {
		p     map[string]any
		block string
	}{
		"no mail":         {submission(alice, "", "", "all", 0), "pick"},
		"hours not whole": {submission(alice, "q1@example.com", "two", "all", 0), "hours"},
		"past reminder":   {submission(alice, "q1@example.com", "", "all", time.Now().Add(-time.Hour).Unix()), "due"},
	} {
		code, body := e.interact(t, tc.p)
		modal := map[string]any{"blocks": []any{
			map[string]any{"type": "input", "block_id": "pick"}, map[string]any{"type": "input", "block_id": "due"},
			map[string]any{"type": "input", "block_id": "hours"}, map[string]any{"type": "input", "block_id": "notify"},
		}}
		if errs := slackfake.CheckSubmissionResponse(body, modal); code != http.StatusOK || len(errs) > 0 || !strings.Contains(string(body), `"`+tc.block+`":`) {
			t.Errorf("%s: submission answered %d %s (%v), want an error beside %s", name, code, body, errs, tc.block)
		}
	}
	if n := len(e.fake.All(method("chat.postMessage", "Quote for Q3"))); n != 0 {
		t.Errorf("a refused submission posted %d cards", n)
	}

	// Bob cannot track alice's mail through a crafted submission.
	if code, body := e.interact(t, submission(bob, "q1@example.com", "", "all", 0)); code != http.StatusOK || len(body) != 0 {
		t.Errorf("bob's submission = %d %s", code, body)
	}
	e.fake.WaitFor(t, "bob told no match", func(c call) bool {
		return c.Method == "chat.postEphemeral" && c.Param("user") == bob.ID && strings.Contains(c.Text(), "No sent mail matched")
	})

	if code, body := e.interact(t, submission(alice, "q1@example.com", "8", "read", 0)); code != http.StatusOK || len(body) != 0 {
		t.Fatalf("submission = %d %s, want an empty ack that closes the modal", code, body)
	}
	e.fake.WaitFor(t, "card", method("chat.postMessage", "Quote for Q3"))
	e.fake.WaitFor(t, "answer", func(c call) bool {
		return c.Method == "chat.postEphemeral" && c.Param("user") == alice.ID && strings.Contains(c.Text(), "Now tracking")
	})
	m, err := e.store.Mail(t.Context(), "q1@example.com")
	if err != nil || m.Deadline != 8*time.Hour || m.Sender != alice.Email {
		t.Errorf("tracked mail: deadline %v sender %s (%v); want 8h, alice", m.Deadline, m.Sender, err)
	}
	set, _ := e.settings.Settings(t.Context(), alice.ID)
	if len(set.Notify) != 1 || set.Notify[0] != (bot.NotifyPref{MessageID: "q1@example.com", On: bot.NotifyRead}) {
		t.Errorf("notify choice = %+v, want read for q1", set.Notify)
	}

	// A date and time to be reminded at becomes the mail's deadline, and
	// the card says so.
	e.sent.add(alice.Email, bot.SentMail{MessageID: "q2@example.com", Subject: "Second quote", SentAt: sent, To: []string{carol.Email}})
	remind := time.Now().Add(50 * time.Hour).Truncate(time.Second)
	if code, body := e.interact(t, submission(alice, "q2@example.com", "", "all", remind.Unix())); code != http.StatusOK || len(body) != 0 {
		t.Fatalf("submission with a reminder = %d %s", code, body)
	}
	e.fake.WaitFor(t, "card snoozed until the reminder", method("chat.postMessage", "Second quote", "snoozed until"))
	if m, err := e.store.Mail(t.Context(), "q2@example.com"); err != nil || !m.DueAt.Equal(remind) || m.State != track.StateSnoozed {
		t.Errorf("reminder: due %v state %s (%v), want %v", m.DueAt, m.State, err, remind)
	}
}

// A message shortcut on a message quoting a Message-ID opens the modal
// with that mail chosen; one quoting a subject opens it and then fills in
// the match (views.update).
func TestTrackFromMessage(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	e.sent.add(hanako.Email, bot.SentMail{MessageID: "est-7@example.jp", Subject: "お見積りのご送付", SentAt: time.Now().Add(-time.Hour), To: []string{carol.Email}})
	msgShortcut := func(text string) {
		code, _ := e.interact(t, map[string]any{"type": "message_action", "callback_id": "track_from_message", "trigger_id": e.fake.TriggerID(),
			"user": userOf(hanako), "team": map[string]any{"id": "T1DC2JH3J"}, "channel": map[string]any{"id": "C0GENERAL"},
			"message": map[string]any{"type": "message", "text": text, "ts": "1700000000.000100"}, "response_url": e.responseURL()})
		if code != http.StatusOK {
			t.Fatalf("message shortcut = %d", code)
		}
	}
	msgShortcut("先方に送った件です Message-ID: &lt;est-7@example.jp&gt; ご確認ください")
	e.fake.WaitFor(t, "modal with the quoted mail chosen", method("views.open", "送信済みメールを追跡", `"initial_option":{"text":{"emoji":false,"text":"est-7@example.jp","type":"plain_text"},"value":"est-7@example.jp"}`))

	msgShortcut("件名: お見積りのご送付\n宜しくお願いします")
	e.fake.WaitFor(t, "modal updated with the match", method("views.update", `"value":"est-7@example.jp"`, "お見積りのご送付"))
}
