package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/botstore"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/store/etcdtest"
	"github.com/mailack/mailack/track"
)

// In cluster mode every node serves Slack's requests (Serve) and one, the
// leader, delivers the outbox (Deliver). A button press and a slash
// command answered by a node that does not lead work: the press puts its
// notices in the shared store, and the leader, woken by the store's
// watch of the outbox, updates the card and replies in its thread, once;
// the command answers at its response_url and updates the card itself.
func TestServeOnAFollower(t *testing.T) {
	ec, err := etcdtest.Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ec.Close)
	for _, mode := range []bot.Mode{bot.ModeHTTP, bot.ModeSocket} {
		t.Run(string(mode), func(t *testing.T) { testServeOnAFollower(t, ec, mode) })
	}
}

func testServeOnAFollower(t *testing.T, ec *etcdtest.Cluster, mode bot.Mode) {
	cli, err := ec.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	prefix := fmt.Sprintf("serve-%s-%d/", mode, time.Now().UnixNano())
	e := newEnv(t, envOptions{
		config: func(c *bot.Config) {
			c.Poll = time.Hour // the leader learns of notices from the store's watch
			if mode == bot.ModeSocket {
				c.Mode, c.AppToken = bot.ModeSocket, testAppToken
			}
		},
		openStore: func(t *testing.T) *store.Store {
			st, err := store.OpenEtcd(cli, store.EtcdOptions{Prefix: prefix}, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	})
	var link *slackLink
	if mode == bot.ModeSocket {
		link = newSlackLink(t)
		e.fake.OfferSocket(link)
	}
	leader := e.bot
	var followerLog strings.Builder
	var followerMu sync.Mutex
	follower, err := bot.New(e.cfg, botstore.New(e.store).Deps(e.settings, e.sent),
		slog.New(slog.NewTextHandler(&syncWriter{mu: &followerMu, w: &followerLog, t: t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	run := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	// The follower connects first: its Socket Mode connection is the first.
	run("follower Serve", follower.Serve)
	if link != nil {
		link.conn(t, 1)
	}
	run("leader Run", leader.Run)
	added := e.store.OutboxAdded(ctx)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-added:
				leader.Wake()
			}
		}
	})

	id := "follow-" + string(mode) + "@example.com"
	e.register(t, id, alice.Email, "Served anywhere", time.Now().Add(-time.Hour), carol.Email, outsider)
	e.observe(t, id, carol.Email, track.StatusDelivered, "", time.Now())
	card := e.fake.WaitFor(t, "card", method("chat.postMessage", "Served anywhere"))

	// Carol presses "Seen it" on the follower.
	seen := blockAction{ActionID: "seen", Value: id + " " + carol.Email}
	if link != nil {
		link.conn(t, 1).send(t, actionEnvelope("env-seen", carol, seen, e.responseURL()))
		link.ack(t, "env-seen")
	} else {
		e.handler = follower.Handler()
		e.press(t, carol, seen)
	}
	e.fake.WaitFor(t, "the card showing the acknowledgement", func(c call) bool {
		return method("chat.update", "Served anywhere", "confirmed in Slack")(c) && c.Param("ts") == card.TS
	})
	reply := func(c call) bool {
		return c.Method == "chat.postMessage" && c.Posted() && c.Param("thread_ts") == card.TS && strings.Contains(c.Text(), "confirmed in Slack")
	}
	e.fake.WaitFor(t, "the thread reply", reply)
	// The follower may still be finishing the press (its own refresh of
	// the card after queueing the notice): a refresh after the stop would
	// draw the stopped card a second time.
	if err := follower.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Alice stops tracking the mail with /track on the follower.
	respURL := e.responseURL()
	if link != nil {
		link.conn(t, 1).send(t, commandEnvelope("env-stop", alice, "stop "+id, respURL))
		link.ack(t, "env-stop")
	} else {
		e.command(t, alice, "stop "+id)
	}
	e.fake.WaitFor(t, "the answer to /track stop", func(c call) bool {
		return c.Method == "response" && strings.Contains(c.Text(), "Stopped tracking")
	})
	stopped := func(c call) bool {
		return c.Method == "chat.update" && c.OK() && c.Param("ts") == card.TS && strings.Contains(c.Text(), "tracking stopped")
	}
	e.fake.WaitFor(t, "the card stopped", stopped)
	// Stop only once the leader has acknowledged every notice: an item
	// whose acknowledgement the stop cuts off is delivered again by the
	// last attempt (the card drawn again, the reply found in Slack).
	deadline := time.Now().Add(30 * time.Second)
	for len(e.pending(t)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox not empty after 30 s: %v", e.pending(t))
		}
		time.Sleep(5 * time.Millisecond)
	}

	cancel()
	wg.Wait()
	if n := len(e.fake.All(reply)); n != 1 {
		t.Errorf("thread replies telling of the acknowledgement = %d, want 1", n)
	}
	if n := len(e.fake.All(stopped)); n != 1 {
		t.Errorf("card updates showing the stop = %d, want 1", n)
	}
	if n := len(postedCards(e.fake, "Served anywhere")); n != 1 {
		t.Errorf("cards = %d, want 1", n)
	}
	if p := e.pending(t); len(p) != 0 {
		t.Errorf("outbox = %v, want empty", p)
	}
	followerMu.Lock()
	fl := followerLog.String()
	followerMu.Unlock()
	if strings.Contains(fl, "notices delivered") || !strings.Contains(fl, "recipient confirmed in slack") {
		t.Errorf("the follower delivered notices, or did not take the press:\n%s", fl)
	}
	if !strings.Contains(e.logged(), "notices delivered") {
		t.Error("the leader delivered nothing")
	}
}
