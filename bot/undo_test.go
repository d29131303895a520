package bot_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
)

// Done can be undone from its confirmation, which restores the deadline
// the mail had; /track stop and /track reopen round-trip too, and the
// closed card offers Reopen.
func TestUndoAndReopen(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	sent := time.Now().Add(-time.Hour)
	id := "u1@example.com"
	before := e.register(t, id, alice.Email, "Quarterly numbers", sent, carol.Email)
	e.observe(t, id, carol.Email, track.StatusDelivered, "", sent)
	e.fake.WaitFor(t, "card", method("chat.postMessage", "Quarterly numbers", "Message-ID: `u1@example.com`"))

	respURL := e.press(t, alice, blockAction{ActionID: "done", BlockID: id, Value: id})
	path := strings.TrimPrefix(respURL, e.base)
	answer := e.fake.WaitFor(t, "done confirmation", func(c call) bool { return c.Path == path })
	if !strings.Contains(answer.Text(), `"action_id":"undo"`) || !strings.Contains(answer.Text(), "Marked “Quarterly numbers” done") {
		t.Fatalf("done confirmation without Undo: %s", answer.Text())
	}
	e.fake.WaitFor(t, "card closed with Reopen", method("chat.update", `"action_id":"reopen"`))
	undo := blockAction{ActionID: "undo", Value: id + " " + itoa(before.DueAt.Unix())}
	if got := e.answer(t, e.press(t, alice, undo)); !strings.Contains(got, "Tracking “Quarterly numbers” again.") {
		t.Errorf("undo answer = %s", got)
	}
	m, err := e.store.Mail(t.Context(), id)
	if err != nil || m.State != track.StateOpen || !m.DueAt.Equal(before.DueAt.Truncate(time.Second)) {
		t.Errorf("after undo: state %q due %v (%v); want open, due %v", m.State, m.DueAt, err, before.DueAt)
	}
	if got := e.answer(t, e.command(t, alice, "reopen "+id)); !strings.Contains(got, "is still being tracked") {
		t.Errorf("/track reopen of an open mail = %s", got)
	}

	if got := e.answer(t, e.command(t, alice, "stop <"+id+">")); !strings.Contains(got, "Stopped tracking") || !strings.Contains(got, `"action_id":"undo"`) {
		t.Errorf("/track stop = %s, want a confirmation with Undo", got)
	}
	if got := e.answer(t, e.command(t, bob, "reopen "+id)); !strings.Contains(got, "You can only act on mail you sent.") {
		t.Errorf("/track reopen of alice's mail as bob = %s", got)
	}
	if got := e.answer(t, e.press(t, bob, blockAction{ActionID: "undo", Value: id + " 0"})); !strings.Contains(got, "You can only act on mail you sent.") {
		t.Errorf("undo of alice's mail as bob = %s", got)
	}
	if m, _ := e.store.Mail(t.Context(), id); m.State != track.StateStopped {
		t.Fatalf("bob reopened alice's mail: state %q", m.State)
	}
	if got := e.answer(t, e.command(t, alice, "reopen "+id)); !strings.Contains(got, "Tracking “Quarterly numbers” again.") {
		t.Errorf("/track reopen = %s", got)
	}
	if m, _ := e.store.Mail(t.Context(), id); m.State != track.StateOpen {
		t.Errorf("after /track reopen: state %q, want open", m.State)
	}
	if got := e.answer(t, e.press(t, alice, blockAction{ActionID: "undo", Value: "garbage"})); !strings.Contains(got, "No tracked mail has that Message-ID.") {
		t.Errorf("undo with a malformed value = %s", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
