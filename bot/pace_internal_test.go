package bot

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
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
		p := newPacing(slog.New(slog.NewTextHandler(t.Output(), nil)))
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
		p := newPacing(slog.New(slog.NewTextHandler(t.Output(), nil)))
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

// A call that waits for its turn says so at debug level, with how long it
// waited and why; a call that goes at once logs nothing.
func TestPacingLogsWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		p := newPacing(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
		for range tier3.burst {
			if err := p.wait(t.Context(), paced, "chat.update", ""); err != nil {
				t.Fatal(err)
			}
		}
		if buf.Len() != 0 {
			t.Errorf("calls within the burst logged %q, want nothing", buf.String())
		}
		if err := p.wait(t.Context(), paced, "chat.update", ""); err != nil {
			t.Fatal(err)
		}
		got := buf.String()
		// 50 a minute: the next token is 1.2 s away.
		for _, want := range []string{`msg="slack call waited for its turn"`, "method=chat.update", "paused_ms=0", "paced_ms=1200"} {
			if !strings.Contains(got, want) {
				t.Errorf("log after a paced wait = %q, want %s in it", got, want)
			}
		}
		buf.Reset()
		p.pause("chat.update", 3*time.Second)
		if err := p.wait(t.Context(), paced, "chat.update", ""); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); !strings.Contains(got, "paused_ms=3000") {
			t.Errorf("log after a 429 pause = %q, want paused_ms=3000", got)
		}
	})
}

// A card's lock holds back the same mail's card and no other; once
// nobody holds or waits for it, it is gone.
func TestCardLocksPerMail(t *testing.T) {
	var c cardLocks
	unlockA := c.lock("a@example.com")
	unlockB := c.lock("b@example.com") // another mail: at once
	got := make(chan struct{})
	go func() {
		defer c.lock("a@example.com")()
		close(got)
	}()
	// Wait until the second holder of a@example.com's lock waits for it.
	deadline := time.Now().Add(10 * time.Second)
	for waiting := false; !waiting; {
		c.mu.Lock()
		waiting = c.held["a@example.com"].refs == 2
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the second holder never asked for a@example.com's lock")
		}
		runtime.Gosched()
	}
	select {
	case <-got:
		t.Fatal("a second holder of a@example.com's lock got it while the first held it")
	default:
	}
	unlockA()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not get a@example.com's lock once it was released")
	}
	unlockB()
	for n := -1; n != 0; {
		c.mu.Lock()
		n = len(c.held)
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("%d locks kept after every holder left, want 0", n)
		}
		runtime.Gosched()
	}
}
