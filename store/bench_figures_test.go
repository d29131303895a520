package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

// benchFigures collects what BenchmarkStoreScale measures.
type benchFigures struct {
	mails, evidence int

	applyP50, applyP99 time.Duration
	applied            int
	perSecond          float64
	pagesPerReport     float64 // pages written per report applied
	writeShare         float64 // of the time, the share spent writing and syncing

	listP50, listMax time.Duration
	listed           int
	digestWeek       time.Duration
	digestWeekMails  int
	digestAll        time.Duration
	digestAllMails   int
	sweepTook        time.Duration
	swept            int

	fileMB, loadPeakMB, peakMB, endMB, anonMB, fileRSSMB, cachedMB float64

	limitMB float64 // Options.MappedLimit; 0 for none
	trims   int64   // times the store unmapped the file
}

// benchReport is a new read receipt for a random mail of the data set.
func benchReport(rng *rand.Rand, n int, tag string) report.Report {
	i := rng.IntN(n)
	m, _ := benchMail(n, i)
	r := m.Recipients[rng.IntN(len(m.Recipients))]
	return report.Report{Kind: report.KindMDN, OriginalMessageID: m.MessageID, Recipient: r.Address,
		Disposition: report.DispositionDisplayed, ReportMessageID: fmt.Sprintf("%s.%d@bench", tag, rng.Uint64()),
		Date: benchNow}
}

