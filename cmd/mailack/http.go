package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mailack/mailack/store"
)

// httpLimits bound every phase of a request to the daemon's HTTP server.
// The listener may face the internet (the pixel, Slack's HTTP mode), so a
// slow or idle client is cut off instead of holding a goroutine.
type httpLimits struct {
	ReadHeader, Read, Write, Idle time.Duration
	MaxHeaderBytes                int
	// Dump replaces Write for /backup and /export, which stream the whole
	// database.
	Dump time.Duration
}

// defaultHTTPLimits are the limits the daemon runs with.
var defaultHTTPLimits = httpLimits{
	ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second, Idle: 30 * time.Second,
	MaxHeaderBytes: 32 << 10, Dump: time.Hour,
}

// newHTTPServer returns the daemon's HTTP server for handler.
func newHTTPServer(handler http.Handler, log *slog.Logger, l httpLimits) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelDebug),
	}
}

// tokens are the bearer tokens one endpoint accepts, kept as SHA-256
// digests so that every comparison takes the same time whatever the
// lengths.
type tokens [][sha256.Size]byte

func newTokens(secrets ...string) tokens {
	var ts tokens
	for _, s := range secrets {
		if s != "" {
			ts = append(ts, sha256.Sum256([]byte(s)))
		}
	}
	return ts
}

// accept reports whether r carries one of the tokens, as
// "Authorization: Bearer TOKEN" or as the password of basic auth (the two
// schemes Prometheus scrapes with). Every token is compared, in constant
// time.
func (ts tokens) accept(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		_, got, ok = r.BasicAuth()
	}
	if !ok || got == "" {
		return false
	}
	h := sha256.Sum256([]byte(got))
	match := 0
	for _, t := range ts {
		match |= subtle.ConstantTimeCompare(h[:], t[:])
	}
	return match == 1
}

// guarded serves next only to requests carrying one of ts. The
// connection's address counts for nothing: behind a reverse proxy on the
// same host every request comes from loopback. With no token configured
// the endpoint is off.
func (d *daemon) guarded(ts tokens, setting string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(ts) == 0 {
			http.Error(w, "this endpoint is off: set http."+setting+" in the configuration", http.StatusForbidden)
			return
		}
		if !ts.accept(r) {
			d.log.Warn("refused unauthenticated request", "component", "http", "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="mailack"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// routes registers the HTTP endpoints: /healthz and /readyz for anyone
// (details of /readyz with a token), /metrics with the metrics or admin
// token, /backup and /export with the admin token.
func (d *daemon) routes() {
	admin := newTokens(d.cfg.HTTP.AdminToken.Value())
	d.adminTokens = admin
	d.detailTokens = newTokens(d.cfg.HTTP.AdminToken.Value(), d.cfg.HTTP.MetricsToken.Value())
	d.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	d.mux.HandleFunc("GET /readyz", d.ready)
	d.mux.Handle("GET /metrics", d.guarded(d.detailTokens, "metrics_token",
		promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{})))
	d.mux.Handle("GET /backup", d.guarded(admin, "admin_token", http.HandlerFunc(d.backup)))
	d.mux.Handle("GET /export", d.guarded(admin, "admin_token", http.HandlerFunc(d.export)))
}

// backup streams a consistent copy of the database.
func (d *daemon) backup(w http.ResponseWriter, r *http.Request) {
	// Without a write deadline a dead client could hold the read
	// transaction for ever; the server's own is too short for the copy.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d.httpLimits.Dump)) // ErrNotSupported only in tests
	w.Header().Set("Content-Type", "application/octet-stream")
	if _, err := d.st.Backup(r.Context(), w); err != nil {
		d.log.Error("backup failed", "err", err)
	}
}

// export streams every tracked mail and orphaned report as JSON, what
// `mailack export --json` prints.
func (d *daemon) export(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d.httpLimits.Dump)) // as in backup
	w.Header().Set("Content-Type", "application/json")
	if err := d.st.Export(r.Context(), w); err != nil {
		d.log.Error("export failed", "err", err)
	}
}

// ready answers 200 when the store reads and its last write committed and
// every account the daemon watches (in cluster mode, those this node owns)
// has been read completely at least once since, 503 otherwise. What is not
// ready, with error texts that may name servers and logins, and in cluster
// mode the node's name, role and mailboxes, are shown only to callers with
// the metrics or admin token.
func (d *daemon) ready(w http.ResponseWriter, r *http.Request) {
	problems := d.readiness(r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	details := d.detailTokens.accept(r)
	switch {
	case len(problems) == 0:
		io.WriteString(w, "ready\n")
	case !details:
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready\n")
		return
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, p := range problems {
			fmt.Fprintln(w, p)
		}
	}
	if node := d.node.Load(); node != nil && details {
		role := "standby"
		if d.active.Load() {
			role = "leader (sweep, digests, Slack deliverer, relay)"
		}
		fmt.Fprintf(w, "node: %s\nrole: %s\nmailboxes: %s\n", node.ID(), role, strings.Join(node.Owned(), " "))
	}
}

func (d *daemon) readiness(r *http.Request) []string {
	var problems []string
	if _, err := d.st.Checkpoint(r.Context(), "", "\x01probe"); err != nil && !errors.Is(err, store.ErrNotFound) {
		problems = append(problems, "store: "+err.Error())
	}
	if f, failed := d.st.LastWriteFailure(); failed {
		problems = append(problems, fmt.Sprintf("store: last write failed at %s: %v", f.At.UTC().Format(time.RFC3339), f.Err))
	}
	if d.ownership != nil && d.node.Load() == nil {
		problems = append(problems, "cluster: not joined yet")
	}
	if d.watcher != nil {
		for _, s := range d.watcher.Status() {
			if d.ownership != nil {
				// In cluster mode a node answers for the mailboxes it owns,
				// read since it took them over.
				since, owned := d.ownership.ownedSince(s.Account)
				if !owned {
					continue
				}
				if s.LastSync.Before(since) {
					s.LastSync = time.Time{}
				}
			}
			if s.LastSync.IsZero() {
				msg := "account " + s.Account + ": not synced yet"
				if s.LastError != "" {
					msg += " (" + s.LastError + ")"
				}
				problems = append(problems, msg)
			}
		}
	}
	return problems
}
