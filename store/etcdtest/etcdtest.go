// Package etcdtest runs etcd members embedded in the process, on loopback
// with ports the kernel picked, for tests of the store on etcd.
package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// startAttempts is how many times Start picks new ports for the whole
// cluster when a member cannot bind the ports it was given.
const startAttempts = 5

// Cluster is a running embedded etcd cluster.
type Cluster struct {
	dir     string
	cfgs    []*embed.Config
	Members []*embed.Etcd // nil for a stopped member
}

// Start starts an n-member cluster with its data under dir and waits until
// it serves. Members skip fsync: a test cluster never outlives its
// machine.
//
// Every member's peer URL is in the initial cluster configuration of all
// of them, so the ports are picked before any member starts, and another
// process can take one between the pick and the member's bind. When a
// member fails to bind ("address already in use"), Start stops the
// members it started, removes their data and starts the whole cluster
// again on new ports, up to a few times.
func Start(dir string, n int) (*Cluster, error) {
	return start(dir, n, freeURL)
}

// start is Start with the port picker as a parameter, so that a test can
// hand out a port it holds.
func start(dir string, n int, pick func() (*url.URL, error)) (*Cluster, error) {
	var err error
	for range startAttempts {
		var c *Cluster
		c, err = startOnce(dir, n, pick)
		if err == nil {
			return c, nil
		}
		if !addrInUse(err) {
			return nil, err
		}
		// Nothing of the failed start is kept: the next one is a new
		// cluster with other peer URLs.
		for i := range n {
			if rerr := os.RemoveAll(filepath.Join(dir, memberName(i))); rerr != nil {
				return nil, errors.Join(err, rerr)
			}
		}
	}
	return nil, fmt.Errorf("start etcd: %d attempts, each with a port taken: %w", startAttempts, err)
}

// addrInUse reports whether err is a failure to bind a port in use.
func addrInUse(err error) bool {
	// embed returns the error of net.Listen unwrapped; the text is the
	// fallback should a version wrap it with %v.
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

func memberName(i int) string { return fmt.Sprintf("m%d", i) }

func startOnce(dir string, n int, pick func() (*url.URL, error)) (*Cluster, error) {
	c := &Cluster{dir: dir}
	var peers []string
	for i := range n {
		cu, err := pick()
		if err != nil {
			return nil, err
		}
		pu, err := pick()
		if err != nil {
			return nil, err
		}
		cfg := embed.NewConfig()
		cfg.Name = memberName(i)
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
	// A member that fails leaves the others without a quorum, waiting:
	// abort tells them to give up.
	abort := make(chan struct{})
	errc := make(chan error, n)
	for i := range n {
		go func() { errc <- c.startMember(i, abort) }()
	}
	var errs []error
	for range n {
		if err := <-errc; err != nil {
			if len(errs) == 0 {
				close(abort)
			}
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// errAborted is the error of a member told to stop waiting because
// another one failed.
var errAborted = errors.New("aborted: another member failed to start")

func (c *Cluster) startMember(i int, abort <-chan struct{}) error {
	e, err := embed.StartEtcd(c.cfgs[i])
	if err != nil {
		return fmt.Errorf("start etcd member %d: %w", i, err)
	}
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("etcd member %d: %w", i, err)
	case <-abort:
		e.Close()
		return fmt.Errorf("etcd member %d: %w", i, errAborted)
	case <-deadline.C:
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

// Restart starts member i again from its data after Stop, on the ports it
// had: the other members know it by its peer URL. A port taken meanwhile
// is retried a few times, in case its taker lets it go.
func (c *Cluster) Restart(i int) error {
	c.cfgs[i].ClusterState = embed.ClusterStateFlagExisting
	var err error
	for attempt := range startAttempts {
		if err = c.startMember(i, nil); err == nil || !addrInUse(err) {
			return err
		}
		t := time.NewTimer(time.Duration(attempt+1) * 100 * time.Millisecond)
		<-t.C
	}
	return err
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

// freeURL picks a loopback port the kernel says is free and releases it
// for a member to bind; Start retries when someone else bound it first.
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
