package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/cmd/mailack/demo"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/mailwatch/pixel"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
)

// runDemo is `mailack demo`: package demo tells the story, with the
// daemon's own wiring.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--lang en|ja] [--pace DURATION]", "Runs mailack on this machine with no credentials: sample sent mail, receipts and\n"+
		"bounces arrive over accelerated time, and the Slack side is printed here.")
	lang := fs.String("lang", "en", "the demo's language, and its users' in Slack: en or ja")
	pace := fs.Duration("pace", 800*time.Millisecond, "pause between steps, for reading (0 runs straight through)")
	keep := fs.Bool("keep", false, "keep the demo's database (its path is printed)")
	if err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *lang != "en" && *lang != "ja" {
		return fmt.Errorf("%w: --lang must be en or ja", errUsage)
	}
	dir, err := os.MkdirTemp("", "mailack-demo-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(e.stdout, "database: %s\n", filepath.Join(dir, "mailack.db"))
	} else {
		defer os.RemoveAll(dir)
	}
	return demo.Run(ctx, demo.Options{Out: e.stdout, Lang: *lang, Pace: *pace, Dir: dir}, demoWiring())
}

// demoWiring hands the demo the daemon's parts.
func demoWiring() demo.Wiring {
	return demo.Wiring{
		Pipeline: func(st *store.Store, cal *track.Calendar, deadline time.Duration, now func() time.Time, log *slog.Logger, acct mailwatch.Account) (mailwatch.Sink, func(*mailwatch.Watcher) bot.SentSearch) {
			reg := &registrar{st: st, cal: cal, defaultAfter: deadline, now: now, metrics: newMetrics()}
			scopes := reportScopes([]config.Account{{Name: acct.Name, Owner: acct.Owner}})
			return &storeSink{registrar: reg, log: log, scopes: scopes}, func(w *mailwatch.Watcher) bot.SentSearch { return sentSearch{w: w, reg: reg} }
		},
		Bot: newBot,
		Pixel: func(st *store.Store, now func() time.Time) pixel.Recorder {
			return pixelRecorder{st: st, now: now}
		},
	}
}
