package main

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// With Slack turned off, a bounce and a passed deadline still change the
// mail, but no notice waits in the outbox for a delivery that never comes,
// and the outbox metrics say what they count.
func TestSlackOffQueuesNothing(t *testing.T) {
	cfg := config.Defaults()
	cfg.Store.Path = filepath.Join(t.TempDir(), "mailack.db")
	cfg.HTTP.Listen = "127.0.0.1:0"
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	d, err := newDaemon(t.Context(), cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.listener.Close()
		d.st.Close()
	})
	ctx := t.Context()
	for _, id := range []string{"bounced@example.com", "ignored@example.com"} {
		m := track.Mail{MessageID: id, Sender: "alice@example.com", Subject: "Quote", SentAt: now,
			Requested: track.Requested{DSN: true}, Recipients: []track.Recipient{{Address: "bob@example.org"}}}
		if _, err := d.reg.register(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	res, err := d.st.ApplyReport(ctx, store.ApplyInput{Now: now, Reports: []report.Report{{Kind: report.KindDSN,
		OriginalMessageID: "bounced@example.com", Recipient: "bob@example.org", Action: report.ActionFailed, Status: "5.1.1",
		ReportMessageID: "dsn@mx.example.org", Date: now}}})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := d.st.SweepDue(ctx, now.Add(cfg.Tracking.DefaultDeadline+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notices) == 0 || len(sw.Notices) == 0 {
		t.Fatalf("bounce gave %d notices, sweep %d; want some of each", len(res.Notices), len(sw.Notices))
	}
	if m, err := d.st.Mail(ctx, "bounced@example.com"); err != nil || m.Recipients[0].Status != track.StatusFailed {
		t.Errorf("bounced mail: %+v, %v; want bob bounced", m.Recipients, err)
	}
	items, err := d.st.Pending(ctx, now.Add(1000*time.Hour), 0)
	if err != nil || len(items) != 0 {
		t.Errorf("outbox holds %d (%v) with Slack off, want 0", len(items), err)
	}
	families, err := d.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range families {
		switch f.GetName() {
		case "mailack_outbox_depth", "mailack_outbox_oldest_age_seconds":
			found++
			if v := f.GetMetric()[0].GetGauge().GetValue(); v != 0 {
				t.Errorf("%s = %v with Slack off, want 0", f.GetName(), v)
			}
			if !strings.Contains(f.GetHelp(), "not yet delivered to Slack") || !strings.Contains(f.GetHelp(), "Slack is turned off") {
				t.Errorf("%s help = %q, want what it counts and what happens with Slack off", f.GetName(), f.GetHelp())
			}
		}
	}
	if found != 2 {
		t.Errorf("found %d outbox metrics, want 2", found)
	}
}
