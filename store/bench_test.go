package store

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// BenchmarkStoreScale prints the store's figures at scale:
//
//	go test ./store -run '^$' -bench StoreScale -benchtime 1x
//
// MAILACK_BENCH_SCALE sets the number of tracked mails (default 50,000;
// the figures in the issue are for 1,000,000), with three pieces of
// evidence per mail. MAILACK_BENCH_CACHE names a directory in which the
// loaded database is kept and reused by later runs (each run works on a
// copy). The data set: mails spread over the year before benchNow, 500
// per sender, one to three recipients each, a read receipt asked for in
// 60%; DSNs for every recipient, read receipts for most; mails older than
// two weeks mostly closed; deadlines of 24 h, swept when due. The reports
// applied while measuring are read receipts for mails picked uniformly at
// random, the worst case for locality.
//
// bbolt reads the file through a shared read-only mapping, so RSS counts
// the pages of the file the process has mapped, and with each page read
// the kernel maps its cached neighbours, or the whole large folio holding
// it when the page cache got the file by a copy or by read(), as it does
// here. The store unmaps the file when too much of it is mapped
// (Options.MappedLimit; MAILACK_BENCH_MAPPED_LIMIT sets it in MiB, -1 for
// no limit). The figures give the process's own (anonymous) memory apart
// from the mapped pages of the file, and how much of the file the page
// cache holds, mapped or not: the kernel's, shared and reclaimable.
func BenchmarkStoreScale(b *testing.B) {
	bboltOnly(b)
	n := 50_000
	if v := os.Getenv("MAILACK_BENCH_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("MAILACK_BENCH_SCALE=%q: want a number of mails, at least 1000", v)
		}
	}
	var opts Options
	if v := os.Getenv("MAILACK_BENCH_MAPPED_LIMIT"); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("MAILACK_BENCH_MAPPED_LIMIT=%q: want MiB, or -1 for no limit", v)
		}
		opts.MappedLimit = max(mb<<20, -1)
	}
	path := benchDatabase(b, n)
	f := benchFigures{mails: n, evidence: benchEvidence(b, path), loadPeakMB: rss("VmHWM")}
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)

	s, err := Open(path, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	f.applyOne(b, ctx, s)
	f.applyConcurrent(b, ctx, s)
	f.list(b, ctx, s)
	f.digest(b, ctx, s)
	f.sweep(b, ctx, s)
	f.peakMB, f.endMB, f.anonMB, f.fileRSSMB = rss("VmHWM"), rss("VmRSS"), rss("RssAnon"), rss("RssFile")
	f.cachedMB = pageCacheMB(path)
	if s.mapped != nil {
		f.limitMB, f.trims = float64(s.opts.MappedLimit)/(1<<20), trimsOf(s)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	f.fileMB = float64(st.Size()) / (1 << 20)
	f.report(b)
}

// benchEvidence counts the evidence in the database at path. It reads the
// whole mails bucket, so it runs before the RSS figures are taken, on its
// own mapping of the file.
func benchEvidence(b *testing.B, path string) int {
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	return countEvidence(b, s)
}

// benchNow is "now" for the data set: the end of its year.
var benchNow = time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)

const (
	benchSpan      = 365 * 24 * time.Hour
	benchPerSender = 500
	benchAppliers  = 64
)

func benchSender(n, i int) string {
	return fmt.Sprintf("sender%05d@corp.example", i%max(n/benchPerSender, 10))
}

func benchMailID(i int) string {
	return fmt.Sprintf("%016x.%d@corp.example", rand.NewPCG(uint64(i), 7).Uint64(), i)
}

