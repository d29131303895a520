package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/store/cluster"
)

// etcdClient connects to the etcd cluster of store.etcd. The connection is
// made lazily: the first request fails if the cluster cannot be reached.
func etcdClient(e *config.Etcd) (*clientv3.Client, error) {
	cc := clientv3.Config{
		Endpoints:   e.Endpoints,
		DialTimeout: e.DialTimeout,
		Username:    e.Username,
		Password:    e.Password.Value(),
	}
	if cc.DialTimeout == 0 {
		cc.DialTimeout = 10 * time.Second
	}
	https := false
	for _, ep := range e.Endpoints {
		https = https || strings.HasPrefix(ep, "https://")
	}
	switch {
	case e.TLS.CAFile != "" || e.TLS.CertFile != "":
		tc, err := (&transport.TLSInfo{CertFile: e.TLS.CertFile, KeyFile: e.TLS.KeyFile, TrustedCAFile: e.TLS.CAFile}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("store.etcd.tls: %w", err)
		}
		cc.TLS = tc
	case https:
		// The system's roots verify the members.
		cc.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(e.Endpoints, ","), err)
	}
	return cli, nil
}

// openStore opens the store of the configuration: the bbolt file, or the
// store on etcd when store.etcd is set, with the client, which the store
// closes.
func openStore(cfg config.Config, opts store.Options) (*store.Store, *clientv3.Client, error) {
	e := cfg.Store.Etcd
	if e == nil {
		st, err := store.Open(cfg.Store.Path, opts)
		return st, nil, err
	}
	return openEtcdStore(e, store.EtcdOptions{}, opts)
}

func openEtcdStore(e *config.Etcd, eo store.EtcdOptions, opts store.Options) (*store.Store, *clientv3.Client, error) {
	cli, err := etcdClient(e)
	if err != nil {
		return nil, nil, err
	}
	eo.Prefix, eo.CloseClient = storePrefix(e), true
	st, err := store.OpenEtcd(cli, eo, opts)
	if err != nil {
		// Nothing was written through the client.
		_ = cli.Close()
		return nil, nil, fmt.Errorf("store on etcd %s: %w", strings.Join(e.Endpoints, ","), err)
	}
	return st, cli, nil
}

func storePrefix(e *config.Etcd) string {
	if e.Prefix == "" {
		return "mailack/"
	}
	return e.Prefix
}

// errLostLease stops a daemon that lost its lease.
var errLostLease = errors.New("lost the cluster lease (it expired before this daemon could renew it): stopping, so that other nodes take over its mailboxes and tasks; restart this daemon to make it join again")

// joinCluster registers the daemon as a node of the cluster. Each node
// watches the mailboxes it owns (watchOwned); one of them, elected, leads
// the singleton tasks (leadTasks); every node serves HTTP. When the lease
// is lost, cancel stops the daemon with errLostLease: its mailboxes and
// lead have already moved or are about to.
func (d *daemon) joinCluster(ctx context.Context, cancel context.CancelCauseFunc) (*cluster.Node, error) {
	e := d.cfg.Store.Etcd
	name := e.Node
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("store.etcd.node is not set and the host name is unknown: %w", err)
		}
		name = h
	}
	ttl := int(e.LeaseTTL / time.Second)
	if ttl == 0 {
		ttl = 10
	}
	node, err := cluster.Join(ctx, d.etcd, cluster.Options{Prefix: storePrefix(e) + "cluster/", ID: name, TTL: ttl, Logger: d.log, OnOwnership: d.ownership.changed})
	if err != nil {
		return nil, err
	}
	context.AfterFunc(node.Lost(), func() { cancel(errLostLease) })
	d.node.Store(node)
	return node, nil
}

// startCluster joins the cluster and starts, in wg, the watchers of the
// mailboxes the node owns and the campaign for the lead, which runs
// leadTasks once won. It returns the node, or nil when it could not join
// (reported to fail).
func (d *daemon) startCluster(ctx context.Context, cancel context.CancelCauseFunc, wg *sync.WaitGroup, fail func(string, error), leadTasks func([]clientv3.Cmp)) *cluster.Node {
	node, err := d.joinCluster(ctx, cancel)
	if err != nil {
		fail("cluster", err)
		return nil
	}
	// Every node watches the mailboxes it owns; one leads the rest. Once
	// the lease is lost, the daemon stops with errLostLease instead.
	if d.watcher != nil {
		wg.Go(func() {
			err := d.watchOwned(ctx, node)
			if node.Lost().Err() == nil {
				fail("mailwatch", err)
			}
		})
	}
	wg.Go(func() {
		fence, err := d.campaign(ctx, node)
		if err != nil {
			if node.Lost().Err() == nil {
				fail("cluster", err)
			}
			return
		}
		leadTasks(fence)
	})
	return node
}

