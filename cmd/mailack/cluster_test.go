package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/store/etcdtest"
	"github.com/mailack/mailack/track"
)

// startEtcd starts a one-member etcd on loopback for the test.
func startEtcd(t *testing.T) *etcdtest.Cluster {
	t.Helper()
	c, err := etcdtest.Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// mailack migrate --to-etcd copies a database file into etcd, a second run
// only checks it, export --config reads the cluster, and the daemon
// configured with store.etcd works on the copy.
func TestMigrateToEtcd(t *testing.T) {
	c := startEtcd(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "mailack.db")
	st, err := store.Open(db, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		m, err := track.Register(track.Mail{MessageID: fmt.Sprintf("m%d@example.com", i), Sender: "alice@example.com", Subject: "Quote", SentAt: sent,
			Requested: track.Requested{DSN: true}, Recipients: []track.Recipient{{Address: "bob@example.org"}}}, 48*time.Hour, nil, sent)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.RegisterMail(t.Context(), store.RegisterInput{Mail: m, Now: sent}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "mailack.yaml")
	yaml := fmt.Sprintf("store:\n  path: %s\n  etcd:\n    endpoints: [%s]\n    prefix: acme/\naccounts:\n  - {name: a, host: 127.0.0.1, port: 1, tls: insecure, username: u@example.com, password: '${P}'}\n",
		db, strings.Join(c.Endpoints(), ", "))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{getenv: func(k string) string { return map[string]string{"P": "p"}[k] }}
	runIt := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		e.stdout, e.stderr = &out, &errOut
		code := run(t.Context(), e, args)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := runIt("check-config", cfgPath); code != exitOK {
		t.Fatalf("check-config = %d, %q, %q", code, out, errOut)
	}
	code, out, errOut := runIt("migrate", "--to-etcd", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "copied "+db+" to etcd prefix acme/") || !strings.Contains(out, "checked key by key") {
		t.Fatalf("migrate = %d, %q, %q", code, out, errOut)
	}
	code, out, errOut = runIt("migrate", "--to-etcd", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "already holds") {
		t.Fatalf("second migrate = %d, %q, %q; want nothing copied", code, out, errOut)
	}
	_, fromFile, _ := runIt("export", "--json", "--db", db)
	code, fromEtcd, errOut := runIt("export", "--json", "--config", cfgPath)
	if code != exitOK || fromEtcd != fromFile || !strings.Contains(fromEtcd, "m2@example.com") {
		t.Fatalf("export from etcd = %d, %q, %q; want what the file exports:\n%s", code, fromEtcd, errOut, fromFile)
	}

	cfg, err := config.Load(cfgPath, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Listen = "127.0.0.1:0"
	d, err := newDaemon(t.Context(), cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		d.listener.Close()
		d.st.Close()
	}()
	if p := d.st.Path(); p != "etcd:acme/" {
		t.Errorf("daemon store = %s, want the store on etcd", p)
	}
	m, err := d.st.Mail(context.Background(), "m1@example.com")
	if err != nil || m.Sender != "alice@example.com" {
		t.Errorf("daemon reads m1 from etcd = %+v, %v", m.Sender, err)
	}
}

// In cluster mode one daemon leads and the other waits as a standby;
// when the leader loses the cluster it stops with errLostLease and the
// standby leads within the lease's TTL.
func TestClusterStandbyTakesOver(t *testing.T) {
	c := startEtcd(t)
	type node struct {
		d    *daemon
		logs *syncBuffer
		err  chan error
		stop context.CancelFunc
	}
	start := func(name string) *node {
		cfg := config.Defaults()
		cfg.Store.Etcd = &config.Etcd{Endpoints: c.Endpoints(), Node: name, LeaseTTL: 2 * time.Second}
		cfg.HTTP.Listen = "127.0.0.1:0"
		logs := &syncBuffer{}
		log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), nil))
		d, err := newDaemon(t.Context(), cfg, log, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n := &node{d: d, logs: logs, err: make(chan error, 1), stop: cancel}
		go func() { n.err <- d.run(ctx) }()
		t.Cleanup(func() {
			cancel()
			<-n.err
		})
		return n
	}
	a := start("a")
	waitUntil(t, "a leads", time.Minute, a.d.active.Load)
	b := start("b")
	waitUntil(t, "b waits as a standby", time.Minute, func() bool { return strings.Contains(b.logs.String(), "standby: waiting for the lead") })
	if b.d.active.Load() || !a.d.active.Load() {
		t.Fatalf("a leads %t, b leads %t; want only a", a.d.active.Load(), b.d.active.Load())
	}
	// a loses the cluster as a crashed or cut-off node would: its lease is
	// no longer kept alive.
	lost := time.Now()
	a.d.etcd.Close()
	select {
	case err := <-a.err:
		a.err <- err // for the cleanup
		if !errors.Is(err, errLostLease) {
			t.Fatalf("a stopped with %v, want errLostLease", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a did not stop after losing the cluster")
	}
	waitUntil(t, "b leads", time.Minute, b.d.active.Load)
	t.Logf("b led %v after a lost the cluster (lease TTL 2s)", time.Since(lost).Round(time.Millisecond))
	// b works: a mail registered through it is stored, under b's fence.
	m, err := track.Register(track.Mail{MessageID: "after@example.com", Sender: "alice@example.com", SentAt: lost,
		Requested: track.Requested{DSN: true}, Recipients: []track.Recipient{{Address: "bob@example.org"}}}, 48*time.Hour, nil, lost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.d.st.RegisterMail(t.Context(), store.RegisterInput{Mail: m, Now: lost}); err != nil {
		t.Fatal(err)
	}
}
