package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/mailwatch/pixel"
	"github.com/mailack/mailack/mailwatch/relay"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/store/cluster"
	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "[--config] FILE", "Runs the daemon: mailbox watchers, store, Slack bot, HTTP listener (pixel, health,\n"+
		"metrics), relay, deadline sweep and digests. The configuration file is given as\n"+
		"FILE or with --config FILE, as check-config takes it. SIGINT or SIGTERM stops it\n"+
		"gracefully; a second signal stops it at once.")
	flagPath := fs.String("config", "", "configuration file (or give it as FILE)")
	if err := parseArgs(fs, args, 0, 1, ""); err != nil {
		return err
	}
	path := *flagPath
	switch {
	case path != "" && fs.NArg() == 1:
		fs.Usage()
		return fmt.Errorf("%w: give the configuration file once: as FILE or with --config", errUsage)
	case path == "" && fs.NArg() == 0:
		fs.Usage()
		return fmt.Errorf("%w: no configuration FILE given", errUsage)
	case path == "":
		path = fs.Arg(0)
	}
	cfg, err := config.Load(path, e.getenv)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg.Log)
	d, err := newDaemon(ctx, cfg, log, time.Now)
	if err != nil {
		return err
	}
	return d.run(ctx)
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// daemon is the running mailack: its components and what joins them.
type daemon struct {
	cfg     config.Config
	log     *slog.Logger
	now     func() time.Time
	st      *store.Store
	cal     *track.Calendar
	metrics *metrics
	watcher *mailwatch.Watcher
	reg     *registrar
	mux     *http.ServeMux
	pixel   *pixel.Handler
	relay   *relay.Server
	bot     *bot.Bot
	// etcd is the client of the store on etcd in cluster mode, nil with
	// the bbolt file; node is this daemon's membership once it joined,
	// ownership what it owns, and active tells whether it leads
	// (cluster.go).
	etcd      *clientv3.Client
	node      atomic.Pointer[cluster.Node]
	ownership *ownership
	active    atomic.Bool
	// adminTokens open /backup and /export; detailTokens (admin or
	// metrics) open /metrics and the details of /readyz.
	adminTokens, detailTokens tokens
	httpLimits                httpLimits
	// listener and relayLn are opened at start so that a port in use fails
	// the start rather than a goroutine later.
	listener net.Listener
	relayLn  net.Listener
}

// newDaemon opens the store and builds every component. Nothing runs yet.
func newDaemon(ctx context.Context, cfg config.Config, log *slog.Logger, now func() time.Time) (*daemon, error) {
	d := &daemon{cfg: cfg, log: log, now: now, metrics: newMetrics(), mux: http.NewServeMux(), httpLimits: defaultHTTPLimits}
	var err error
	if d.cal, err = calendar(cfg.Tracking.BusinessHours); err != nil {
		return nil, fmt.Errorf("business hours: %w", err)
	}
	// With Slack off nothing delivers notices: queueing them would only
	// grow the outbox.
	if d.st, d.etcd, err = openStore(cfg, store.Options{NoOutbox: !cfg.Slack.Enabled, Calendar: d.cal}); err != nil {
		return nil, err
	}
	if d.etcd != nil {
		d.ownership = newOwnership()
		d.clusterMetrics()
	}
	d.reg = &registrar{st: d.st, cal: d.cal, defaultAfter: cfg.Tracking.DefaultDeadline, now: now, metrics: d.metrics, log: log.With("component", "registrar")}
	if len(cfg.Accounts) > 0 {
		var pixelURL string
		if cfg.Pixel.Enabled {
			pixelURL = strings.TrimRight(cfg.HTTP.PublicURL, "/") + trackpixel.PathPrefix
		}
		d.watcher, err = mailwatch.New(accounts(ctx, cfg.Accounts, cfg.Watch, pixelURL), mailwatch.Options{
			Sink: &storeSink{registrar: d.reg, log: log.With("component", "sink"), scopes: reportScopes(cfg.Accounts)}, Answers: d.st, Logger: log, CommandTimeout: cfg.Watch.CommandTimeout, IdleRestart: cfg.Watch.IdleRestart,
			MaxMessageBytes: cfg.Watch.MaxMessageBytes, MaxConcurrentLogins: cfg.Watch.MaxConcurrentLogins, Now: now,
		})
		if err != nil {
			d.st.Close()
			return nil, err
		}
		d.metrics.reg.MustRegister(newWatchCollector(d.watcher))
	}
	if err := d.edges(); err != nil {
		d.abortStart()
		return nil, err
	}
	d.routes()
	if d.listener, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		d.abortStart()
		return nil, fmt.Errorf("http listener: %w", err)
	}
	if d.relay != nil {
		if d.relayLn, err = net.Listen("tcp", cfg.Relay.Listen); err != nil {
			d.listener.Close()
			d.abortStart()
			return nil, fmt.Errorf("relay listener: %w", err)
		}
	}
	return d, nil
}

