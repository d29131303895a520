// Package etcdtest runs etcd members embedded in the process, on loopback
// with ports the kernel picked, for tests of the store on etcd.
package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is a running embedded etcd cluster.
type Cluster struct {
	dir     string
	cfgs    []*embed.Config
	Members []*embed.Etcd // nil for a stopped member
}

// Start starts an n-member cluster with its data under dir and waits until
// it serves. Members skip fsync: a test cluster never outlives its
// machine.
// The ports are picked free and bound again by the members: when another
// process took one in between, Start tries again with new ports.
func Start(dir string, n int) (*Cluster, error) {
	var err error
	for attempt := range 5 {
		d := dir
		if attempt > 0 {
			d = filepath.Join(dir, fmt.Sprintf("retry%d", attempt))
		}
		var c *Cluster
		if c, err = start(d, n); err == nil || !inUse(err) {
			return c, err
		}
	}
	return nil, err
}

// inUse reports whether err is a listener's port taken by another process.
func inUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

func start(dir string, n int) (*Cluster, error) {
	c := &Cluster{dir: dir}
	var peers []string
	for i := range n {
		cu, err := freeURL()
		if err != nil {
			return nil, err
		}
		pu, err := freeURL()
		if err != nil {
			return nil, err
		}
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
		cfg.InitialClusterToken = "mailack-test"
		// Members log errors on a normal stop; failures to start are
		// returned.
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.UnsafeNoFsync = true
		// The store writes every key of a transaction in one Txn.
		cfg.MaxTxnOps = 100_000
		cfg.MaxRequestBytes = 16 << 20
		c.cfgs = append(c.cfgs, cfg)
		peers = append(peers, cfg.Name+"="+pu.String())
	}
	for _, cfg := range c.cfgs {
		cfg.InitialCluster = strings.Join(peers, ",")
	}
	c.Members = make([]*embed.Etcd, n)
	errc := make(chan error, n)
	for i := range n {
		go func() { errc <- c.startMember(i) }()
	}
	var errs []error
	for range n {
		errs = append(errs, <-errc)
	}
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startMember(i int) error {
	e, err := embed.StartEtcd(c.cfgs[i])
	if err != nil {
		return fmt.Errorf("start etcd member %d: %w", i, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("etcd member %d: %w", i, err)
	case <-time.After(2 * time.Minute):
		e.Close()
		return fmt.Errorf("etcd member %d not ready after 2 minutes", i)
	}
	c.Members[i] = e
	return nil
}

// Stop stops member i, keeping its data.
func (c *Cluster) Stop(i int) {
	if c.Members[i] != nil {
		c.Members[i].Close()
		c.Members[i] = nil
	}
}

// Restart starts member i again from its data after Stop.
func (c *Cluster) Restart(i int) error {
	c.cfgs[i].ClusterState = embed.ClusterStateFlagExisting
	return c.startMember(i)
}

// Endpoints returns every member's client URL.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, cfg := range c.cfgs {
		out = append(out, cfg.AdvertiseClientUrls[0].String())
	}
	return out
}

// Client returns a new client of the cluster.
func (c *Cluster) Client() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 10 * time.Second})
}

// Close stops every member.
func (c *Cluster) Close() {
	for i := range c.Members {
		c.Stop(i)
	}
}

func freeURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: addr}, nil
}
