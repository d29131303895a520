package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// In Socket Mode each request is acknowledged before its work is done,
// and Events API retries are dropped by event_id.
func TestSocketModeAcksThenHandles(t *testing.T) {
	e := newEnv(t, envOptions{})
	stop := e.run(t)
	e.register(t, "m1@example.com", alice.Email, "Socket news", time.Now().Add(-time.Hour), carol.Email)
	var mu sync.Mutex
	var acked []string
	ack := func(_ context.Context, envelopeID string, _ any) error {
		mu.Lock()
		defer mu.Unlock()
		acked = append(acked, envelopeID)
		return nil
	}
	respURL := e.responseURL()
	cmd := socketmode.Event{
		Type:    socketmode.EventTypeSlashCommand,
		Data:    slack.SlashCommand{UserID: alice.ID, ChannelID: "C0GENERAL", Command: "/track", Text: "list", ResponseURL: respURL},
		Request: &socketmode.Request{Type: socketmode.RequestTypeSlashCommands, EnvelopeID: "env-command"},
	}
	e.bot.SocketEvent(t.Context(), ack, cmd)
	mu.Lock()
	if len(acked) != 1 || acked[0] != "env-command" {
		t.Errorf("acks right after the event = %v, want env-command", acked)
	}
	mu.Unlock()
	if got := e.answer(t, respURL); !strings.Contains(got, "Socket news") {
		t.Errorf("answer = %s, want the list", got)
	}

	ev, err := slackevents.ParseEvent([]byte(`{"type":"event_callback","event_id":"Ev0SOCKET","event":{"type":"app_home_opened","user":"UALICE","tab":"home"}}`), slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		e.bot.SocketEvent(t.Context(), ack, socketmode.Event{
			Type: socketmode.EventTypeEventsAPI, Data: ev,
			Request: &socketmode.Request{Type: socketmode.RequestTypeEventsAPI, EnvelopeID: "env-event", RetryAttempt: i},
		})
	}
	stop()
	if got := len(e.fake.Succeeded("views.publish")); got != 1 {
		t.Errorf("views.publish = %d, want 1 for an event and its retry", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) != 3 {
		t.Errorf("acks = %v, want every request acknowledged, retries too", acked)
	}
}

// An acknowledgement waits for a connection to send it on; when Run's
// context ends, the wait ends too, so that shutting down cannot hang on
// a request received just before the connection was lost, and the
// request is left for Slack to retry.
func TestSocketModeAckWaitEndsWithContext(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	waiting := make(chan struct{})
	ack := func(ctx context.Context, _ string, _ any) error {
		close(waiting)
		<-ctx.Done()
		return ctx.Err()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.bot.SocketEvent(ctx, ack, socketmode.Event{
			Type:    socketmode.EventTypeSlashCommand,
			Data:    slack.SlashCommand{UserID: alice.ID, ChannelID: "C0GENERAL", Command: "/track", Text: "help", ResponseURL: e.responseURL()},
			Request: &socketmode.Request{Type: socketmode.RequestTypeSlashCommands, EnvelopeID: "env-stuck"},
		})
	}()
	<-waiting
	cancel()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	select {
	case <-done:
	case <-deadline.C:
		t.Fatal("SocketEvent still waiting for its ack after the context ended")
	}
	e.run(t)() // waits for any work the request started
	if n := e.fake.Count(); n != 0 {
		t.Errorf("calls after an ack failed at shutdown: %s; want none", e.fake.Summary())
	}
}