// applyOne applies reports one at a time, each with a checkpoint, as one
// mailbox reader does.
func (f *benchFigures) applyOne(b *testing.B, ctx context.Context, s *Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	lat := make([]time.Duration, 0, n)
	for i := range n {
		in := ApplyInput{Reports: []report.Report{benchReport(rng, f.mails, "one")}, Now: benchNow,
			Checkpoint: &Checkpoint{Account: "acct0", Folder: "INBOX", UIDValidity: 1, UID: uint32(200000 + i)}}
		start := time.Now()
		if _, err := s.ApplyReport(ctx, in); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	f.applyP50, f.applyP99 = lat[n/2], lat[n*99/100]
}

// applyConcurrent applies reports from 64 goroutines at once; the
// reports are made before the clock starts.
func (f *benchFigures) applyConcurrent(b *testing.B, ctx context.Context, s *Store) {
	const each = 400
	inputs := make([][]ApplyInput, benchAppliers)
	for g := range inputs {
		rng := rand.New(rand.NewPCG(uint64(g), 3))
		for i := range each {
			inputs[g] = append(inputs[g], ApplyInput{Reports: []report.Report{benchReport(rng, f.mails, "many")}, Now: benchNow,
				Checkpoint: &Checkpoint{Account: fmt.Sprintf("acct%d", g%10), Folder: "INBOX", UIDValidity: 1, UID: uint32(300000 + i)}})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, benchAppliers)
	st0 := s.db.Stats()
	start := time.Now()
	for g := range benchAppliers {
		wg.Go(func() {
			for _, in := range inputs[g] {
				if _, err := s.ApplyReport(ctx, in); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	f.perSecond = float64(benchAppliers*each) / time.Since(start).Seconds()
	st1 := s.db.Stats()
	d := st1.Sub(&st0)
	f.pagesPerReport = float64(d.TxStats.GetWrite()) / float64(benchAppliers*each)
	f.writeShare = d.TxStats.GetWriteTime().Seconds() / time.Since(start).Seconds()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	f.applied = benchAppliers * each
}

// list lists the open mails of 100 senders.
func (f *benchFigures) list(b *testing.B, ctx context.Context, s *Store) {
	rng := rand.New(rand.NewPCG(4, 5))
	var lat []time.Duration
	for range 100 {
		sender := benchSender(f.mails, rng.IntN(f.mails))
		start := time.Now()
		ms, err := s.ListBySender(ctx, sender, ListFilter{}, 0)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		f.listed += len(ms)
	}
	slices.Sort(lat)
	f.listP50, f.listMax = lat[len(lat)/2], lat[len(lat)-1]
	f.listed /= len(lat)
}

// digest computes the daily digest (unanswered after 24 h, sent in the
// last week) and the whole backlog (no lower bound), each 5 times, and
// keeps the median time.
func (f *benchFigures) digest(b *testing.B, ctx context.Context, s *Store) {
	for _, q := range []struct {
		q    DigestQuery
		took *time.Duration
		n    *int
	}{
		{DigestQuery{OlderThan: 24 * time.Hour, Within: 7 * 24 * time.Hour}, &f.digestWeek, &f.digestWeekMails},
		{DigestQuery{OlderThan: 24 * time.Hour}, &f.digestAll, &f.digestAllMails},
	} {
		var lat []time.Duration
		for range 5 {
			start := time.Now()
			ds, err := s.Digest(ctx, benchNow, q.q)
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			*q.n = 0
			for _, d := range ds {
				*q.n += len(d.Mails)
			}
		}
		slices.Sort(lat)
		*q.took = lat[len(lat)/2]
	}
}

// sweep fires the deadlines that fall due in the hour after benchNow.
func (f *benchFigures) sweep(b *testing.B, ctx context.Context, s *Store) {
	start := time.Now()
	res, err := s.SweepDue(ctx, benchNow.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	f.sweepTook, f.swept = time.Since(start), res.Swept
}

func (f *benchFigures) report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(f.mails), "mails")
	b.ReportMetric(float64(f.evidence), "evidence")
	b.ReportMetric(ms(f.applyP50), "apply-p50-ms")
	b.ReportMetric(ms(f.applyP99), "apply-p99-ms")
	b.ReportMetric(f.perSecond, "reports/s")
	b.ReportMetric(ms(f.listP50), "list-p50-ms")
	b.ReportMetric(ms(f.digestWeek), "digest-ms")
	b.ReportMetric(ms(f.sweepTook), "sweep-ms")
	b.ReportMetric(f.fileMB, "file-MB")
	b.ReportMetric(f.peakMB, "peak-RSS-MB")
	b.ReportMetric(f.endMB, "end-RSS-MB")
	limit := "none"
	if f.limitMB > 0 {
		limit = fmt.Sprintf("%.0f MiB, reached %d times", f.limitMB, f.trims)
	}
	fmt.Printf(`store figures at %d mails, %d evidence (scale set by MAILACK_BENCH_SCALE)
  apply one report (own transaction, fsync): p50 %.2f ms, p99 %.2f ms
  sustained, %d concurrent appliers (group commit): %.0f reports/s over %d reports
    (%.1f pages written per report; %.0f%% of the time spent writing and syncing them)
  ListBySender, one sender's open mails: p50 %.2f ms, max %.2f ms (%d mails on average)
  Digest, unanswered after 24 h, sent in the last 7 days: %.2f ms (%d mails)
  Digest, whole backlog unanswered after 24 h: %.2f ms (%d mails)
  deadline sweep, one hour of deadlines: %.2f ms (%d mails)
  file size: %.0f MB
  peak RSS while serving (VmHWM): %.0f MB; limit on the file's mapped pages: %s
  RSS at the end (VmRSS): %.0f MB: %.0f MB anonymous, %.0f MB mapped pages of files
  the file in the page cache at the end, mapped or not: %.0f MB
  peak RSS before serving (loading or copying the data set, counting the evidence): %.0f MB
`, f.mails, f.evidence, ms(f.applyP50), ms(f.applyP99), benchAppliers, f.perSecond, f.applied, f.pagesPerReport, 100*f.writeShare,
		ms(f.listP50), ms(f.listMax), f.listed, ms(f.digestWeek), f.digestWeekMails, ms(f.digestAll), f.digestAllMails,
		ms(f.sweepTook), f.swept, f.fileMB, f.peakMB, limit, f.endMB, f.anonMB, f.fileRSSMB, f.cachedMB, f.loadPeakMB)
}

// rss reads a memory figure of this process from /proc/self/status, in
// MB; 0 where there is none.
func rss(field string) float64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err != nil {
			return 0
		}
		return kb / 1024
	}
	return 0
}

// resetPeakRSS starts VmHWM afresh (Linux: clear_refs 5), so that the peak
// reported is that of serving, not of loading the data set.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS includes loading: cannot reset it: %v", err)
	}
}