// abortStart releases what newDaemon built before it failed: the pixel's
// workers and the store.
func (d *daemon) abortStart() {
	if d.pixel != nil {
		d.pixel.Close()
	}
	d.st.Close()
}

// edges builds the pixel handler and the relay.
func (d *daemon) edges() error {
	keys, err := pixelKeys(d.cfg.Pixel.Keys)
	if err != nil {
		return fmt.Errorf("pixel keys: %w", err)
	}
	px, err := d.newPixel(keys)
	if err != nil {
		return err
	}
	if px != nil {
		d.pixel = px
		d.mux.Handle("/o/", px)
		d.metrics.reg.MustRegister(newPixelCollector(px))
	}
	if d.relay, err = d.newRelay(keys); err != nil {
		return err
	}
	if d.cfg.Slack.Enabled {
		bc := botConfig(d.cfg)
		bc.HTTPClient = &http.Client{Transport: &slackMetrics{next: http.DefaultTransport, m: d.metrics}}
		if d.cal != nil {
			bc.WorkingDay = d.cal.Working // morning summaries skip holidays too
		}
		var sent bot.SentSearch
		if d.watcher != nil {
			sent = sentSearch{w: d.watcher, reg: d.reg}
		}
		if d.bot, err = newBot(bc, d.st, sent, d.mux, d.log); err != nil {
			return err
		}
		d.reg.notify = d.bot.Wake
		d.reg.deadlineOf = settingsStore{d.st}.deadlineOf
	} else {
		d.log.Info("slack is off: notices are neither queued nor delivered")
	}
	d.metrics.reg.MustRegister(newOutboxCollector(d.st, d.now))
	return nil
}

