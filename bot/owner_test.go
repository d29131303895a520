package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/store"
)

// addCopy puts a copy of m into folderOwner's Sent folder, registered as
// sender as when tracked.
func (f *fakeSent) addCopy(folderOwner, as string, m bot.SentMail) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mails[folderOwner] = append(f.mails[folderOwner], sentCopy{SentMail: m, rcpts: m.To, as: as})
}

// Alice holds a copy of Bob's tracked mail in her Sent folder and asks to
// track it, by Message-ID or with the search's button: she is told it is
// tracked for another sender and sees nothing of it; Bob's card stays
// his. Also when the search side hands back Bob's mail itself (a copy
// registered under Bob's address), the bot does not show it to her.
func TestTrackRefusesAnotherSendersMail(t *testing.T) {
	const bobs = "b1@example.com"
	tests := []struct {
		name string
		as   string // whom alice's copy registers as
		ask  func(e *env, t *testing.T) string
	}{
		{"by message-id, copy registered as alice", "", func(e *env, t *testing.T) string { return e.command(t, alice, bobs) }},
		{"by button, copy registered as alice", "", func(e *env, t *testing.T) string {
			return e.press(t, alice, blockAction{ActionID: "track_pick", Value: bobs})
		}},
		{"by message-id, copy registered as bob", bob.Email, func(e *env, t *testing.T) string { return e.command(t, alice, "<"+bobs+">") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			stop := e.run(t)
			sent := time.Now().Add(-time.Hour)
			e.register(t, bobs, bob.Email, "Bob secret plans", sent, carol.Email)
			bobsCard := store.SlackRef{Channel: "DUBOB", TS: "1700000000.999999"}
			if err := e.store.PutSlackRef(t.Context(), bobs, bobsCard); err != nil {
				t.Fatal(err)
			}
			e.sent.addCopy(alice.Email, tc.as, bot.SentMail{MessageID: bobs, Subject: "Bob secret plans", SentAt: sent, To: []string{carol.Email, outsider}})

			got := e.answer(t, tc.ask(e, t))
			if !strings.Contains(got, "already tracked for another sender") || strings.Contains(got, "Bob secret plans") || strings.Contains(got, carol.Email) {
				t.Errorf("alice tracking bob's mail = %s, want a refusal without details", got)
			}
			stop()
			for _, c := range e.fake.All(func(c call) bool { return c.Method == "chat.postMessage" || c.Method == "chat.update" }) {
				t.Errorf("refused tracking caused %s to %s: %s", c.Method, c.Param("channel"), c.Text())
			}
			if ref, err := e.store.SlackRef(t.Context(), bobs); err != nil || ref != bobsCard {
				t.Errorf("bob's card after alice's request = %+v, %v; want %+v", ref, err, bobsCard)
			}
			m, err := e.store.Mail(t.Context(), bobs)
			if err != nil || m.Sender != bob.Email || len(m.Recipients) != 1 {
				t.Errorf("bob's mail after alice's request = %+v, %v; want unchanged", m, err)
			}
			if !strings.Contains(e.logged(), "refused tracking another sender's mail") {
				t.Error("the refusal was not logged")
			}
		})
	}
}
