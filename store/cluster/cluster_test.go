package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/store/etcdtest"
	"github.com/mailack/mailack/track"
)

// tracker records which node runs each mailbox and which leads, and counts
// every moment two ran at once.
type tracker struct {
	mu       sync.Mutex
	holder   map[string]string
	overlaps []string
	leaders  map[string]bool
	maxLead  int
}

func (tr *tracker) run(node string) func(ctx context.Context, mb string) {
	return func(ctx context.Context, mb string) {
		tr.mu.Lock()
		if h, ok := tr.holder[mb]; ok {
			tr.overlaps = append(tr.overlaps, fmt.Sprintf("%s started on %s while %s ran it", mb, node, h))
		}
		tr.holder[mb] = node
		tr.mu.Unlock()
		<-ctx.Done()
		tr.mu.Lock()
		delete(tr.holder, mb)
		tr.mu.Unlock()
	}
}

func (tr *tracker) lead(node string) func(ctx context.Context) {
	return func(ctx context.Context) {
		tr.mu.Lock()
		tr.leaders[node] = true
		tr.maxLead = max(tr.maxLead, len(tr.leaders))
		tr.mu.Unlock()
		<-ctx.Done()
		tr.mu.Lock()
		delete(tr.leaders, node)
		tr.mu.Unlock()
	}
}

// snapshot returns mailbox → node and the leaders.
func (tr *tracker) snapshot() (map[string]string, []string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	h := map[string]string{}
	for k, v := range tr.holder {
		h[k] = v
	}
	var ls []string
	for l := range tr.leaders {
		ls = append(ls, l)
	}
	return h, ls
}