// run runs every component until ctx ends, then shuts down in order: stop
// taking work (watchers, HTTP), let the work in flight finish, close the
// store last. In cluster mode the daemon watches only the mailboxes its
// node owns, and runs the sweep, the bot and the relay only while it leads
// (cluster.go), and answers Slack's requests on every node; with the
// bbolt file it runs everything.
func (d *daemon) run(ctx context.Context) error {
	d.log.Info("mailack starting", "store", d.st.Path(), "http", d.listener.Addr().String(), "accounts", len(d.cfg.Accounts))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	fail := func(name string, err error) {
		if err != nil && ctx.Err() == nil {
			d.log.Error("component failed; stopping", "component", name, "err", err)
			cancel(fmt.Errorf("%s: %w", name, err))
		}
	}
	srv := newHTTPServer(d.mux, d.log, d.httpLimits)
	wg.Go(func() {
		if err := srv.Serve(d.listener); !errors.Is(err, http.ErrServerClosed) {
			fail("http", err)
		}
	})
	// The bot stops last among the producers of work, after one more
	// attempt at the outbox: it runs on its own context, cancelled once the
	// others have stopped.
	botCtx, stopBot := context.WithCancel(context.Background())
	defer stopBot()
	var botDone sync.WaitGroup
	var relayServed atomic.Bool
	// leadTasks starts the tasks one daemon runs at a time: the deadline
	// sweep and digests, the Slack deliverer and the relay. Their writes
	// carry fence, the leader's (none with the bbolt file).
	leadTasks := func(fence []clientv3.Cmp) {
		lctx := store.WithFence(ctx, fence...)
		wg.Go(func() { fail("sweep", d.sweepLoop(lctx)) })
		if d.bot != nil {
			bctx := store.WithFence(botCtx, fence...)
			if d.etcd == nil {
				botDone.Go(func() { fail("slack", d.bot.Run(bctx)) })
			} else {
				// Every node answers Slack's requests (below); the leader
				// alone delivers.
				botDone.Go(func() { fail("slack", d.bot.Deliver(bctx)) })
			}
			if added := d.st.OutboxAdded(lctx); added != nil {
				// Notices queued by the owners of other mailboxes.
				wg.Go(func() {
					for {
						select {
						case <-lctx.Done():
							return
						case <-added:
							d.bot.Wake()
						}
					}
				})
			}
		}
		if d.relay != nil {
			relayServed.Store(true)
			serve := func() error { return d.relay.Serve(d.relayLn) }
			if d.cfg.Relay.TLS == "implicit" {
				serve = func() error { return d.relay.ServeTLS(d.relayLn) }
			}
			wg.Go(func() { fail("relay", serveRelay(lctx, d.log, d.relay, d.cfg.Relay, serve)) })
		}
	}
	var node *cluster.Node
	if d.etcd == nil {
		if d.watcher != nil {
			wg.Go(func() { fail("mailwatch", d.watcher.Run(ctx)) })
		}
		leadTasks(nil)
	} else {
		if d.bot != nil {
			// Socket Mode connects from every node (Slack spreads the
			// requests over an app's connections); in HTTP mode every
			// node's listener answers.
			botDone.Go(func() { fail("slack", d.bot.Serve(botCtx)) })
		}
		node = d.startCluster(ctx, cancel, &wg, fail, leadTasks)
	}

	<-ctx.Done()
	d.log.Info("mailack stopping")
	shutCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	if err := srv.Shutdown(shutCtx); err != nil {
		d.log.Warn("http shutdown", "err", err)
	}
	if d.pixel != nil {
		d.pixel.Close() // records the hits still queued, before the store closes
	}
	wg.Wait()
	stopBot()
	botDone.Wait()
	if d.relayLn != nil && !relayServed.Load() {
		// Never led: the listener was never served.
		d.relayLn.Close()
	}
	if node != nil {
		d.active.Store(false)
		// Revoking the lease hands the lead over at once.
		if err := node.Leave(); err != nil {
			d.log.Warn("leave the cluster", "err", err)
		}
	}
	if err := d.st.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	d.log.Info("mailack stopped")
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return nil
}

// sweepLoop fires due deadlines every sweep interval, and once an hour
// drops expired orphans and purges old closed mail.
func (d *daemon) sweepLoop(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Tracking.SweepInterval)
	defer t.Stop()
	var lastHousekeeping time.Time
	for {
		now := d.now()
		res, err := d.st.SweepDue(ctx, now)
		if err != nil && ctx.Err() == nil {
			d.log.Error("deadline sweep failed", "err", err)
		}
		d.metrics.deadlines.Add(float64(len(res.Notices)))
		if len(res.Notices)+len(res.Redraws) > 0 && d.bot != nil {
			d.bot.Wake()
		}
		if now.Sub(lastHousekeeping) >= time.Hour {
			lastHousekeeping = now
			d.housekeeping(ctx, now)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (d *daemon) housekeeping(ctx context.Context, now time.Time) {
	if n, err := d.st.ExpireOrphans(ctx, now, d.cfg.Store.OrphanMaxAge); err != nil {
		d.log.Error("orphan expiry failed", "err", err)
	} else if n > 0 {
		d.log.Info("expired orphaned reports", "count", n)
	}
	if d.cfg.Store.Retention > 0 {
		if res, err := d.st.Purge(ctx, d.cfg.Store.Retention, now); err != nil {
			d.log.Error("purge failed", "err", err)
		} else {
			d.log.Debug("purged closed mail", "result", fmt.Sprintf("%+v", res))
		}
	}
}
