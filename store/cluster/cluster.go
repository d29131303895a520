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
	// OnOwnership, when set, is called each time the node starts (owned
	// true) or stops (false) running a mailbox in Own.
	OnOwnership func(mailbox string, owned bool)
}

// Node is this process's membership of the cluster.
type Node struct {
	cli     *clientv3.Client
	session *concurrency.Session
	prefix  string
	id      string
	log     *slog.Logger

	lost context.Context // ended when the lease is lost

	onOwnership func(mailbox string, owned bool)

	mu      sync.Mutex
	live    []string        // registered nodes, sorted
	changed chan struct{}   // closed and replaced when live changes
	owned   map[string]bool // mailboxes Own runs
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
	n := &Node{cli: cli, session: s, prefix: o.Prefix, id: o.ID, lost: lost, log: o.Logger.With("component", "cluster", "node", o.ID),
		changed: make(chan struct{}), owned: map[string]bool{}, onOwnership: o.OnOwnership}
	if err := n.register(ctx, time.Duration(o.TTL)*time.Second); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := n.follow(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return n, nil
}

// register puts the node's key under its lease. A key of the same name
// left by a previous run of the node that stopped without leaving (it
// crashed and was restarted at once) goes with its lease within the TTL:
// register waits that long for it, then gives up, as the name is then
// another live node's.
func (n *Node) register(ctx context.Context, ttl time.Duration) error {
	k := n.nodeKey(n.id)
	// wait bounds only the wait for the old key to go: the put that
	// follows its deletion has the caller's context, so a lease that
	// expired late in the wait still lets the node register.
	wait, cancel := context.WithTimeout(ctx, ttl+ttl/2)
	defer cancel()
	for {
		resp, err := n.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
			Then(clientv3.OpPut(k, n.id, clientv3.WithLease(n.session.Lease()))).Commit()
		if err != nil {
			return fmt.Errorf("cluster: register: %w", err)
		}
		if resp.Succeeded {
			return nil
		}
		n.log.Info("a node of this name is registered: waiting for its lease to expire")
		wch := n.cli.Watch(wait, k, clientv3.WithRev(resp.Header.Revision+1), clientv3.WithFilterPut())
		deleted := false
		for wr := range wch {
			if len(wr.Events) > 0 {
				deleted = true
				break
			}
		}
		if !deleted {
			if errors.Is(ctx.Err(), context.Canceled) {
				return ctx.Err()
			}
			if wait.Err() != nil {
				return fmt.Errorf("cluster: a node named %s is already registered", n.id)
			}
			continue // the watch ended early: look again
		}
	}
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

// follow reads the registered nodes and watches them for changes, until
// ctx ends or the lease is lost. A watch that ends early (its revision was
// compacted away) is started again from a fresh read.
func (n *Node) follow(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	rev, err := n.readLive(ctx)
	if err != nil {
		cancel()
		return err
	}
	go func() {
		defer cancel()
		defer context.AfterFunc(n.lost, cancel)()
		for ctx.Err() == nil {
			n.watchLive(ctx, rev)
			for ctx.Err() == nil {
				if rev, err = n.readLive(ctx); err == nil {
					break
				}
				n.log.Warn("cannot read the nodes", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return nil
}

// readLive reads the registered nodes and returns the revision read.
func (n *Node) readLive(ctx context.Context) (int64, error) {
	resp, err := n.cli.Get(ctx, n.prefix+"nodes/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return 0, fmt.Errorf("cluster: nodes: %w", err)
	}
	live := map[string]bool{}
	for _, kv := range resp.Kvs {
		live[strings.TrimPrefix(string(kv.Key), n.prefix+"nodes/")] = true
	}
	n.setLive(live)
	return resp.Header.Revision, nil
}

// watchLive follows the nodes from revision rev on, until the watch ends.
func (n *Node) watchLive(ctx context.Context, rev int64) {
	live := map[string]bool{}
	for _, id := range n.liveNow() {
		live[id] = true
	}
	for wr := range n.cli.Watch(clientv3.WithRequireLeader(ctx), n.prefix+"nodes/", clientv3.WithPrefix(), clientv3.WithRev(rev+1)) {
		if wr.Err() != nil {
			n.log.Warn("watch of the nodes failed", "err", wr.Err())
			continue
		}
		for _, ev := range wr.Events {
			id := strings.TrimPrefix(string(ev.Kv.Key), n.prefix+"nodes/")
			if ev.Type == clientv3.EventTypePut {
				live[id] = true
			} else {
				delete(live, id)
			}
		}
		n.setLive(live)
	}
}

func (n *Node) liveNow() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.live)
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
// to this node is claimed as soon as its previous owner has released it or
// lost its lease (Own watches the ownership keys for that). A claim that
// failed (the cluster could not be reached) is tried again every retry.
// Own returns when ctx ends or the lease is lost, after every run has
// returned.
func (n *Node) Own(ctx context.Context, mailboxes []string, retry time.Duration, run func(ctx context.Context, mailbox string)) error {
	o := &owning{n: n, run: run, running: map[string]*running{}}
	defer o.stopAll()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(n.lost, cancel)()
	released := n.watchReleases(ctx)
	t := time.NewTicker(retry)
	defer t.Stop()
	for {
		live, changed := n.Live()
		for _, mb := range mailboxes {
			o.settle(ctx, mb, Owner(mb, live) == n.id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-released:
		case <-t.C:
		}
	}
}

// running is a mailbox Own runs.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// owning is the state of one Own call, owned by its goroutine.
type owning struct {
	n       *Node
	run     func(ctx context.Context, mailbox string)
	running map[string]*running
}

// settle starts or stops mailbox mb so that it runs exactly when mine.
func (o *owning) settle(ctx context.Context, mb string, mine bool) {
	n := o.n
	_, isRunning := o.running[mb]
	switch {
	case mine && !isRunning:
		err := n.Claim(ctx, mb)
		if errors.Is(err, ErrNotOwner) {
			return // the previous owner still holds it
		}
		if err != nil {
			if ctx.Err() == nil {
				n.log.Warn("claim", "mailbox", mb, "err", err)
			}
			return
		}
		rctx, rcancel := context.WithCancel(ctx)
		r := &running{cancel: rcancel, done: make(chan struct{})}
		o.running[mb] = r
		n.setOwned(mb, true)
		n.log.Info("owning", "mailbox", mb)
		go func() {
			defer close(r.done)
			o.run(rctx, mb)
		}()
	case !mine && isRunning:
		o.stop(mb)
		// Logged before the release, after which the next owner may
		// start: the node's run of the mailbox has ended.
		n.log.Info("handed over", "mailbox", mb)
		if err := n.Release(ctx, mb); err != nil {
			// The key goes with the lease at the latest.
			n.log.Warn("release", "mailbox", mb, "err", err)
		}
	}
}

// stop ends mb's run and waits for it.
func (o *owning) stop(mb string) {
	r := o.running[mb]
	r.cancel()
	<-r.done
	delete(o.running, mb)
	o.n.setOwned(mb, false)
}

func (o *owning) stopAll() {
	for mb := range o.running {
		o.stop(mb)
	}
}

// watchReleases returns a channel that receives when an ownership key is
// deleted (released, or gone with its owner's lease), until ctx ends.
func (n *Node) watchReleases(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	go func() {
		for ctx.Err() == nil {
			// A watch that ends early (a compacted revision, a member
			// without a leader) is started again; the ticker of Own
			// covers what happened in between.
			for wr := range n.cli.Watch(clientv3.WithRequireLeader(ctx), n.prefix+"owners/", clientv3.WithPrefix(), clientv3.WithFilterPut()) {
				if len(wr.Events) == 0 {
					continue
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return out
}

func (n *Node) setOwned(mb string, owned bool) {
	n.mu.Lock()
	if owned {
		n.owned[mb] = true
	} else {
		delete(n.owned, mb)
	}
	n.mu.Unlock()
	if n.onOwnership != nil {
		n.onOwnership(mb, owned)
	}
}

// Owned returns the mailboxes Own runs on this node, sorted.
func (n *Node) Owned() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.owned))
	for mb := range n.owned {
		out = append(out, mb)
	}
	slices.Sort(out)
	return out
}