type testNode struct {
	node   *Node
	cli    *clientv3.Client
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// TestFailover runs three nodes on a three-member etcd: every mailbox is
// watched by exactly one node and one node leads the deliverer; a node is
// killed (it stops and its lease is left to expire) and its mailboxes and
// lead move to the others within the lease's TTL; a write it makes for a
// mailbox it owned is not committed; a node joining takes its share over
// from the others, each mailbox released before it is claimed.
func TestFailover(t *testing.T) {
	c, err := etcdtest.Start(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const ttl, kills = 2, 19
	mailboxes := make([]string, 12)
	for i := range mailboxes {
		mailboxes[i] = fmt.Sprintf("acct%02d/INBOX", i)
	}
	tr := &tracker{holder: map[string]string{}, leaders: map[string]bool{}}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := func(id string) *testNode {
		t.Helper()
		cli, err := c.Client()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n, err := Join(ctx, cli, Options{ID: id, TTL: ttl, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		tn := &testNode{node: n, cli: cli, cancel: cancel}
		tn.done.Go(func() { _ = n.Own(ctx, mailboxes, 200*time.Millisecond, tr.run(id)) })
		tn.done.Go(func() { _ = n.Lead(ctx, "deliverer", tr.lead(id)) })
		return tn
	}
	// kill stops a node as a crash would: no release, no revoke.
	kill := func(tn *testNode) {
		tn.cancel()
		tn.done.Wait()
		tn.cli.Close()
	}
	waitFor := func(what string, ok func(map[string]string, []string) bool) time.Duration {
		t.Helper()
		begin := time.Now()
		deadline := time.After(time.Minute)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if ok(tr.snapshot()) {
				return time.Since(begin)
			}
			select {
			case <-deadline:
				h, l := tr.snapshot()
				t.Fatalf("%s: not after a minute; mailboxes %v, leaders %v", what, h, l)
			case <-tick.C:
			}
		}
	}
	allOn := func(nodes ...string) func(map[string]string, []string) bool {
		return func(h map[string]string, ls []string) bool {
			if len(h) != len(mailboxes) || len(ls) != 1 {
				return false
			}
			for _, mb := range mailboxes {
				if Owner(mb, nodes) != h[mb] {
					return false
				}
			}
			return true
		}
	}

	nodes := map[string]*testNode{}
	for _, id := range []string{"n1", "n2", "n3"} {
		nodes[id] = start(id)
	}
	waitFor("every mailbox on its node", allOn("n1", "n2", "n3"))

	// Kill the deliverer's leader, which also owns mailboxes.
	_, ls := tr.snapshot()
	victim := ls[0]
	var rest []string
	for _, id := range []string{"n1", "n2", "n3"} {
		if id != victim {
			rest = append(rest, id)
		}
	}
	var victimMailbox string
	for _, mb := range mailboxes {
		if Owner(mb, []string{"n1", "n2", "n3"}) == victim {
			victimMailbox = mb
		}
	}
	fence := nodes[victim].node.Fence(victimMailbox)
	kill(nodes[victim])
	delete(nodes, victim)
	took := waitFor("failover", allOn(rest...))
	fmt.Printf("failover after killing %s (lease TTL %ds): every mailbox and the deliverer moved in %v\n", victim, ttl, took.Round(time.Millisecond))

	// A write the killed node makes for its mailbox is refused.
	cli, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	st, err := store.OpenEtcd(cli, store.EtcdOptions{Prefix: "mailack/"}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sent := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	m, err := track.Register(track.Mail{MessageID: "late@example.com", Sender: "alice@example.com", SentAt: sent,
		Requested: track.Requested{DSN: true}, Recipients: []track.Recipient{{Address: "bob@example.org"}}}, 48*time.Hour, nil, sent)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.RegisterMail(store.WithFence(t.Context(), fence...), store.RegisterInput{Mail: m, Now: sent})
	if !errors.Is(err, store.ErrFenced) {
		t.Fatalf("write of the killed node = %v, want ErrFenced", err)
	}
	if _, err := st.Mail(t.Context(), m.MessageID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the fenced write was committed: %v", err)
	}
	// The new owner's fence holds.
	owner := Owner(victimMailbox, rest)
	if _, err := st.RegisterMail(store.WithFence(t.Context(), nodes[owner].node.Fence(victimMailbox)...), store.RegisterInput{Mail: m, Now: sent}); err != nil {
		t.Fatalf("write of the new owner = %v", err)
	}

	// A node joining takes its share over.
	nodes["n4"] = start("n4")
	live := append(rest, "n4")
	waitFor("rebalance onto n4", allOn(live...))

	// More kills, a fresh node after each, while an etcd member is
	// stopped and restarted.
	var worst time.Duration
	for round := range kills {
		switch round {
		case 1:
			c.Stop(1)
		case 8:
			if err := c.Restart(1); err != nil {
				t.Fatal(err)
			}
		}
		victim := live[round%len(live)]
		kill(nodes[victim])
		delete(nodes, victim)
		live = slices.DeleteFunc(live, func(id string) bool { return id == victim })
		worst = max(worst, waitFor("failover", allOn(live...)))
		id := fmt.Sprintf("n%d", 5+round)
		nodes[id] = start(id)
		live = append(live, id)
		waitFor("rebalance", allOn(live...))
	}
	fmt.Printf("%d more kills: the slowest failover took %v\n", kills, worst.Round(time.Millisecond))

	for _, tn := range nodes {
		kill(tn)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.overlaps) > 0 || tr.maxLead > 1 {
		t.Errorf("ran twice at once: %v; most leaders at once %d", tr.overlaps, tr.maxLead)
	}
}

// A node restarted at once after a crash joins under its name as soon as
// its previous registration has expired with its lease; a name a live node
// holds is refused.
func TestRejoinSameName(t *testing.T) {
	c, err := etcdtest.Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prefix := fmt.Sprintf("rejoin-%d/", time.Now().UnixNano())
	join := func(ctx context.Context) (*Node, *clientv3.Client, error) {
		cli, err := c.Client()
		if err != nil {
			t.Fatal(err)
		}
		n, err := Join(ctx, cli, Options{Prefix: prefix, ID: "a", TTL: 2})
		return n, cli, err
	}
	ctx, cancel := context.WithCancel(t.Context())
	first, cli1, err := join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A second process of the same name while the first lives.
	if _, cli, err := join(t.Context()); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("join under a live node's name = %v, want already registered", err)
	} else {
		cli.Close()
	}
	// The first crashes: its lease is no longer kept alive nor revoked.
	cancel()
	cli1.Close()
	<-first.Done()
	second, cli2, err := join(t.Context())
	if err != nil {
		t.Fatalf("join after the crash = %v", err)
	}
	defer cli2.Close()
	defer second.Leave()
	if live, _ := second.Live(); !slices.Equal(live, []string{"a"}) {
		t.Errorf("live = %v, want [a]", live)
	}
}
