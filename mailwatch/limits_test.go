package mailwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

func TestBackoffFullJitter(t *testing.T) {
	const lo, hi = time.Second, 8 * time.Second
	tests := []struct {
		name string
		draw func(n int64) int64
		want []time.Duration
	}{
		// The largest draw shows the ceiling: it doubles up to the cap.
		{"largest draws", func(n int64) int64 { return n - 1 }, []time.Duration{lo, 2 * lo, 4 * lo, hi, hi}},
		// Full jitter: a wait may be as short as nothing at all.
		{"smallest draws", func(int64) int64 { return 0 }, []time.Duration{1, 1, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackoff(lo, hi)
			b.rand = tc.draw
			for i, want := range tc.want {
				if got := b.next(); got != want {
					t.Errorf("wait %d = %v, want %v", i+1, got, want)
				}
			}
			b.reset()
			b.rand = func(n int64) int64 { return n - 1 }
			if got := b.next(); got != lo {
				t.Errorf("wait after reset = %v, want %v", got, lo)
			}
		})
	}
	// With the real source every wait stays within (0, ceiling].
	b := newBackoff(lo, hi)
	for i, ceiling := range []time.Duration{lo, 2 * lo, 4 * lo, hi, hi, hi} {
		if got := b.next(); got <= 0 || got > ceiling {
			t.Errorf("wait %d = %v, want within (0, %v]", i+1, got, ceiling)
		}
	}
}

// gate is a TCP proxy to an IMAP server that holds every new connection
// until the test lets it through, and records how many it held at once.
type gate struct {
	ln       net.Listener
	upstream string
	held     chan net.Conn

	mu      sync.Mutex // guards the fields below
	waiting int
	maxWait int
	total   int
}

func newGate(t *testing.T, upstream string) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln, upstream: upstream, held: make(chan net.Conn, 1000)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			g.waiting++
			g.total++
			g.maxWait = max(g.maxWait, g.waiting)
			g.mu.Unlock()
			g.held <- c
		}
	}()
	return g
}

// pass lets the oldest held connection through to the server.
func (g *gate) pass(t *testing.T, timeout time.Duration) {
	t.Helper()
	var c net.Conn
	select {
	case c = <-g.held:
	case <-time.After(timeout):
		t.Fatalf("no connection reached the gate within %v", timeout)
	}
	g.mu.Lock()
	g.waiting--
	g.mu.Unlock()
	up, err := net.Dial("tcp", g.upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); up.Close() })
	go func() { io.Copy(up, c); up.Close() }()
	go func() { io.Copy(c, up); c.Close() }()
}

func (g *gate) counts() (waiting, maxWait, total int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting, g.maxWait, g.total
}

// TestMaxConcurrentLogins runs eight accounts (sixteen folders) behind a
// gate that holds each connection before the server's greeting: with a
// cap of three logins, no more than three connections are ever waiting,
// and every folder still gets its connection.
func TestMaxConcurrentLogins(t *testing.T) {
	const maxLogins, users = 3, 8
	var names []string
	for i := range users {
		names = append(names, fmt.Sprintf("u%d", i))
	}
	s := mailstack.Start(t, mailstack.WithUsers(names...))
	g := newGate(t, s.IMAPAddr())
	var accts []Account
	for _, u := range names {
		a := account(s, u)
		a.Addr, a.TLS, a.TLSConfig = g.ln.Addr().String(), TLSInsecure, nil
		accts = append(accts, a)
	}
	startWatcher(t, newMemSink(), Options{MaxConcurrentLogins: maxLogins}, accts...)
	for passed := 0; passed < 2*users; passed++ {
		// Let one through only once as many wait as the cap allows, so
		// that a cap not kept shows.
		want := min(maxLogins, 2*users-passed)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if waiting, _, _ := g.counts(); waiting >= want {
				break
			}
			if time.Now().After(deadline) {
				waiting, _, _ := g.counts()
				t.Fatalf("%d connections waiting at the gate after 10 s, want %d", waiting, want)
			}
		}
		g.pass(t, 10*time.Second)
	}
	_, maxWait, total := g.counts()
	if maxWait > maxLogins {
		t.Errorf("%d connections waited for their login at once, want at most %d", maxWait, maxLogins)
	}
	if maxWait < maxLogins {
		t.Errorf("at most %d connections waited for their login at once: the cap of %d was never reached", maxWait, maxLogins)
	}
	if total != 2*users {
		t.Errorf("%d connections made, want %d (one per folder)", total, 2*users)
	}
}

