package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/store"
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
// store on etcd when store.etcd is set.
func openStore(cfg config.Config, opts store.Options) (*store.Store, error) {
	e := cfg.Store.Etcd
	if e == nil {
		return store.Open(cfg.Store.Path, opts)
	}
	return openEtcdStore(e, store.EtcdOptions{}, opts)
}

func openEtcdStore(e *config.Etcd, eo store.EtcdOptions, opts store.Options) (*store.Store, error) {
	cli, err := etcdClient(e)
	if err != nil {
		return nil, err
	}
	eo.Prefix, eo.CloseClient = e.Prefix, true
	st, err := store.OpenEtcd(cli, eo, opts)
	if err != nil {
		// Nothing was written through the client.
		_ = cli.Close()
		return nil, fmt.Errorf("store on etcd %s: %w", strings.Join(e.Endpoints, ","), err)
	}
	return st, nil
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