// watchOwned watches the accounts this node owns among all the configured
// ones, each for as long as it owns it, resuming from the account's
// checkpoints. Every write made for an account carries the node's
// ownership of it as a fence: once another node may have taken it over,
// none commits.
func (d *daemon) watchOwned(ctx context.Context, node *cluster.Node) error {
	names := make([]string, 0, len(d.cfg.Accounts))
	for _, a := range d.cfg.Accounts {
		names = append(names, a.Name)
	}
	return node.Own(ctx, names, ownRetry, func(ctx context.Context, account string) {
		if err := d.watcher.RunAccount(store.WithFence(ctx, node.Fence(account)...), account); err != nil {
			d.log.Error("cannot watch an owned account", "account", account, "err", err)
		}
	})
}

// ownRetry is how often a claim that failed because the cluster could not
// be reached is tried again.
const ownRetry = 2 * time.Second

// campaign waits until the node leads the singleton tasks and returns the
// leader's fence. When ctx ends while waiting, it returns ctx's error.
func (d *daemon) campaign(ctx context.Context, node *cluster.Node) ([]clientv3.Cmp, error) {
	d.log.Info("standby: waiting for the lead", "node", node.ID())
	fence, _, err := node.Campaign(ctx, "daemon")
	if err != nil {
		return nil, err
	}
	d.active.Store(true)
	d.log.Info("leading: sweeping deadlines, delivering notices, running the relay", "node", node.ID())
	return fence, nil
}

// ownership counts the changes of the mailboxes a node owns, and when it
// took each over.
type ownership struct {
	changes *prometheus.CounterVec

	mu    sync.Mutex           // guards since
	since map[string]time.Time // owned account → when it was taken over
}

func newOwnership() *ownership {
	return &ownership{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailack_cluster_ownership_changes_total",
			Help: "Mailboxes this node took over (change=acquired) or gave up (change=released)."}, []string{"change"}),
		since: map[string]time.Time{},
	}
}

func (o *ownership) changed(account string, owned bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if owned {
		o.since[account] = time.Now()
		o.changes.WithLabelValues("acquired").Inc()
		return
	}
	delete(o.since, account)
	o.changes.WithLabelValues("released").Inc()
}

// ownedSince returns when the node took account over, and whether it owns
// it.
func (o *ownership) ownedSince(account string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.since[account]
	return t, ok
}

// clusterMetrics registers the metrics of cluster mode.
func (d *daemon) clusterMetrics() {
	d.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mailack_cluster_leader",
			Help: "1 while this daemon leads the cluster (sweeps, delivers notices, runs the relay), 0 on a standby."},
			func() float64 {
				if d.active.Load() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mailack_cluster_mailboxes_owned",
			Help: "Mailboxes (configured accounts) this node owns and watches."},
			func() float64 {
				if n := d.node.Load(); n != nil {
					return float64(len(n.Owned()))
				}
				return 0
			}),
		d.ownership.changes,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mailack_store_conflicts_total",
			Help: "Write transactions of the store on etcd run again because another node committed first."},
			func() float64 { return float64(d.st.EtcdConflicts()) }),
	)
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "--to-etcd --config FILE [--db FILE]", "Copies the database file (store.path of --config, or --db) into the etcd cluster of\n"+
		"store.etcd, and checks the copy key by key. Stop the daemon first: it holds the file. Running it\n"+
		"again after a complete copy only checks it; a copy cut short is started over. A prefix that\n"+
		"already holds another mailack store is left alone.")
	toEtcd := fs.Bool("to-etcd", false, "copy the database file into etcd")
	cfgPath := fs.String("config", "", "configuration file with store.etcd")
	db := fs.String("db", "", "database file to copy, instead of store.path")
	if err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if !*toEtcd || *cfgPath == "" {
		fs.Usage()
		return fmt.Errorf("%w: give --to-etcd and --config FILE", errUsage)
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	if cfg.Store.Etcd == nil {
		return fmt.Errorf("%s has no store.etcd: name the etcd cluster to copy into", *cfgPath)
	}
	path := *db
	if path == "" {
		path = cfg.Store.Path
	}
	src, err := store.OpenReadOnly(path, store.Options{LockTimeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%s is in use: stop the daemon before copying its database: %w", path, err)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	cli, err := etcdClient(cfg.Store.Etcd)
	if err != nil {
		return err
	}
	defer cli.Close()
	prefix := cfg.Store.Etcd.Prefix
	if prefix == "" {
		prefix = "mailack/"
	}
	n, already, err := src.CopyToEtcd(ctx, cli, prefix)
	if err != nil {
		return err
	}
	if already {
		fmt.Fprintf(e.stdout, "etcd prefix %s already holds %s: %d keys checked, nothing copied\n", prefix, path, n)
		return nil
	}
	fmt.Fprintf(e.stdout, "copied %s to etcd prefix %s: %d keys, checked key by key\n", path, prefix, n)
	return nil
}
