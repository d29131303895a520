package mailwatch

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

type ctxKey struct{}

// ctxSink is a memSink that records the context value each item was
// applied with.
type ctxSink struct {
	*memSink
	seen chan any
}

func (s *ctxSink) Apply(ctx context.Context, it Item) error {
	if len(it.Reports) > 0 {
		s.seen <- ctx.Value(ctxKey{})
	}
	return s.memSink.Apply(ctx, it)
}

// RunAccount watches one account of the watcher, applies its items with
// the context it was given, and returns once stopped; an account the
// watcher does not know is refused.
func TestRunAccount(t *testing.T) {
	s := mailstack.Start(t)
	sink := &ctxSink{memSink: newMemSink(), seen: make(chan any, 4)}
	w, err := New([]Account{account(s, "alice"), account(s, "bob")}, Options{Sink: sink, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RunAccount(t.Context(), "carol"); !errors.Is(err, ErrUnknownAccount) {
		t.Fatalf("RunAccount(carol) = %v, want ErrUnknownAccount", err)
	}
	run := func(name string) (stop func()) {
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, name))
		done := make(chan error, 1)
		go func() { done <- w.RunAccount(ctx, name) }()
		return func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("RunAccount(%s) = %v", name, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("RunAccount(%s) did not return after its context ended", name)
			}
		}
	}
	applied := func() any {
		t.Helper()
		select {
		case v := <-sink.seen:
			return v
		case <-time.After(30 * time.Second):
			t.Fatal("no receipt applied within 30s")
			return nil
		}
	}
	stopAlice := run("alice")
	s.DeliverLMTP(t, "bob", []byte(mailstack.MDN("y@test.example", "alice@test.example", "bob@test.example", 2)))
	s.DeliverLMTP(t, "alice", []byte(mailstack.MDN("x@test.example", "bob@test.example", "alice@test.example", 1)))
	if v := applied(); v != "alice" {
		t.Fatalf("first item applied with %v, want alice's context", v)
	}
	st := waitStatus(t, w, "alice synced", 10*time.Second, func(st map[string]AccountStatus) bool { return !st["alice"].LastSync.IsZero() })
	if !st["bob"].LastSync.IsZero() {
		t.Errorf("bob synced while only alice ran: %+v", st["bob"])
	}
	stopAlice()
	stopBob := run("bob")
	defer stopBob()
	if v := applied(); v != "bob" {
		t.Fatalf("second item applied with %v, want bob's context", v)
	}
}
