package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/store/etcdtest"
	"github.com/mailack/mailack/track"
)

// In cluster mode the deliverer's writes carry the leader's fence. Its
// last delivery attempt when it stops keeps the fence: a deliverer that
// lost the lead delivers nothing then, and leaves the outbox to the next
// leader; one that still leads delivers.
func TestWriterLastAttemptKeepsTheFence(t *testing.T) {
	ec, err := etcdtest.Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ec.Close)
	cli, err := ec.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	prefix := fmt.Sprintf("fence-%d/", time.Now().UnixNano())
	e := newEnv(t, envOptions{
		config: func(c *bot.Config) { c.Poll = time.Hour },
		openStore: func(t *testing.T) *store.Store {
			st, err := store.OpenEtcd(cli, store.EtcdOptions{Prefix: prefix}, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	})
	lead := prefix + "lead"
	if _, err := cli.Put(t.Context(), lead, "n1"); err != nil {
		t.Fatal(err)
	}
	fenced := store.WithFence(t.Context(), clientv3.Compare(clientv3.Value(lead), "=", "n1"))
	runFenced := func() (stop func()) {
		ctx, cancel := context.WithCancel(fenced)
		done := make(chan error, 1)
		go func() { done <- e.bot.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run() = %v", err)
			}
		}
	}
	sent := time.Now().Add(-time.Hour)

	// Leading: the last attempt delivers.
	stop := runFenced()
	e.register(t, "m-led@example.com", alice.Email, "While leading", sent, carol.Email)
	e.observe(t, "m-led@example.com", carol.Email, track.StatusRead, "", sent.Add(time.Minute))
	stop()
	if n := len(postedCards(e.fake, "While leading")); n != 1 {
		t.Fatalf("cards while leading = %d, want 1; calls: %s", n, e.fake.Summary())
	}

	// The lead is lost (another node's now): nothing is posted, not even
	// by the last attempt, and the notices stay for the next leader.
	if _, err := cli.Put(t.Context(), lead, "n2"); err != nil {
		t.Fatal(err)
	}
	e.restart(t)
	e.register(t, "m-lost@example.com", alice.Email, "After the lead", sent, carol.Email)
	e.observe(t, "m-lost@example.com", carol.Email, track.StatusRead, "", sent.Add(time.Minute))
	stop = runFenced()
	stop()
	if n := len(postedCards(e.fake, "After the lead")); n != 0 {
		t.Errorf("cards after the lead was lost = %d, want 0", n)
	}
	if n := len(e.fake.All(func(c call) bool { return strings.HasPrefix(c.Method, "chat.") })); n != 1 {
		t.Errorf("chat calls = %d, want only the card posted while leading; calls: %s", n, e.fake.Summary())
	}
	if p := e.pending(t); len(p) == 0 {
		t.Error("outbox empty: the notices of the deliverer that lost the lead were dropped")
	}
	if got := strings.Count(e.logged(), "not delivering: not known to be the deliverer"); got < 2 {
		t.Errorf("the log says %d times that nothing is delivered, want at least 2 (first and last pass):\n%s", got, e.logged())
	}
}
