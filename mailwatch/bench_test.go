package mailwatch

// The benchmarks in this file run the watcher against the real mail stack
// and print figures; they check that every report is found, never how fast.
// Each builds its own stack and runs for a few minutes at most, so run
// each once:
//
//	go test ./mailwatch -run '^$' -bench . -benchtime 1x
//
// MAILACK_BENCH_N sets how many bounces BenchmarkReportLatency sends in each
// mode (default 200); MAILACK_BENCH_LOAD=lmtp makes BenchmarkCatchUp deliver
// its mailboxes over LMTP rather than write the Maildirs.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	osuser "os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/track/report"
)

// benchSink is the sink of the benchmarks. It keeps checkpoints, when each
// envelope ID was first reported and counts, but not the items, so that it
// adds next to nothing to the heap being measured.
type benchSink struct {
	mu          sync.Mutex // guards the fields up to changed
	cps         map[string]Checkpoint
	byEnvelope  map[string]time.Time // envelope ID -> first Apply carrying it
	byOriginal  map[string]int       // original Message-ID -> reports
	withReports int                  // messages with at least one report
	examined    int                  // messages fetched whole that held no report
	quarantined int
	steps       map[string][]uint32 // account/folder -> LastUID of every checkpoint applied

	changed chan struct{} // receives after every Apply, never blocking it
}

func newBenchSink() *benchSink {
	return &benchSink{cps: map[string]Checkpoint{}, byEnvelope: map[string]time.Time{},
		byOriginal: map[string]int{}, steps: map[string][]uint32{}, changed: make(chan struct{}, 1)}
}

func (s *benchSink) Checkpoint(_ context.Context, account, folder string) (Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cps[account+"/"+folder], nil
}

func (s *benchSink) Apply(_ context.Context, it Item) error {
	now := time.Now()
	s.mu.Lock()
	key := it.Checkpoint.Account + "/" + it.Checkpoint.Folder
	s.cps[key] = it.Checkpoint
	s.steps[key] = append(s.steps[key], it.Checkpoint.LastUID)
	switch {
	case it.Quarantine != nil:
		s.quarantined++
	case len(it.Reports) > 0:
		s.withReports++
	case it.Reports != nil:
		s.examined++
	}
	for _, r := range it.Reports {
		if _, ok := s.byEnvelope[r.EnvelopeID]; !ok && r.EnvelopeID != "" {
			s.byEnvelope[r.EnvelopeID] = now
		}
		s.byOriginal[r.OriginalMessageID]++
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return nil
}

// await re-checks cond (under the lock) after every Apply and reports
// whether it held within timeout.
func (s *benchSink) await(timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-s.changed:
		case <-t.C:
			return false
		}
	}
}

// runBenchWatcher runs a watcher of acct until the returned stop is called.
func runBenchWatcher(tb testing.TB, sink Sink, acct Account) (*Watcher, func()) {
	tb.Helper()
	return runBenchWatcherSearching(tb, sink, acct, true)
}

// runBenchWatcherSearching is runBenchWatcher with the windows narrowed by
// SEARCH or not.
func runBenchWatcherSearching(tb testing.TB, sink Sink, acct Account, search bool) (*Watcher, func()) {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := New([]Account{acct}, Options{Sink: sink, Logger: log, DontRecover: true})
	if err != nil {
		tb.Fatal(err)
	}
	if !search {
		w.searchable = func(imap.CapSet) bool { return false }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			tb.Errorf("watcher: %v", err)
		}
	}()
	return w, func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tb.Errorf("watcher did not stop within 10 s of cancel")
		}
	}
}

func benchN(b *testing.B) int {
	v := os.Getenv("MAILACK_BENCH_N")
	if v == "" {
		return 200
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("MAILACK_BENCH_N=%q: want a positive number", v)
	}
	return n
}

// percentile returns the nearest-rank percentile p (0 < p <= 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[max(int(math.Ceil(p*float64(len(sorted))))-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkReportLatency sends mail through Postfix to an unknown user, one
// at a time, and measures how long after the submission returns the
// watcher applies the bounce Postfix sends back (matched by envelope ID):
// once over IDLE with the default options and once polling every 100 ms.
// A third pass times the mail stack alone, until the bounce is in the
// mailbox, to show which part of the latency is the watcher's.
func BenchmarkReportLatency(b *testing.B) {
	n := benchN(b)
	s := mailstack.Start(b)
	round := 0
	for b.Loop() {
		round++
		idle := latencyPass(b, s, account(s, "alice"), fmt.Sprintf("idle%d", round), n)
		polled := account(s, "alice")
		polled.PollInterval = 100 * time.Millisecond
		poll := latencyPass(b, s, polled, fmt.Sprintf("poll%d", round), n)
		stack := deliveryPass(b, s, fmt.Sprintf("stack%d", round), n)

		b.Logf("report latency, %d bounces sent one at a time, from the SMTP submission returning to the sink's Apply:", n)
		b.Logf("  IDLE:                p50 %6.0f ms  p99 %6.0f ms  min %4.0f ms  max %4.0f ms", ms(percentile(idle, .5)), ms(percentile(idle, .99)), ms(idle[0]), ms(idle[n-1]))
		b.Logf("  poll every 100 ms:   p50 %6.0f ms  p99 %6.0f ms  min %4.0f ms  max %4.0f ms", ms(percentile(poll, .5)), ms(percentile(poll, .99)), ms(poll[0]), ms(poll[n-1]))
		b.Logf("  mail stack alone:    p50 %6.0f ms  p99 %6.0f ms  min %4.0f ms  max %4.0f ms  (until STATUS, asked every 2 ms, counts the bounce)", ms(percentile(stack, .5)), ms(percentile(stack, .99)), ms(stack[0]), ms(stack[n-1]))
		b.Logf("  the IDLE floor of about 500 ms is Dovecot's: it holds back change notifications for a fixed 500 ms (NOTIFY_DELAY_MSECS, lib-storage/mailbox-watch.c)")
		b.Logf("  goal p99 < 1 s over IDLE on loopback: %s (%s)", goal(percentile(idle, .99) < time.Second), machineLoad())
		b.ReportMetric(ms(percentile(idle, .5)), "idle-p50-ms")
		b.ReportMetric(ms(percentile(idle, .99)), "idle-p99-ms")
		b.ReportMetric(ms(percentile(poll, .5)), "poll-p50-ms")
		b.ReportMetric(ms(percentile(poll, .99)), "poll-p99-ms")
	}
}