// benchMail is mail i of n as it stands at benchNow, with its evidence.
func benchMail(n, i int) (track.Mail, []track.Evidence) {
	rng := rand.New(rand.NewPCG(uint64(i), 11))
	sent := benchNow.Add(-benchSpan + time.Duration(i)*(benchSpan/time.Duration(n)))
	m := track.Mail{
		MessageID: benchMailID(i), Sender: benchSender(n, i), SentAt: sent,
		Subject:   fmt.Sprintf("Quotation %d for project %d", i, rng.IntN(1000)),
		Requested: track.Requested{ReadReceipt: rng.IntN(10) < 6, DSN: true},
	}
	for j := range 1 + rng.IntN(3) {
		m.Recipients = append(m.Recipients, track.Recipient{Address: fmt.Sprintf("r%07d@ext%03d.example", rng.IntN(n/5+1), j)})
	}
	m, err := track.Register(m, 24*time.Hour, nil, sent)
	if err != nil {
		panic(err) // the generator makes valid mails
	}
	var evs []track.Evidence
	for k, r := range m.Recipients {
		at := sent.Add(time.Duration(1+rng.IntN(600)) * time.Second)
		for _, rep := range benchReports(rng, m, r.Address, k) {
			rep.Date = at
			mt := track.Match{Mail: m, Recipient: r.Address, Via: track.ViaMessageID, Confidence: track.ConfidenceExact}
			evs = append(evs, track.EvidenceFrom(rep, mt, at))
			at = at.Add(time.Duration(rng.IntN(48*3600)) * time.Second)
		}
	}
	return m, evs
}

func benchReports(rng *rand.Rand, m track.Mail, addr string, k int) []report.Report {
	rid := func(kind string) string { return fmt.Sprintf("%s%d.%s", kind, k, m.MessageID) }
	d := func(a report.Action) report.Report {
		return report.Report{Kind: report.KindDSN, OriginalMessageID: m.MessageID, Recipient: addr, Action: a, ReportMessageID: rid(string(a))}
	}
	var out []report.Report
	switch x := rng.IntN(100); {
	case x < 3:
		return append(out, d(report.ActionFailed))
	case x < 6:
		out = append(out, d(report.ActionDelayed), d(report.ActionDelivered))
	default:
		out = append(out, d(report.ActionDelivered))
	}
	if !m.Requested.ReadReceipt || rng.IntN(100) >= 78 {
		return out
	}
	disp := report.DispositionDisplayed
	if x := rng.IntN(78); x < 5 {
		disp = report.DispositionDeleted
	} else if x < 13 {
		disp = report.DispositionDenied
	}
	return append(out, report.Report{Kind: report.KindMDN, OriginalMessageID: m.MessageID, Recipient: addr,
		Disposition: disp, ReportMessageID: rid("mdn"), UserAgent: "Microsoft Outlook 16.0"})
}

// benchState brings mail i to its state at benchNow: evidence applied,
// its deadline swept if due, closed if its sender closed it.
func benchState(rng *rand.Rand, m track.Mail, evs []track.Evidence) track.Mail {
	for _, ev := range evs {
		if r, err := track.Apply(m, ev, ev.At); err == nil {
			m = r.Mail
		}
	}
	if !m.DueAt.IsZero() && !m.DueAt.After(benchNow) {
		m, _ = track.Sweep(m, m.DueAt) // its notices were delivered long ago
	}
	closeP := 30
	if benchNow.Sub(m.SentAt) > 14*24*time.Hour {
		closeP = 85
	}
	if rng.IntN(100) < closeP {
		at := m.SentAt.Add(time.Duration(1+rng.IntN(10*24)) * time.Hour)
		if at.After(benchNow) {
			at = benchNow
		}
		// Close fails only for a state other than done or stopped.
		m, _ = track.Close(m, []track.State{track.StateDone, track.StateStopped}[rng.IntN(2)], at)
	}
	return m
}

// benchDatabase returns the path of a loaded database of n mails: a copy
// of the cached one, or a new one.
func benchDatabase(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), "bench.db")
	cache := os.Getenv("MAILACK_BENCH_CACHE")
	if cache == "" {
		loadBench(b, path, n)
		return path
	}
	cached := filepath.Join(cache, fmt.Sprintf("bench-%d-v%d-p%d.db", n, currentSchema, defaultPageSize))
	if _, err := os.Stat(cached); err != nil {
		loadBench(b, cached, n)
	}
	copyFile(b, cached, path)
	return path
}

