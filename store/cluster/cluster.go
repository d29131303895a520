// Package cluster shares work between mailack nodes through etcd: each
// node registers under a lease; each mailbox is owned by one live node,
// chosen by rendezvous hashing over the registered nodes and held by an
// ownership key bound to the owner's lease; and one node at a time leads
// each singleton task (the Slack deliverer, the scheduler) through an
// etcd election.
//
// Keys, under the prefix:
//
//	nodes/<node>       the node is alive (bound to its lease)
//	owners/<mailbox>   the node owning the mailbox (bound to its lease)
//	leaders/<task>/... the election of the task
//
// A node that loses its lease (it stopped, or could not reach the cluster
// for the lease's TTL) loses every ownership key with it; writes made for
// a mailbox carry Fence, so once the key is gone none of them commits.
package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Options configure Join.
type Options struct {
	// Prefix starts every key; default "mailack/cluster/".
	Prefix string
	// ID names the node; it must be unique among the nodes.
	ID string
	// TTL is the lease's time to live in seconds: a node that stops is
	// replaced within it; default 10.
	TTL    int
	Logger *slog.Logger
}

// Node is this process's membership of the cluster.
type Node struct {
	cli     *clientv3.Client
	session *concurrency.Session
	prefix  string
	id      string
	log     *slog.Logger

	lost context.Context // ended when the lease is lost

	mu      sync.Mutex
	live    []string      // registered nodes, sorted
	changed chan struct{} // closed and replaced when live changes
}

// ErrNotOwner means a mailbox is owned by another node.
var ErrNotOwner = errors.New("cluster: the mailbox is owned by another node")

// Join registers the node under a new lease and follows the registered
// nodes until ctx ends or the lease is lost (Done).
func Join(ctx context.Context, cli *clientv3.Client, o Options) (*Node, error) {
	if o.ID == "" || strings.ContainsRune(o.ID, '/') {
		return nil, fmt.Errorf("cluster: node ID %q: must be set and hold no slash", o.ID)
	}
	if o.Prefix == "" {
		o.Prefix = "mailack/cluster/"
	}
	if o.TTL <= 0 {
		o.TTL = 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(o.TTL), concurrency.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("cluster: lease: %w", err)
	}
	lost, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.Done()
		cancel()
	}()
	n := &Node{cli: cli, session: s, prefix: o.Prefix, id: o.ID, lost: lost, log: o.Logger.With("component", "cluster", "node", o.ID), changed: make(chan struct{})}
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(n.nodeKey(o.ID)), "=", 0)).
		Then(clientv3.OpPut(n.nodeKey(o.ID), o.ID, clientv3.WithLease(s.Lease()))).Commit()
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("cluster: register: %w", err)
	}
	if !resp.Succeeded {
		_ = s.Close()
		return nil, fmt.Errorf("cluster: a node named %s is already registered", o.ID)
	}
	if err := n.follow(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) nodeKey(id string) string       { return n.prefix + "nodes/" + id }
func (n *Node) ownerKey(mailbox string) string { return n.prefix + "owners/" + mailbox }

// ID returns the node's name.
func (n *Node) ID() string { return n.id }

// Done is closed when the node has lost its lease: it owns nothing and
// leads nothing any more.
func (n *Node) Done() <-chan struct{} { return n.session.Done() }

// Leave revokes the lease: the node's mailboxes and leaderships move at
// once instead of after the TTL.
func (n *Node) Leave() error { return n.session.Close() }

// follow reads the registered nodes and watches them for changes.
func (n *Node) follow(ctx context.Context) error {
	resp, err := n.cli.Get(ctx, n.prefix+"nodes/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return fmt.Errorf("cluster: nodes: %w", err)
	}
	live := map[string]bool{}
	for _, kv := range resp.Kvs {
		live[strings.TrimPrefix(string(kv.Key), n.prefix+"nodes/")] = true
	}
	n.setLive(live)
	wch := n.cli.Watch(ctx, n.prefix+"nodes/", clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	go func() {
		for wr := range wch {
			if wr.Err() != nil {
				n.log.Warn("watch of the nodes failed", "err", wr.Err())
				continue
			}
			for _, ev := range wr.Events {
				id := strings.TrimPrefix(string(ev.Kv.Key), n.prefix+"nodes/")
				live[id] = ev.Type == clientv3.EventTypePut
				if !live[id] {
					delete(live, id)
				}
			}
			n.setLive(live)
		}
	}()
	return nil
}

func (n *Node) setLive(live map[string]bool) {
	ids := make([]string, 0, len(live))
	for id := range live {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	n.mu.Lock()
	defer n.mu.Unlock()
	if slices.Equal(ids, n.live) {
		return
	}
	n.log.Info("cluster nodes", "live", ids)
	n.live = ids
	close(n.changed)
	n.changed = make(chan struct{})
}

// Live returns the registered nodes and a channel closed when they change.
func (n *Node) Live() ([]string, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.live), n.changed
}

// Owner returns the node a mailbox belongs to among the live nodes:
// rendezvous (highest random weight) hashing, so that a node joining or
// leaving moves only the mailboxes it takes or held.
func Owner(mailbox string, live []string) string {
	var best string
	var bestW uint64
	for _, id := range live {
		h := sha256.Sum256([]byte(id + "\x00" + mailbox))
		if w := binary.BigEndian.Uint64(h[:8]); best == "" || w > bestW {
			best, bestW = id, w
		}
	}
	return best
}

// Claim takes the ownership key of a mailbox, bound to the node's lease,
// unless another node holds it (ErrNotOwner). Claiming a mailbox the node
// holds succeeds.
func (n *Node) Claim(ctx context.Context, mailbox string) error {
	k := n.ownerKey(mailbox)
	resp, err := n.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, n.id, clientv3.WithLease(n.session.Lease()))).
		Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return fmt.Errorf("cluster: claim %s: %w", mailbox, err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 1 && string(kvs[0].Value) == n.id && clientv3.LeaseID(kvs[0].Lease) == n.session.Lease() {
		return nil
	}
	return ErrNotOwner
}