// sendBounce sends a mail to an unknown user with envelope ID env, which
// Postfix bounces to alice, and returns when the submission returned.
func sendBounce(b *testing.B, s *mailstack.Stack, env string) time.Time {
	id := env + "@test.example"
	rcpt := "nosuch@" + s.Domain()
	s.Send(b, s.Address("alice"), []string{rcpt}, []byte(sentMail(id, rcpt, "Quote "+env)),
		mailstack.SendOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: env})
	return time.Now()
}

// latencyPass runs a watcher of acct and returns the sorted latencies of n
// bounces whose envelope IDs start with tag.
func latencyPass(b *testing.B, s *mailstack.Stack, acct Account, tag string, n int) []time.Duration {
	sink := newBenchSink()
	w, stop := runBenchWatcher(b, sink, acct)
	defer stop()
	applied := func(env string) time.Time {
		var at time.Time
		if sink.await(20*time.Second, func() bool { at = sink.byEnvelope[env]; return !at.IsZero() }) {
			return at
		}
		st, err := s.Login(b, "alice").Status("INBOX", &imap.StatusOptions{NumMessages: true, UIDNext: true}).Wait()
		if err != nil {
			b.Fatalf("%s: no bounce for envelope %s applied within 20 s; status INBOX: %v", tag, env, err)
		}
		cp, _ := sink.Checkpoint(context.Background(), acct.Name, "INBOX")
		b.Fatalf("%s: no bounce for envelope %s applied within 20 s; INBOX holds %d messages (UIDNEXT %d), the sink's checkpoint is at UID %d, watcher status %+v",
			tag, env, *st.NumMessages, st.UIDNext, cp.LastUID, w.Status())
		return at
	}
	// Not measured: once this one is applied, the watcher has read the
	// folder and waits for changes.
	warm := tag + "-warmup"
	sendBounce(b, s, warm)
	applied(warm)
	// A random pause before each send keeps the sends out of step with
	// the watcher: sent right after an Apply, every bounce would land just
	// after a poll and wait a whole interval.
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	lat := make([]time.Duration, 0, n)
	for i := range n {
		time.Sleep(time.Duration(rng.Int64N(int64(100 * time.Millisecond))))
		env := fmt.Sprintf("%s-%04d", tag, i)
		sent := sendBounce(b, s, env)
		lat = append(lat, applied(env).Sub(sent))
	}
	slices.Sort(lat)
	return lat
}

// deliveryPass measures the mail stack alone: the sorted times from the
// submission returning until STATUS, asked every 2 ms, counts the bounce
// in alice's INBOX.
func deliveryPass(b *testing.B, s *mailstack.Stack, tag string, n int) []time.Duration {
	c := s.Login(b, "alice")
	defer c.Close()
	count := func() uint32 {
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil || st.NumMessages == nil {
			b.Fatalf("status INBOX: %v", err)
		}
		return *st.NumMessages
	}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		before := count()
		sent := sendBounce(b, s, fmt.Sprintf("%s-%04d", tag, i))
		for deadline := sent.Add(20 * time.Second); count() == before; time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("%s: bounce %d not in INBOX within 20 s", tag, i)
			}
		}
		lat = append(lat, time.Since(sent))
	}
	slices.Sort(lat)
	return lat
}

// BenchmarkCatchUp loads a mailbox of 20,000 messages, 500 of them reports,
// and one of 5,000 with the same mix, then reads each from an empty
// checkpoint. Next to the watcher's figures it runs a naive client on the
// large mailbox that fetches every message whole and parses it. Last, the
// large mailbox is copied at once into a folder the watcher waits on. A
// report the watcher misses fails the benchmark.
//
// Benchmark output is cut after ten lines unless -v is given, so the
// figures come in nine.
func BenchmarkCatchUp(b *testing.B) {
	s := mailstack.Start(b)
	small := loadMailbox(b, s, "bob", 5000, 125, 2)
	large := loadMailbox(b, s, "alice", 20000, 500, 1)
	for b.Loop() {
		fs := measureCatchUp(b, s, small, true)
		fl := measureCatchUp(b, s, large, true)
		flAll := measureCatchUp(b, s, large, false)
		nv := naiveCatchUp(b, s, large)
		bl := measureBacklog(b, s, large)

		b.Logf("mailboxes of %d messages (%d reports, %.1f MiB) and %d (%d reports, %.1f MiB), generated and %s in %.1f s and %.1f s",
			small.n, small.reports, mib(small.bytes), large.n, large.reports, mib(large.bytes), large.how, small.load.Seconds(), large.load.Seconds())
		for _, r := range []struct {
			mb *benchMailbox
			f  catchUpFigures
		}{{small, fs}, {large, fl}} {
			b.Logf("watcher catch-up of %5d: %5.2f s, %6.2f MiB received, %d reports found, %d other messages fetched whole, peak heap %.1f MiB (in use %.1f MiB, %.1f MiB live before)",
				r.mb.n, r.f.wall.Seconds(), mib(r.f.bytes), r.f.withReports, r.f.examined, mib(r.f.peakAlloc), mib(r.f.peakInuse), mib(r.f.heapBefore))
		}
		b.Logf("naive   catch-up of %5d: %5.2f s, %6.2f MiB received, %d messages with reports (one UID FETCH 1:* BODY.PEEK[], every message parsed)",
			nv.messages, nv.wall.Seconds(), mib(nv.bytes), nv.withReports)
		need := large.reportBytes + large.fieldBytes
		overhead := float64(fl.bytes) / float64(need)
		saving := float64(nv.bytes) / float64(fl.bytes)
		rest := flAll.bytes - need - large.lookalikeBytes
		b.Logf("bytes(watcher) / (reports %.2f MiB + examined header fields %.2f MiB) = %.4fx (goal <= 1.3x: %s), %.2fx the reports alone, the windows narrowed by SEARCH; of it %.2f MiB for the %d ordinary messages report.Likely cannot rule out (%d fetched whole)",
			mib(large.reportBytes), mib(large.fieldBytes), overhead, goal(overhead <= 1.3), float64(fl.bytes)/float64(large.reportBytes), mib(large.lookalikeBytes), large.lookalikes, fl.examined)
		b.Logf("without SEARCH (every message's header fields fetched): %.2f MiB = %.4fx in %.2f s; beyond the bytes needed %.2f MiB mostly IMAP framing (%.0f bytes a message)",
			mib(flAll.bytes), float64(flAll.bytes)/float64(need), flAll.wall.Seconds(), mib(rest), float64(rest)/float64(large.n))
		b.Logf("bytes(naive) / bytes(watcher) = %.1fx (goal >= 10x: %s)", saving, goal(saving >= 10))
		b.Logf("peak heap on catch-up: %.1f MiB at %d messages, %.1f MiB at %d (x%.2f for x%d the messages)",
			mib(fs.peakAlloc), small.n, mib(fl.peakAlloc), large.n, float64(fl.peakAlloc)/float64(fs.peakAlloc), large.n/small.n)
		b.Logf("the %d copied at once into a folder the watcher waits on in IDLE: read in %.2f s, %.2f MiB received, peak heap %.1f MiB (in use %.1f MiB); timings taken at %s",
			large.n, bl.wall.Seconds(), mib(bl.bytes), mib(bl.peakAlloc), mib(bl.peakInuse), machineLoad())
		b.ReportMetric(fl.wall.Seconds(), "catchup-s")
		b.ReportMetric(nv.wall.Seconds(), "naive-s")
		b.ReportMetric(mib(fl.bytes), "watcher-MiB")
		b.ReportMetric(mib(nv.bytes), "naive-MiB")
		b.ReportMetric(overhead, "bytes/needed")
		b.ReportMetric(saving, "naive/watcher")
		b.ReportMetric(mib(fs.peakAlloc), "heap5k-MiB")
		b.ReportMetric(mib(fl.peakAlloc), "heap20k-MiB")
		b.ReportMetric(mib(bl.peakAlloc), "heap-copied-MiB")
	}
}

