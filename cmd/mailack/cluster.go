package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
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

// errLostLead stops a daemon that lost the lead.
var errLostLead = errors.New("lost the cluster lead (the etcd lease expired): stopping, so that only the new leader works; restart this daemon to make it a standby")

// lead registers the daemon as a node of the cluster and waits until it
// leads: only the leader watches mailboxes, sweeps deadlines, delivers
// notices and runs the relay; every node serves HTTP. It returns a context
// carrying the leader's fence, so that once the lead is lost no write made
// for it commits, and cancels the daemon with errLostLead then. When ctx
// ends while waiting, it returns ctx and no error.
func (d *daemon) lead(ctx context.Context, cancel context.CancelCauseFunc) (*cluster.Node, context.Context, error) {
	e := d.cfg.Store.Etcd
	name := e.Node
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, ctx, fmt.Errorf("store.etcd.node is not set and the host name is unknown: %w", err)
		}
		name = h
	}
	ttl := int(e.LeaseTTL / time.Second)
	if ttl == 0 {
		ttl = 10
	}
	node, err := cluster.Join(ctx, d.etcd, cluster.Options{Prefix: storePrefix(e) + "cluster/", ID: name, TTL: ttl, Logger: d.log})
	if err != nil {
		return nil, ctx, err
	}
	d.log.Info("standby: waiting for the lead", "node", name)
	fence, _, err := node.Campaign(ctx, "daemon")
	if err != nil {
		if ctx.Err() != nil {
			return node, ctx, nil
		}
		return node, ctx, err
	}
	context.AfterFunc(node.Lost(), func() { cancel(errLostLead) })
	d.active.Store(true)
	d.log.Info("leading: watching mailboxes, sweeping deadlines, delivering notices", "node", name)
	return node, store.WithFence(ctx, fence...), nil
}

// clusterMetrics registers the metrics of cluster mode.
func (d *daemon) clusterMetrics() {
	d.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mailack_cluster_leader",
			Help: "1 while this daemon leads the cluster (watches mailboxes, sweeps, delivers notices), 0 on a standby."},
			func() float64 {
				if d.active.Load() {
					return 1
				}
				return 0
			}),
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
