package mailwatch

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

// BenchmarkIdleBytes measures what a watched folder with no new mail costs
// on the wire: the bytes read per IDLE restart, and per poll, on a real
// Dovecot over STARTTLS. The intervals are shortened and the same ratio
// kept (a poll a minute, an IDLE restart and folder check every ten), and
// the figures are scaled back to the defaults as bytes a minute.
func BenchmarkIdleBytes(b *testing.B) {
	s := mailstack.Start(b)
	c := s.Login(b, "alice")
	if err := c.Create("Reports", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	const window = 5 * time.Second
	measure := func(poll, restart time.Duration) (perCycle float64) {
		acct := account(s, "alice")
		acct.ReportFolders = []string{"Reports"}
		acct.PollInterval = poll
		w, err := New([]Account{acct}, Options{
			Sink: newMemSink(), Logger: slog.New(slog.DiscardHandler), IdleRestart: restart,
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(30 * time.Second)
		for w.Status()[0].LastSync.IsZero() {
			if time.Now().After(deadline) {
				b.Fatal("no first sync within 30 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		read0, start := w.BytesRead(), time.Now()
		time.Sleep(window)
		cycle := poll
		if cycle == 0 {
			cycle = restart
		}
		return float64(w.BytesRead()-read0) / (float64(time.Since(start)) / float64(cycle))
	}
	for b.Loop() {
		idle := measure(0, 250*time.Millisecond)
		poll := measure(100*time.Millisecond, time.Second)
		b.Logf("IDLE: %.0f bytes per restart = %.1f bytes a minute at the 10 min default; polling: %.0f bytes per poll = %.0f bytes a minute at the 1 min default",
			idle, idle/10, poll, poll)
		b.ReportMetric(idle/10, "idle-B/min")
		b.ReportMetric(poll, "poll-B/min")
	}
}