// machineLoad describes how busy the machine was, for reading the
// timings: other work on it slows the mail stack and the watcher alike.
func machineLoad() string {
	avg, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return fmt.Sprintf("%d CPUs", runtime.NumCPU())
	}
	f := strings.Fields(string(avg))
	return fmt.Sprintf("load average %s over 1 min, %s over 5 min, on %d CPUs", f[0], f[1], runtime.NumCPU())
}

func mib[T int64 | uint64](n T) float64 { return float64(n) / (1 << 20) }

func goal(met bool) string {
	if met {
		return "met"
	}
	return "NOT met"
}

// benchMailbox describes a generated mailbox as stored.
type benchMailbox struct {
	user       string
	n, reports int
	originals  map[string]bool // the Message-IDs the reports are about
	bytes      int64           // every message as stored, with CRLF line ends
	// reportBytes is the size of the reports, whole; fieldBytes that of
	// the report.LikelyFields lines of every message, with the Return-Path
	// that delivery adds and the blank line closing the fields.
	reportBytes, fieldBytes int64
	// lookalikes are the ordinary messages whose header report.Likely
	// cannot rule out, so a watcher fetches them whole; lookalikeBytes is
	// their size.
	lookalikes     int
	lookalikeBytes int64
	how            string        // how the messages were stored
	load           time.Duration // generating and storing them
}

// loadMailbox generates n messages, reports of them reports, and stores
// them in user's INBOX. By default it writes the Maildir itself, as
// Dovecot's delivery would leave it, and has Dovecot index it: over LMTP,
// Dovecot's lmtp process spends several milliseconds of CPU on each
// message, minutes for 20,000. MAILACK_BENCH_LOAD=lmtp delivers every
// message over one LMTP session instead.
func loadMailbox(b *testing.B, s *mailstack.Stack, user string, n, reports int, seed uint64) *benchMailbox {
	b.Helper()
	return loadMailboxOver(b, s, user, n, reports, seed, 0)
}

// loadMailboxOver is loadMailbox with the messages' arrival dates (their
// IMAP internal dates, the Maildir files' modification times) spread
// evenly over span before now, oldest first; 0 leaves them all at now.
func loadMailboxOver(b *testing.B, s *mailstack.Stack, user string, n, reports int, seed uint64, span time.Duration) *benchMailbox {
	b.Helper()
	g := newMailGen(seed, s.Address(user))
	mb := &benchMailbox{user: user, n: n, reports: reports, originals: map[string]bool{}}
	fields := map[string]bool{}
	for _, f := range report.LikelyFields {
		fields[strings.ToLower(f)] = true
	}
	isReport := make([]bool, n)
	for _, i := range g.rng.Perm(n)[:reports] {
		isReport[i] = true
	}
	var store func(i int, m genMessage, delivered []byte) error
	how := "written to the Maildir"
	if os.Getenv("MAILACK_BENCH_LOAD") == "lmtp" {
		how = "delivered over one LMTP session"
		c := dialLMTP(b, s.LMTPAddr())
		defer c.Close()
		store = func(_ int, m genMessage, _ []byte) error { return deliverOne(c, m.sender, s.Address(user), m.raw) }
	} else {
		write, now := maildirWriter(b, s, user), time.Now()
		store = func(i int, m genMessage, delivered []byte) error {
			var at time.Time
			if span > 0 {
				at = now.Add(-span / time.Duration(n) * time.Duration(n-1-i))
			}
			return write(i, delivered, at)
		}
	}
	start := time.Now()
	for i := range n {
		m := g.message(isReport[i])
		delivered := append(deliveryFields(m.sender, s.Address(user), g.date), m.raw...)
		if err := store(i, m, delivered); err != nil {
			b.Fatalf("store message %d of %d for %s: %v", i+1, n, user, err)
		}
		size := int64(len(delivered))
		mb.bytes += size
		fieldBytes := headerFieldBytes(delivered, fields)
		mb.fieldBytes += int64(fieldBytes + len("\r\n"))
		switch {
		case m.original != "":
			mb.reportBytes += size
			mb.originals[m.original] = true
		case report.Likely(delivered[:bytes.Index(delivered, []byte("\r\n\r\n"))+4]):
			mb.lookalikes++
			mb.lookalikeBytes += size
		}
	}
	// Dovecot indexes the new files on the first SELECT, as it would have
	// while delivering.
	c := s.Login(b, user)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		b.Fatalf("select INBOX of %s: %v", user, err)
	}
	if sel.NumMessages != uint32(n) {
		b.Fatalf("INBOX of %s holds %d messages, want %d", user, sel.NumMessages, n)
	}
	c.Close()
	mb.how, mb.load = how, time.Since(start)
	return mb
}