func copyFile(b *testing.B, from, to string) {
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

// loadBench writes the data set in large transactions, through the same
// functions the store's writes use, and then copies it key by key into
// path. Large transactions leave many pages free, which a database grown
// one report at a time does not have; the copy fills pages to 70%, about
// what random inserts leave.
func loadBench(b *testing.B, path string, n int) {
	start := time.Now()
	raw := path + ".load"
	s, err := Open(raw, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	const perTx = 5000
	for lo := 0; lo < n; lo += perTx {
		err := s.update(context.Background(), func(tx kvTx) error {
			for i := lo; i < min(lo+perTx, n); i++ {
				if err := loadBenchMail(tx, n, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := loadBenchExtras(s); err != nil {
		b.Fatal(err)
	}
	if err := copyDatabase(s.db, path, 0.7); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Remove(raw); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("loaded %d mails in %v\n", n, time.Since(start).Round(time.Second))
}

// copyDatabase copies every top-level bucket of src, key by key, into a
// new database at path, filling pages to fill.
func copyDatabase(src *bbolt.DB, path string, fill float64) error {
	dst, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true, FreelistType: bbolt.FreelistMapType, PageSize: defaultPageSize})
	if err != nil {
		return err
	}
	defer dst.Close()
	return src.View(func(stx *bbolt.Tx) error {
		return stx.ForEach(func(name []byte, sb *bbolt.Bucket) error {
			err := dst.Update(func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucket(name)
				if err != nil {
					return err
				}
				return b.SetSequence(sb.Sequence())
			})
			c := sb.Cursor()
			for k, v := c.First(); k != nil && err == nil; {
				err = dst.Update(func(tx *bbolt.Tx) error {
					b := tx.Bucket(name)
					b.FillPercent = fill
					for n := 0; k != nil && n < 200_000; n++ {
						if err := b.Put(k, v); err != nil {
							return err
						}
						k, v = c.Next()
					}
					return nil
				})
			}
			return err
		})
	})
}

func loadBenchMail(tx kvTx, n, i int) error {
	m, evs := benchMail(n, i)
	m = benchState(rand.New(rand.NewPCG(uint64(i), 13)), m, evs)
	for j := range evs {
		if err := putEvidence(tx, &evs[j]); err != nil {
			return err
		}
	}
	return putMail(tx, nil, &m)
}

// loadBenchExtras adds what a running system holds besides mails: pending
// notices, orphans, checkpoints.
func loadBenchExtras(s *Store) error {
	return s.update(context.Background(), func(tx kvTx) error {
		for i := range 500 {
			n := track.Notice{Key: fmt.Sprintf("pending-%d", i), Kind: track.NoticeRead, MessageID: benchMailID(i)}
			if _, err := s.enqueueNotices(tx, []track.Notice{n}, benchNow); err != nil {
				return err
			}
		}
		for i := range 1000 {
			r := report.Report{Kind: report.KindMDN, OriginalMessageID: fmt.Sprintf("unknown%d@elsewhere.example", i),
				Recipient: "x@ext.example", Disposition: report.DispositionDisplayed, ReportMessageID: fmt.Sprintf("o%d@x", i)}
			o := track.OrphanFrom(r, benchNow.Add(-time.Duration(i)*time.Minute))
			if err := putOrphan(tx, &o); err != nil {
				return err
			}
		}
		for i := range 10 {
			cp := Checkpoint{Account: fmt.Sprintf("acct%d", i), Folder: "INBOX", UIDValidity: 1, UID: 100000}
			if err := advanceCheckpoint(tx, &cp, benchNow); err != nil {
				return err
			}
		}
		return nil
	})
}
