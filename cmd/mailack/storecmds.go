package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/store"
)

// openStoreFromFlags opens the database named by --db, or by the store
// path of --config, for reading only: a missing file is an error, and the
// file is never created or migrated.
func openStoreFromFlags(e *env, db, cfgPath string, lockWait time.Duration) (*store.Store, error) {
	if db != "" && cfgPath != "" {
		return nil, fmt.Errorf("%w: give either --db or --config, not both", errUsage)
	}
	path := db
	if path == "" && cfgPath != "" {
		cfg, err := config.Load(cfgPath, e.getenv)
		if err != nil {
			return nil, err
		}
		if cfg.Store.Etcd != nil {
			// Cluster mode: the store on etcd is read in a snapshot while
			// the daemons run.
			st, _, err := openEtcdStore(cfg.Store.Etcd, store.EtcdOptions{ReadOnly: true}, store.Options{})
			return st, err
		}
		path = cfg.Store.Path
	}
	if path == "" {
		return nil, fmt.Errorf("%w: give --db FILE or --config FILE", errUsage)
	}
	st, err := store.OpenReadOnly(path, store.Options{LockTimeout: lockWait})
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s: check the path given by --db or the store path of --config", path)
	}
	return st, err
}

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backup", "[--db FILE | --config FILE] DEST", "Writes a consistent copy of the database to DEST. While the daemon runs it holds the\n"+
		"database, so with --config the copy is made by the daemon itself (GET /backup on its HTTP\n"+
		"listener, with http.admin_token) without stopping it. Restore: stop mailack, copy DEST over the\ndatabase file, start mailack.")
	db := fs.String("db", "", "database file")
	cfgPath := fs.String("config", "", "configuration file naming the database and the daemon's listener")
	if err := parseArgs(fs, args, 1, 1, "give exactly one DEST"); err != nil {
		return err
	}
	dest := fs.Arg(0)
	st, err := openStoreFromFlags(e, *db, *cfgPath, time.Second)
	if errors.Is(err, store.ErrLocked) && *cfgPath != "" {
		return backupFromDaemon(ctx, e, *cfgPath, dest)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.BackupFile(ctx, dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", dest, n)
	return nil
}

// fromDaemon asks the running daemon for path (/backup or /export) on its
// HTTP listener, authenticated with the admin token of the configuration.
func fromDaemon(ctx context.Context, e *env, cfgPath, path string) (*http.Response, error) {
	cfg, err := config.Load(cfgPath, e.getenv)
	if err != nil {
		return nil, err
	}
	if !cfg.HTTP.AdminToken.IsSet() {
		return nil, errors.New("the database is in use by the daemon, and http.admin_token is not set: the daemon serves " + path + " only with it")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cfg.HTTP.Listen+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.HTTP.AdminToken.Value())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("database in use and the daemon did not answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("daemon refused %s: %s", path, resp.Status)
	}
	return resp, nil
}

// backupFromDaemon asks the running daemon for a copy of its database.
func backupFromDaemon(ctx context.Context, e *env, cfgPath, dest string) error {
	resp, err := fromDaemon(ctx, e, cfgPath, "/backup")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	tmp := dest + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dest)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup from daemon: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes, from the running daemon)\n", dest, n)
	return nil
}

// exportFromDaemon prints the running daemon's export.
func exportFromDaemon(ctx context.Context, e *env, cfgPath string) error {
	resp, err := fromDaemon(ctx, e, cfgPath, "/export")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(e.stdout, resp.Body); err != nil {
		return fmt.Errorf("export from daemon: %w", err)
	}
	return nil
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "--json [--db FILE | --config FILE]", "Prints every tracked mail with its evidence, and the orphaned reports, as JSON. While\n"+
		"the daemon runs it holds the database, so with --config the export comes from the daemon\n"+
		"itself (GET /export on its HTTP listener, with http.admin_token).")
	db := fs.String("db", "", "database file")
	cfgPath := fs.String("config", "", "configuration file naming the database and the daemon's listener")
	asJSON := fs.Bool("json", false, "print JSON (the only format)")
	if err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if !*asJSON {
		fs.Usage()
		return fmt.Errorf("%w: --json is required", errUsage)
	}
	st, err := openStoreFromFlags(e, *db, *cfgPath, time.Second)
	if errors.Is(err, store.ErrLocked) && *cfgPath != "" {
		return exportFromDaemon(ctx, e, *cfgPath)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Export(ctx, e.stdout)
}