// deliveryFields are the fields Dovecot's delivery puts on top of a
// message.
func deliveryFields(sender, rcpt string, at time.Time) []byte {
	return fmt.Appendf(nil, "Return-Path: <%s>\r\nDelivered-To: %s\r\nReceived: from mx.test.example\r\n\tby mx.test.example with LMTP\r\n\tid %08x\r\n\t(envelope-from <%s>)\r\n\tfor <%s>; %s\r\n",
		sender, rcpt, at.UnixNano()&0xffffffff, sender, rcpt, at.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}

// maildirWriter returns a function that stores a delivered message in
// user's INBOX as Dovecot does, with its arrival date at (now when zero): one file per message with LF line ends,
// owned by the mail user, named with its stored and its CRLF size so that
// Dovecot need not read it to learn them. The names sort in delivery
// order, which is the order Dovecot gives out UIDs in.
func maildirWriter(b *testing.B, s *mailstack.Stack, user string) func(i int, delivered []byte, at time.Time) error {
	b.Helper()
	nobody, err := osuser.Lookup("nobody")
	if err != nil {
		b.Fatalf("look up user nobody: %v", err)
	}
	group := nobody.Gid
	if g, err := osuser.LookupGroup("nogroup"); err == nil {
		group = g.Gid
	}
	uid, err := strconv.Atoi(nobody.Uid)
	if err != nil {
		b.Fatalf("uid of nobody: %v", err)
	}
	gid, err := strconv.Atoi(group)
	if err != nil {
		b.Fatalf("gid of nogroup: %v", err)
	}
	home := filepath.Join(s.Dir(), "mail", user)
	dir := filepath.Join(home, "Maildir")
	for _, d := range []string{home, dir, filepath.Join(dir, "cur"), filepath.Join(dir, "new"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			b.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Now().Add(-48 * time.Hour).Unix()
	return func(i int, delivered []byte, at time.Time) error {
		stored := bytes.ReplaceAll(delivered, []byte("\r\n"), []byte("\n"))
		ts := base + int64(i)
		if !at.IsZero() {
			ts = at.Unix()
		}
		name := fmt.Sprintf("%d.M%dP%d.bench,S=%d,W=%d:2,", ts, i, os.Getpid(), len(stored), len(delivered))
		p := filepath.Join(dir, "cur", name)
		if err := os.WriteFile(p, stored, 0o600); err != nil {
			return err
		}
		if !at.IsZero() {
			// Dovecot takes a Maildir message's internal date from
			// the file's modification time, the name's from delivery.
			if err := os.Chtimes(p, at, at); err != nil {
				return err
			}
		}
		return os.Chown(p, uid, gid)
	}
}

func dialLMTP(b *testing.B, addr string) *smtp.Client {
	b.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		b.Fatalf("dial lmtp: %v", err)
	}
	c := smtp.NewClientLMTP(conn)
	c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 30*time.Second
	if err := c.Hello("loader.test.example"); err != nil {
		b.Fatalf("lhlo: %v", err)
	}
	return c
}

// deliverOne runs one LMTP transaction on c.
func deliverOne(c *smtp.Client, from, rcpt string, raw []byte) error {
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("write data: %w", err)
	}
	return w.Close()
}

// headerFieldBytes returns the size of the header lines of raw, with their
// continuation lines, whose field names (lower case) are in fields.
func headerFieldBytes(raw []byte, fields map[string]bool) int {
	n, keep := 0, false
	for len(raw) > 0 {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		if len(bytes.TrimRight(line, "\r")) == 0 {
			break
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := bytes.Cut(line, []byte(":"))
			keep = fields[strings.ToLower(string(name))]
		}
		if keep {
			n += len(line) + 1
		}
		raw = rest
	}
	return n
}

// catchUpFigures are what one watcher catch-up measured.
type catchUpFigures struct {
	wall                               time.Duration
	bytes                              int64
	withReports, examined, quarantined int
	heapBefore, peakAlloc, peakInuse   uint64
}

// measureCatchUp runs a watcher on the mailbox from an empty checkpoint
// until the checkpoint reaches its last message; search narrows its
// windows by SEARCH where the server allows.
func measureCatchUp(b *testing.B, s *mailstack.Stack, mb *benchMailbox, search bool) catchUpFigures {
	b.Helper()
	acct := account(s, mb.user)
	// Plaintext, as the naive client: both byte counts are IMAP alone.
	acct.TLS, acct.TLSConfig = TLSInsecure, nil
	sink := newBenchSink()
	heap := startHeapSampler()
	start := time.Now()
	w, stop := runBenchWatcherSearching(b, sink, acct, search)
	key := acct.Name + "/INBOX"
	done := sink.await(3*time.Minute, func() bool { return sink.cps[key].LastUID >= uint32(mb.n) })
	f := catchUpFigures{wall: time.Since(start), bytes: w.BytesRead()}
	stop()
	heap.stop()
	f.heapBefore, f.peakAlloc, f.peakInuse = heap.before, heap.peakAlloc, heap.peakInuse

	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !done {
		b.Fatalf("catch-up of %s: checkpoint at UID %d after 3 min, want %d", mb.user, sink.cps[key].LastUID, mb.n)
	}
	f.withReports, f.examined, f.quarantined = sink.withReports, sink.examined, sink.quarantined
	var missing []string
	for id := range mb.originals {
		if sink.byOriginal[id] == 0 {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	if f.withReports != mb.reports || len(missing) > 0 || f.quarantined > 0 {
		b.Fatalf("catch-up of %s: %d messages with reports (want %d), %d quarantined, %d reported originals missing (first: %v)",
			mb.user, f.withReports, mb.reports, f.quarantined, len(missing), missing[:min(len(missing), 5)])
	}
	return f
}

// measureBacklog has a watcher wait in IDLE on an empty folder of the
// mailbox's user, copies every message of the user's INBOX into it with
// one UID COPY, and measures until the checkpoint reaches the last copy.
func measureBacklog(b *testing.B, s *mailstack.Stack, mb *benchMailbox) catchUpFigures {
	b.Helper()
	folder := fmt.Sprintf("Backlog-%d", time.Now().UnixNano())
	c := s.Login(b, mb.user)
	defer c.Close()
	if err := c.Create(folder, nil).Wait(); err != nil {
		b.Fatalf("create %s: %v", folder, err)
	}
	acct := account(s, mb.user)
	acct.TLS, acct.TLSConfig = TLSInsecure, nil
	acct.ReportFolders = []string{folder}
	sink := newBenchSink()
	w, stop := runBenchWatcher(b, sink, acct)
	defer stop()
	// Once this receipt is applied, the watcher has read the folder and
	// waits for changes.
	probe := fmt.Sprintf("probe-%d@test.example", time.Now().UnixNano())
	raw := mailstack.MDN(probe, "bob@test.example", s.Address(mb.user), 1)
	app := c.Append(folder, int64(len(raw)), &imap.AppendOptions{})
	_, werr := app.Write([]byte(raw))
	cerr := app.Close()
	if _, err := app.Wait(); errors.Join(werr, cerr, err) != nil {
		b.Fatalf("append to %s: %v", folder, errors.Join(werr, cerr, err))
	}
	if !sink.await(20*time.Second, func() bool { return sink.byOriginal[probe] > 0 }) {
		b.Fatalf("backlog: the probe receipt in %s was not applied within 20 s", folder)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatalf("select INBOX: %v", err)
	}
	heap := startHeapSampler()
	read0, start := w.BytesRead(), time.Now()
	if _, err := c.Copy(imap.UIDSet{{Start: 1, Stop: 0}}, folder).Wait(); err != nil {
		b.Fatalf("copy INBOX to %s: %v", folder, err)
	}
	key := acct.Name + "/" + folder
	done := sink.await(3*time.Minute, func() bool { return sink.cps[key].LastUID >= uint32(mb.n+1) })
	f := catchUpFigures{wall: time.Since(start), bytes: w.BytesRead() - read0}
	heap.stop()
	f.heapBefore, f.peakAlloc, f.peakInuse = heap.before, heap.peakAlloc, heap.peakInuse
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !done || sink.withReports != mb.reports+1 || sink.quarantined > 0 {
		b.Fatalf("backlog: checkpoint at UID %d (want %d), %d messages with reports (want %d), %d quarantined",
			sink.cps[key].LastUID, mb.n+1, sink.withReports, mb.reports+1, sink.quarantined)
	}
	return f
}

// heapSampler records the largest heap seen while it runs.
type heapSampler struct {
	done                         chan struct{}
	wg                           sync.WaitGroup
	before, peakAlloc, peakInuse uint64 // written by the sampling goroutine until stop returns
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h := &heapSampler{done: make(chan struct{}), before: m.HeapAlloc}
	h.wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			h.peakAlloc, h.peakInuse = max(h.peakAlloc, m.HeapAlloc), max(h.peakInuse, m.HeapInuse)
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	})
	return h
}

func (h *heapSampler) stop() {
	close(h.done)
	h.wg.Wait()
}

// naiveFigures are what the naive client measured.
type naiveFigures struct {
	wall                  time.Duration
	bytes                 int64
	messages, withReports int
}

// naiveCatchUp reads the mailbox the simple way: one UID FETCH 1:*
// BODY.PEEK[] streamed message by message, each parsed whole.
func naiveCatchUp(b *testing.B, s *mailstack.Stack, mb *benchMailbox) naiveFigures {
	b.Helper()
	start := time.Now()
	conn, err := net.Dial("tcp", s.IMAPAddr())
	if err != nil {
		b.Fatalf("naive: dial: %v", err)
	}
	var read atomic.Int64
	c := imapclient.New(countingConn{Conn: conn, n: &read}, nil)
	defer c.Close()
	if err := c.Login(mb.user, s.Password(mb.user)).Wait(); err != nil {
		b.Fatalf("naive: login: %v", err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatalf("naive: select: %v", err)
	}
	var f naiveFigures
	cmd := c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			body, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok {
				continue
			}
			raw, err := io.ReadAll(body.Literal)
			if err != nil {
				b.Fatalf("naive: read message: %v", err)
			}
			f.messages++
			if rs, err := report.Parse(raw); err == nil && len(rs) > 0 && (rs[0].Kind == report.KindDSN || rs[0].Kind == report.KindMDN) {
				f.withReports++
			}
		}
	}
	if err := cmd.Close(); err != nil {
		b.Fatalf("naive: fetch: %v", err)
	}
	f.wall, f.bytes = time.Since(start), read.Load()
	if f.messages != mb.n {
		b.Fatalf("naive: read %d messages, want %d", f.messages, mb.n)
	}
	return f
}

