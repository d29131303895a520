package bot

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A turn beyond the context's deadline is waited for until the deadline
// and ends with the context's own error, never rate's "would exceed
// context deadline": the caller sees a context that ended, not a failed
// call. A turn within the deadline is waited for and given.
func TestPacingWaitsUntilDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacing()
		for range perChannelPost.burst {
			if err := p.wait(t.Context(), paced, postMessage, "D1"); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := p.wait(ctx, paced, postMessage, "D1")
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() == nil {
			t.Errorf("wait beyond the deadline = %v (ctx %v), want the context's deadline error once it ended", err, ctx.Err())
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Errorf("waited %v, want until the deadline (300ms)", d)
		}
		ctx, cancel = context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if err := p.wait(ctx, paced, postMessage, "D1"); err != nil {
			t.Errorf("wait within the deadline = %v, want the turn", err)
		}
		// Another channel has its own turns.
		if err := p.wait(context.Background(), paced, postMessage, "D2"); err != nil {
			t.Error(err)
		}
	})
}

// A 429 on one method holds that method's paced calls for Retry-After,
// and no other method's.
func TestPacingPauseHoldsOnlyItsMethod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacing()
		p.pause("chat.update", 30*time.Second)
		start := time.Now()
		if err := p.wait(t.Context(), paced, "views.publish", ""); err != nil || time.Since(start) != 0 {
			t.Errorf("views.publish waited %v (%v), want at once", time.Since(start), err)
		}
		if err := p.wait(t.Context(), paced, postMessage, "D1"); err != nil || time.Since(start) != 0 {
			t.Errorf("chat.postMessage waited %v (%v), want at once", time.Since(start), err)
		}
		if p.allow("chat.update") {
			t.Error("allow(chat.update) during its pause = true")
		}
		if err := p.wait(t.Context(), paced, "chat.update", ""); err != nil || time.Since(start) != 30*time.Second {
			t.Errorf("chat.update waited %v (%v), want the Retry-After, 30s", time.Since(start), err)
		}
	})
}