// TestMaxConnectionsPerAccount checks the per-account cap: an account
// cannot be given fewer connections than it watches folders, and a search
// of Sent waits for a free connection rather than opening a third.
func TestMaxConnectionsPerAccount(t *testing.T) {
	s := mailstack.Start(t)
	acct := account(s, "alice")
	acct.MaxConnections = 1
	if _, err := New([]Account{acct}, Options{Sink: newMemSink()}); err == nil {
		t.Errorf("New with 2 folders and max 1 connection: no error")
	}
	acct.MaxConnections = 2
	sink := newMemSink()
	opts := Options{Sink: sink, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	w, err := New([]Account{acct}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer cancel()
	// Both folders are connected once a report in INBOX is read and the
	// Sent folder has checked in.
	c := s.Login(t, "alice")
	mailstack.Append(t, c, "Sent Items", sentMail("cap-1@test.example", "bob@test.example", "Quote"))
	mailstack.Append(t, c, "INBOX", mailstack.MDN("cap-1@test.example", "bob@test.example", "alice@test.example", 1))
	sink.waitFor(t, "the sent mail and its receipt", 10*time.Second, func(items []Item) bool {
		return len(items) >= 2
	})
	for deadline := time.Now().Add(10 * time.Second); w.Watching() != 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d folders watching after 10 s, want 2", w.Watching())
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer scancel()
	if _, err := w.FindSent(sctx, "alice@test.example", "Quote", 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FindSent with every connection in use = %v, want it to wait until its context ends", err)
	}
	if n := w.Logins(); n != 2 {
		t.Errorf("%d logins, want 2 (the search opened none)", n)
	}
	cancel()
	<-done
	if n := w.Watching(); n != 0 {
		t.Errorf("%d folders watching after the watcher stopped, want 0", n)
	}
}

// TestSinceBoundsFirstRead stores an old receipt and sent mail (internal
// date 60 days ago) and new ones: with since 30 days the first read skips
// the old and reads the new, and the checkpoint is stored past the old.
func TestSinceBoundsFirstRead(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	old := time.Now().Add(-60 * 24 * time.Hour)
	appendAt := func(folder, raw string, at time.Time) {
		cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{Time: at})
		if _, err := cmd.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append to %s: %v", folder, err)
		}
	}
	appendAt("Sent Items", sentMail("old@test.example", "bob@test.example", "Old"), old)
	appendAt("Sent Items", sentMail("new@test.example", "bob@test.example", "New"), time.Now())
	appendAt("INBOX", mailstack.MDN("old@test.example", "bob@test.example", "alice@test.example", 1), old)
	appendAt("INBOX", mailstack.MDN("new@test.example", "bob@test.example", "alice@test.example", 2), time.Now())

	sink := newMemSink()
	acct := account(s, "alice")
	acct.Since = 30 * 24 * time.Hour
	startWatcher(t, sink, Options{}, acct)
	sink.waitFor(t, "the new sent mail and receipt", 10*time.Second, func(items []Item) bool {
		var sent, rcpt bool
		for _, it := range items {
			sent = sent || it.Sent != nil && it.Sent.MessageID == "new@test.example"
			for _, r := range it.Reports {
				rcpt = rcpt || r.OriginalMessageID == "new@test.example"
			}
		}
		return sent && rcpt
	})
	// Messages are read in UID order: had the old ones (UID 1) been read,
	// they would be recorded before the new ones (UID 2).
	for _, it := range sink.snapshot() {
		if it.UID != 2 {
			t.Errorf("item of UID %d in %s recorded, want only UID 2 (the old message is older than since)", it.UID, it.Checkpoint.Folder)
		}
	}
	for _, folder := range []string{"INBOX", "Sent Items"} {
		cp, _ := sink.Checkpoint(context.Background(), "alice", folder)
		if cp.LastUID != 2 {
			t.Errorf("checkpoint of %s at UID %d, want 2", folder, cp.LastUID)
		}
	}
}