// genMessage is one generated message.
type genMessage struct {
	sender   string // envelope sender; empty for reports, as MTAs and MDN senders use
	raw      []byte
	original string // for a report, the Message-ID it is about
}

// mailGen makes a reproducible mailbox: personal mail, newsletters, mail
// with attachments, a few receipts from shops (which look like reports
// until read), Postfix DSNs of all three actions (some returning the whole
// original, attachment included) and read receipts (some with the whole
// original).
type mailGen struct {
	rng   *rand.Rand
	owner string // the mailbox's address
	blob  []byte // random bytes attachments are cut from
	date  time.Time
	seq   int
}

func newMailGen(seed uint64, owner string) *mailGen {
	g := &mailGen{rng: rand.New(rand.NewPCG(seed, 0x6d61696c)), owner: owner, blob: make([]byte, 256<<10),
		date: time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("JST", 9*3600))}
	for i := range g.blob {
		g.blob[i] = byte(g.rng.Uint32())
	}
	return g
}

var (
	benchPeople = []string{"Hanako Sato", "Taro Suzuki", "Maria Garcia", "John Smith", "Wei Chen",
		"Anna Schmidt", "Olivia Brown", "Kenji Watanabe", "Fatima Khan", "Lucas Martin", "Yuki Tanaka", "Emma Wilson"}
	benchDomains  = []string{"example.com", "example.net", "example.org", "corp.example", "partner.example", "mail.example.jp"}
	benchSubjects = []string{"Quarterly figures", "Lunch on Friday?", "Contract draft v3", "Meeting notes",
		"Invoice 4711 for March", "Project Atlas: next steps", "Travel plans for the conference", "Budget review",
		"Slides for Tuesday", "Question about the API", "=?UTF-8?B?5Lya6K2w44Gu6K2w5LqL6Yyy?=", "Updated timeline",
		"Photos from the offsite", "=?ISO-2022-JP?B?GyRCOCtAUSRiJGokTjdvGyhC?=", "Hiring plan", "Draft agenda"}
	benchBrands = []string{"Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum"}
	benchWords  = strings.Fields(`we the team thanks for your message and will send a draft of the plan
		by next week please find attached figures from our meeting on monday as discussed let me know if
		this works for you also the budget for the project is still open so we should talk about it before
		the review our customer asked about the schedule again and i think we can agree on a date soon best
		regards from the office in tokyo where it is raining today the new release looks good to me`)
)