// Release gives a mailbox up, if the node holds it.
func (n *Node) Release(ctx context.Context, mailbox string) error {
	_, err := n.cli.Txn(ctx).If(n.Fence(mailbox)...).Then(clientv3.OpDelete(n.ownerKey(mailbox))).Commit()
	if err != nil {
		return fmt.Errorf("cluster: release %s: %w", mailbox, err)
	}
	return nil
}

// Fence returns the compares that hold while the node owns the mailbox
// under its current lease; see store.WithFence.
func (n *Node) Fence(mailbox string) []clientv3.Cmp {
	k := n.ownerKey(mailbox)
	return []clientv3.Cmp{
		clientv3.Compare(clientv3.Value(k), "=", n.id),
		clientv3.Compare(clientv3.LeaseValue(k), "=", n.session.Lease()),
	}
}

// Campaign waits until the node leads task, and returns the compares that
// hold while it leads (for store.WithFence) and the function that gives
// the lead up. The lead ends at the latest when the lease is lost (Done).
func (n *Node) Campaign(ctx context.Context, task string) (fence []clientv3.Cmp, resign func(context.Context) error, err error) {
	e := concurrency.NewElection(n.session, n.prefix+"leaders/"+task)
	if err := e.Campaign(ctx, n.id); err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("cluster: campaign for %s: %w", task, err)
	}
	n.log.Info("leading", "task", task)
	return []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(e.Key()), "=", e.Rev())}, e.Resign, nil
}

// Lost returns a context that ends when the node has lost its lease.
func (n *Node) Lost() context.Context { return n.lost }

// Lead campaigns for task and runs fn while the node leads it; fn's
// context ends when the node loses the lead (its lease) or ctx ends. Lead
// returns when ctx ends or the lease is lost.
func (n *Node) Lead(ctx context.Context, task string, fn func(ctx context.Context)) error {
	_, resign, err := n.Campaign(ctx, task)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(n.lost, cancel)
	defer stop()
	fn(lctx)
	cancel()
	// Give the lead up for the next node, if the lease still holds.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if err := resign(rctx); err != nil {
		n.log.Warn("resign", "task", task, "err", err)
	}
	return ctx.Err()
}

// Own runs run for each mailbox of mailboxes the node owns, each in its
// own goroutine, for as long as it owns it: when the live nodes change, a
// mailbox that now belongs to another node is stopped (run's context ends,
// and Own waits for run to return) and released, and one that now belongs
// to this node is claimed, once its previous owner has released it or
// lost its lease. Claims are retried every retry. Own returns when ctx
// ends or the lease is lost, after every run has returned.
func (n *Node) Own(ctx context.Context, mailboxes []string, retry time.Duration, run func(ctx context.Context, mailbox string)) error {
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	owned := map[string]*running{}
	stop := func(mb string) {
		r := owned[mb]
		r.cancel()
		<-r.done
		delete(owned, mb)
	}
	defer func() {
		for mb := range owned {
			stop(mb)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(n.lost, cancel)()
	t := time.NewTicker(retry)
	defer t.Stop()
	for {
		live, changed := n.Live()
		for _, mb := range mailboxes {
			mine := Owner(mb, live) == n.id
			_, isRunning := owned[mb]
			switch {
			case mine && !isRunning:
				err := n.Claim(ctx, mb)
				if errors.Is(err, ErrNotOwner) {
					continue // the previous owner still holds it
				}
				if err != nil {
					n.log.Warn("claim", "mailbox", mb, "err", err)
					continue
				}
				rctx, rcancel := context.WithCancel(ctx)
				r := &running{cancel: rcancel, done: make(chan struct{})}
				owned[mb] = r
				n.log.Info("owning", "mailbox", mb)
				go func() {
					defer close(r.done)
					run(rctx, mb)
				}()
			case !mine && isRunning:
				stop(mb)
				if err := n.Release(ctx, mb); err != nil {
					n.log.Warn("release", "mailbox", mb, "err", err)
				}
				n.log.Info("handed over", "mailbox", mb)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-t.C:
		}
	}
}
