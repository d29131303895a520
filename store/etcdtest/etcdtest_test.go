package etcdtest

import (
	"context"
	"net"
	"net/url"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// holdPort listens on a loopback port for the whole test and returns its
// URL.
func holdPort(t *testing.T) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &url.URL{Scheme: "http", Host: l.Addr().String()}
}

// TestStartRetriesTakenPort hands member 1 of a three-member cluster a
// peer port another listener holds, as another process might take it
// between the pick and the bind: Start must start the whole cluster again
// on other ports, and the cluster must serve.
func TestStartRetriesTakenPort(t *testing.T) {
	held := holdPort(t)
	picks := 0
	pick := func() (*url.URL, error) {
		picks++
		if picks == 4 { // the first attempt's peer URL of member 1
			return held, nil
		}
		return freeURL()
	}
	c, err := start(t.TempDir(), 3, pick)
	if err != nil {
		t.Fatalf("start with a taken port = %v", err)
	}
	defer c.Close()
	if picks != 12 {
		t.Errorf("%d ports picked, want 12: two attempts of 3 members with 2 ports each", picks)
	}
	for i, cfg := range c.cfgs {
		for _, u := range append(cfg.AdvertisePeerUrls, cfg.AdvertiseClientUrls...) {
			if u.Host == held.Host {
				t.Errorf("member %d kept the taken port %s", i, u.Host)
			}
		}
	}
	if slices.Contains(c.Members, nil) {
		t.Fatalf("members after start: %v, want all running", c.Members)
	}
	cli, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := cli.Put(ctx, "k", "v"); err != nil {
		t.Fatalf("Put = %v", err)
	}
	// Every member has the key once the write is applied: read it from
	// each one alone, linearizably.
	for _, ep := range c.Endpoints() {
		one, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := one.Get(ctx, "k")
		one.Close()
		if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
			t.Errorf("Get(k) from %s = %v, %v; want v", ep, resp, err)
		}
	}
}

// TestStartGivesUp: a client port taken at every attempt makes Start fail
// with the bind error after its attempts, leaving nothing running.
func TestStartGivesUp(t *testing.T) {
	held := holdPort(t)
	picks := 0
	pick := func() (*url.URL, error) {
		picks++
		if picks%2 == 1 { // every attempt's client URL
			return held, nil
		}
		return freeURL()
	}
	c, err := start(t.TempDir(), 1, pick)
	if err == nil {
		c.Close()
		t.Fatal("start with the client port always taken succeeded")
	}
	if !addrInUse(err) {
		t.Errorf("start = %v, want address already in use", err)
	}
	if picks != 2*startAttempts {
		t.Errorf("%d ports picked, want %d: %d attempts", picks, 2*startAttempts, startAttempts)
	}
}