func (g *mailGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *mailGen) person() (name, addr string) {
	name = g.pick(benchPeople)
	return name, strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@" + g.pick(benchDomains)
}

func (g *mailGen) nextDate() string {
	g.date = g.date.Add(time.Duration(g.rng.IntN(600)) * time.Second)
	return g.date.Format("Mon, 02 Jan 2006 15:04:05 -0700")
}

func (g *mailGen) msgID(domain string) string {
	g.seq++
	return fmt.Sprintf("%016x.%d@%s", g.rng.Uint64(), g.seq, domain)
}

// b64 returns n random bytes in base64.
func (g *mailGen) b64(n int) string {
	off := g.rng.IntN(len(g.blob) - n)
	return base64.StdEncoding.EncodeToString(g.blob[off : off+n])
}

// text returns about size bytes of prose in lines of at most 72 characters.
func (g *mailGen) text(size int) string {
	var sb strings.Builder
	sb.Grow(size + 80)
	line := 0
	for sb.Len() < size {
		w := g.pick(benchWords)
		if line+len(w) > 72 {
			sb.WriteString("\r\n")
			line = 0
		}
		sb.WriteString(w + " ")
		line += len(w) + 1
	}
	sb.WriteString("\r\n")
	return sb.String()
}

// attachment returns a base64 body of about size bytes in 76-column lines.
func (g *mailGen) attachment(size int) string {
	enc := g.b64(size * 3 / 4)
	var sb strings.Builder
	sb.Grow(size + size/38 + 2)
	for len(enc) > 76 {
		sb.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	sb.WriteString(enc + "\r\n")
	return sb.String()
}

// trace returns the Received, DKIM and authentication fields a message
// picks up on its way from domain to rcpt.
func (g *mailGen) trace(domain, rcpt, date string) string {
	host := fmt.Sprintf("mail-%d.%s", g.rng.IntN(40), domain)
	sig := g.b64(256)
	return fmt.Sprintf("Received: from %s (%s [198.51.100.%d])\r\n\tby mx.test.example (Postfix) with ESMTPS id 4T%08X\r\n\tfor <%s>; %s\r\n",
		host, host, g.rng.IntN(250), g.rng.Uint32(), rcpt, date) +
		fmt.Sprintf("Received: by %s with SMTP id %x; %s\r\n", host, g.rng.Uint64(), date) +
		fmt.Sprintf("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=s2026;\r\n\th=from:to:subject:date:message-id:mime-version;\r\n\tbh=%s;\r\n\tb=%s\r\n\t%s\r\n",
			domain, g.b64(32), sig[:172], sig[172:]) +
		fmt.Sprintf("Authentication-Results: mx.test.example;\r\n\tdkim=pass header.d=%s; spf=pass smtp.mailfrom=%s; dmarc=pass\r\n", domain, domain)
}

// message returns the next message: a report or an ordinary one.
func (g *mailGen) message(isReport bool) genMessage {
	if isReport {
		return g.report()
	}
	switch r := g.rng.IntN(1000); {
	case r < 5:
		return g.shopReceipt()
	case r < 85:
		return g.withAttachment()
	case r < 285:
		return g.newsletter()
	default:
		return g.personal()
	}
}

// personal is a plain-text mail, a reply in a third of the cases.
func (g *mailGen) personal() genMessage {
	name, from := g.person()
	domain := from[strings.IndexByte(from, '@')+1:]
	date := g.nextDate()
	h := g.trace(domain, g.owner, date) + fmt.Sprintf("From: %s <%s>\r\nTo: Alice Example <%s>\r\n", name, from, g.owner)
	if g.rng.IntN(3) == 0 {
		cname, caddr := g.person()
		h += fmt.Sprintf("Cc: %s <%s>\r\n", cname, caddr)
	}
	subject := g.pick(benchSubjects)
	if g.rng.IntN(3) == 0 {
		subject = "Re: " + subject
		refs := make([]string, 1+g.rng.IntN(5))
		for i := range refs {
			refs[i] = "<" + g.msgID(g.pick(benchDomains)) + ">"
		}
		h += fmt.Sprintf("In-Reply-To: %s\r\nReferences: %s\r\n", refs[len(refs)-1], strings.Join(refs, "\r\n "))
	}
	h += fmt.Sprintf("Subject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", subject, date, g.msgID(domain)) +
		"Content-Type: text/plain; charset=\"UTF-8\"; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n"
	if g.rng.IntN(2) == 0 {
		h += "User-Agent: Mozilla Thunderbird\r\n"
	}
	return genMessage{sender: from, raw: []byte(h + "\r\n" + g.text(800+g.rng.IntN(5200)))}
}

// withAttachment is a short mail with a 50–200 KB attachment.
func (g *mailGen) withAttachment() genMessage {
	name, from := g.person()
	domain := from[strings.IndexByte(from, '@')+1:]
	date := g.nextDate()
	bnd := fmt.Sprintf("mixed-%016x", g.rng.Uint64())
	raw := g.trace(domain, g.owner, date) +
		fmt.Sprintf("From: %s <%s>\r\nTo: Alice Example <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
			name, from, g.owner, g.pick(benchSubjects), date, g.msgID(domain)) +
		fmt.Sprintf("Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd) +
		fmt.Sprintf("--%s\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n%s", bnd, g.text(300+g.rng.IntN(2000))) +
		fmt.Sprintf("--%s\r\nContent-Type: application/pdf; name=\"figures-%d.pdf\"\r\nContent-Disposition: attachment; filename=\"figures-%d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s",
			bnd, g.seq, g.seq, g.attachment(50<<10+g.rng.IntN(150<<10))) +
		fmt.Sprintf("--%s--\r\n", bnd)
	return genMessage{sender: from, raw: []byte(raw)}
}

// html is a multipart/alternative body of about size bytes of text twice,
// plain and in HTML.
func (g *mailGen) html(size int) (contentType, body string) {
	bnd := fmt.Sprintf("alt-%016x", g.rng.Uint64())
	txt := g.text(size / 2)
	markup := "<html><body><table width=\"600\"><tr><td><p>" + strings.ReplaceAll(txt, "\r\n", "</p>\r\n<p>") + "</p></td></tr></table></body></html>\r\n"
	return fmt.Sprintf("multipart/alternative; boundary=\"%s\"", bnd),
		fmt.Sprintf("--%s\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n%s--%s\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n%s--%s--\r\n",
			bnd, txt, bnd, markup, bnd)
}

// newsletter is bulk mail in HTML.
func (g *mailGen) newsletter() genMessage {
	brand := g.pick(benchBrands)
	domain := strings.ToLower(brand) + ".example"
	from := "news@" + domain
	date := g.nextDate()
	ct, body := g.html(8<<10 + g.rng.IntN(32<<10))
	raw := g.trace(domain, g.owner, date) +
		fmt.Sprintf("From: %s <%s>\r\nTo: %s\r\nSubject: %s: this week's picks for you\r\nDate: %s\r\nMessage-ID: <%s>\r\n",
			brand, from, g.owner, brand, date, g.msgID(domain)) +
		fmt.Sprintf("List-Unsubscribe: <https://%s/unsubscribe?u=%x>, <mailto:unsubscribe@%s>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nList-Id: <weekly.%s>\r\nPrecedence: bulk\r\n",
			domain, g.rng.Uint64(), domain, domain) +
		"MIME-Version: 1.0\r\nContent-Type: " + ct + "\r\n\r\n" + body
	return genMessage{sender: "bounces+" + strconv.Itoa(g.seq) + "@" + domain, raw: []byte(raw)}
}

// shopReceipt is ordinary mail whose subject says "receipt": the header
// alone cannot tell it from a read receipt.
func (g *mailGen) shopReceipt() genMessage {
	brand := g.pick(benchBrands)
	domain := strings.ToLower(brand) + ".example"
	date := g.nextDate()
	ct, body := g.html(4<<10 + g.rng.IntN(8<<10))
	raw := g.trace(domain, g.owner, date) +
		fmt.Sprintf("From: %s Store <orders@%s>\r\nTo: %s\r\nSubject: Your receipt from %s Store #%d\r\nDate: %s\r\nMessage-ID: <%s>\r\n",
			brand, domain, g.owner, brand, 100000+g.rng.IntN(900000), date, g.msgID(domain)) +
		"MIME-Version: 1.0\r\nContent-Type: " + ct + "\r\n\r\n" + body
	return genMessage{sender: "orders@" + domain, raw: []byte(raw)}
}

// sent is a mail from the owner, whose header or whole text a report
// returns. One in four carries an attachment.
func (g *mailGen) sent(id, rcpt, subject, date string, attach bool) (header, whole string) {
	header = fmt.Sprintf("Received: from [192.168.10.%d] (client.test.example [203.0.113.5])\r\n\tby mx.test.example (Postfix) with ESMTPSA id 4T%08X\r\n\tfor <%s>; %s\r\n",
		g.rng.IntN(250), g.rng.Uint32(), rcpt, date) +
		fmt.Sprintf("From: Alice Example <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nDisposition-Notification-To: %s\r\nMIME-Version: 1.0\r\n",
			g.owner, rcpt, subject, date, id, g.owner)
	if !attach {
		header += "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
		return header, header + "\r\n" + g.text(500+g.rng.IntN(3000))
	}
	bnd := fmt.Sprintf("sent-%016x", g.rng.Uint64())
	header += fmt.Sprintf("Content-Type: multipart/mixed; boundary=\"%s\"\r\n", bnd)
	return header, header + "\r\n" + fmt.Sprintf("--%s\r\nContent-Type: text/plain\r\n\r\n%s--%s\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--%s--\r\n",
		bnd, g.text(500+g.rng.IntN(1500)), bnd, g.attachment(50<<10+g.rng.IntN(150<<10)), bnd)
}

// report is a DSN or an MDN about a mail the owner sent.
func (g *mailGen) report() genMessage {
	_, rcpt := g.person()
	rdomain := rcpt[strings.IndexByte(rcpt, '@')+1:]
	sentDate := g.nextDate()
	id := g.msgID("test.example")
	subject := g.pick(benchSubjects)
	switch r := g.rng.IntN(100); {
	case r < 35:
		return g.dsn(id, rcpt, subject, sentDate, "failed", false)
	case r < 45:
		return g.dsn(id, rcpt, subject, sentDate, "delayed", false)
	case r < 55:
		return g.dsn(id, rcpt, subject, sentDate, "delivered", false)
	case r < 65:
		return g.dsn(id, rcpt, subject, sentDate, "failed", true)
	default:
		return g.mdn(id, rcpt, rdomain, subject, sentDate, r >= 95)
	}
}

// dsn is a Postfix delivery status notification; full returns the whole
// original (RET=FULL), attachment included half of the time.
func (g *mailGen) dsn(id, rcpt, subject, sentDate, action string, full bool) genMessage {
	date := g.nextDate()
	status, diag, title, text := "5.1.1", "smtp; 550 5.1.1 <"+rcpt+">: Recipient address rejected: User unknown in virtual mailbox table",
		"Undelivered Mail Returned to Sender", "I'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients. It's attached below."
	switch action {
	case "delayed":
		status, diag, title, text = "4.4.1", "X-Postfix; connect to mx."+rcpt[strings.IndexByte(rcpt, '@')+1:]+"[192.0.2.7]:25: Connection timed out",
			"Delayed Mail (still being retried)", "Your message could not be delivered for 4.0 hours.\r\nIt will be retried until it is 5.0 days old."
	case "delivered":
		status, diag, title, text = "2.0.0", "smtp; 250 2.0.0 Ok: queued as 4T9XQ2",
			"Successful Mail Delivery Report", "Your message was successfully delivered to the destination(s)\r\nlisted below."
	}
	header, whole := g.sent(id, rcpt, subject, sentDate, full && g.rng.IntN(2) == 0)
	part3 := "Content-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n" + header
	if full {
		part3 = "Content-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n" + whole
	}
	bnd := fmt.Sprintf("%08X.%d/mx.test.example", g.rng.Uint32(), g.seq)
	raw := g.trace("test.example", g.owner, date) +
		fmt.Sprintf("From: MAILER-DAEMON@mx.test.example (Mail Delivery System)\r\nSubject: %s\r\nTo: %s\r\nAuto-Submitted: auto-replied\r\n", title, g.owner) +
		fmt.Sprintf("MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\nContent-Transfer-Encoding: 8bit\r\nMessage-Id: <%s>\r\nDate: %s\r\n\r\n", bnd, g.msgID("mx.test.example"), date) +
		fmt.Sprintf("This is a MIME-encapsulated message.\r\n\r\n--%s\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThis is the mail system at host mx.test.example.\r\n\r\n%s\r\n\r\n                   The mail system\r\n\r\n<%s>: %s\r\n\r\n", bnd, text, rcpt, diag) +
		fmt.Sprintf("--%s\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test.example\r\nX-Postfix-Queue-ID: 4T%08X\r\nX-Postfix-Sender: rfc822; %s\r\nArrival-Date: %s\r\n\r\n",
			bnd, g.rng.Uint32(), g.owner, sentDate) +
		fmt.Sprintf("Final-Recipient: rfc822; %s\r\nOriginal-Recipient: rfc822;%s\r\nAction: %s\r\nStatus: %s\r\nRemote-MTA: dns; mx.%s\r\nDiagnostic-Code: %s\r\n\r\n",
			rcpt, rcpt, action, status, rcpt[strings.IndexByte(rcpt, '@')+1:], diag) +
		fmt.Sprintf("--%s\r\n%s\r\n--%s--\r\n", bnd, part3, bnd)
	return genMessage{raw: []byte(raw), original: id}
}

// mdn is a read receipt; full returns the whole original, attachment
// included, as Outlook can.
func (g *mailGen) mdn(id, rcpt, rdomain, subject, sentDate string, full bool) genMessage {
	date := g.nextDate()
	header, whole := g.sent(id, rcpt, subject, sentDate, full)
	part3 := "Content-Type: text/rfc822-headers\r\n\r\n" + header
	if full {
		part3 = "Content-Type: message/rfc822\r\n\r\n" + whole
	}
	bnd := fmt.Sprintf("mdn-%016x", g.rng.Uint64())
	raw := g.trace(rdomain, g.owner, date) +
		fmt.Sprintf("From: <%s>\r\nTo: Alice Example <%s>\r\nSubject: Read: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", rcpt, g.owner, subject, date, g.msgID(rdomain)) +
		fmt.Sprintf("Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary=\"%s\"\r\n\r\n", bnd) +
		fmt.Sprintf("--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nThis is a Return Receipt for the mail that you sent to %s.\r\n\r\nNote: This Return Receipt only acknowledges that the message was displayed\r\non the recipient's computer.\r\n\r\n", bnd, rcpt) +
		fmt.Sprintf("--%s\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: %s; Mozilla Thunderbird\r\nFinal-Recipient: rfc822;%s\r\nOriginal-Message-ID: <%s>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n\r\n",
			bnd, rdomain, rcpt, id) +
		fmt.Sprintf("--%s\r\n%s\r\n--%s--\r\n", bnd, part3, bnd)
	return genMessage{raw: []byte(raw), original: id}
}

// TestCatchUpWindowWhileConnected checks that a backlog arriving while the
// watcher is connected is read window by window, as one found at connect
// time is: no header fetch covers more than catchUpWindow UIDs, and the
// checkpoint advances after each window. 3,000 messages are copied with
// one UID COPY into a folder the watcher waits on in IDLE.
// A single open-ended fetch of such a backlog would hold it all in memory
// and checkpoint nothing until the end.
func TestCatchUpWindowWhileConnected(t *testing.T) {
	const n = 3 * catchUpWindow
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	for _, folder := range []string{"Archive", "Watched"} {
		if err := c.Create(folder, nil).Wait(); err != nil {
			t.Fatalf("create %s: %v", folder, err)
		}
	}
	for i := range n {
		mailstack.Append(t, c, "Archive", fmt.Sprintf("From: carol@test.example\r\nTo: alice@test.example\r\nSubject: note %d\r\nMessage-ID: <note%d@test.example>\r\n\r\nhi\r\n", i, i))
	}
	acct := account(s, "alice")
	acct.ReportFolders = []string{"Watched"}
	sink := newBenchSink()
	_, stop := runBenchWatcher(t, sink, acct)
	defer stop()
	mailstack.Append(t, c, "Watched", mailstack.MDN("probe@test.example", "bob@test.example", "alice@test.example", 1))
	if !sink.await(10*time.Second, func() bool { return sink.byOriginal["probe@test.example"] > 0 }) {
		t.Fatal("the probe receipt was not applied within 10 s")
	}
	if _, err := c.Select("Archive", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(imap.UIDSet{{Start: 1, Stop: 0}}, "Watched").Wait(); err != nil {
		t.Fatalf("copy: %v", err)
	}
	if !sink.await(30*time.Second, func() bool { return sink.cps["alice/Watched"].LastUID >= n+1 }) {
		t.Fatalf("checkpoint of Watched did not reach UID %d within 30 s", n+1)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	steps := sink.steps["alice/Watched"]
	for i := 1; i < len(steps); i++ {
		if jump := steps[i] - steps[i-1]; jump > catchUpWindow {
			t.Errorf("checkpoint of Watched went from UID %d to %d in one step, want at most %d UIDs a window (checkpoints %v)",
				steps[i-1], steps[i], catchUpWindow, steps)
		}
	}
}
