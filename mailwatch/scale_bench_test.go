package mailwatch

// Organisation-scale benchmarks: many mailboxes on one watcher, a server
// restart under them, and a first start on a large mailbox. Like the
// others they print figures and check only that nothing is lost:
//
//	go test ./mailwatch -run '^$' -bench 'Mailboxes|FirstStart' -benchtime 1x -v
//
// MAILACK_BENCH_MAILBOXES sets how many mailboxes BenchmarkMailboxes
// watches (default 200), MAILACK_BENCH_IDLE how long it measures the idle
// CPU (default 20s), MAILACK_BENCH_MESSAGES the size of the mailbox
// BenchmarkFirstStart reads (default 20000).

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

// envInt reads a positive number from the environment, or def.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 20s", name, v)
	}
	return d
}

// raiseFileLimit raises the process's RLIMIT_NOFILE to at least n (soft
// and hard), as LimitNOFILE does for the service. Child processes, Dovecot
// among them, inherit the raised limit.
func raiseFileLimit(b *testing.B, n uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur >= n {
		return lim.Cur
	}
	if lim.Max < n {
		lim.Max = n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Fatalf("raise the file limit to %d: %v (raise ulimit -Hn, or run with CAP_SYS_RESOURCE)", n, err)
		}
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatalf("raise the file limit to %d: %v", n, err)
	}
	return n
}

// procStatus returns a field of /proc/self/status in bytes (VmRSS,
// VmHWM).
func procStatus(field string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux 4.0 and later).
func resetPeakRSS() {
	// Without it the peak includes whatever ran before; the figure says
	// so by being larger, so the error is not fatal.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settledRSS returns the RSS after a full collection has returned freed
// memory to the system.
func settledRSS() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatus("VmRSS")
}

// imapConnections counts this host's established TCP connections to
// port, from /proc/net/tcp.
func imapConnections(port string) int {
	p, err := strconv.Atoi(port)
	if err != nil {
		return -1
	}
	want := fmt.Sprintf(":%04X", p)
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return -1
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		// sl local_address rem_address st ...; 01 is ESTABLISHED.
		if len(fs) > 3 && strings.HasSuffix(fs[2], want) && fs[3] == "01" {
			n++
		}
	}
	return n
}

// dovecotMemory sums the RSS of the processes whose command name starts
// with prefix ("imap" counts imap and imap-login) and counts them.
func dovecotMemory(prefix string) (procs int, rss uint64) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil || !strings.HasPrefix(string(comm), prefix) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				procs++
				rss += kb << 10
			}
		}
	}
	return procs, rss
}

// loginRate samples a login counter and reports the highest count in any
// one-second window.
type loginRate struct {
	stopc chan struct{}
	done  chan struct{}
	peak  int64
}

func sampleLogins(count func() int64) *loginRate {
	r := &loginRate{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		const step = 50 * time.Millisecond
		var window []int64 // the counter at each step of the last second
		t := time.NewTicker(step)
		defer t.Stop()
		for {
			n := count()
			window = append(window, n)
			if len(window) > int(time.Second/step)+1 {
				window = window[1:]
			}
			r.peak = max(r.peak, n-window[0])
			select {
			case <-r.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

func (r *loginRate) stop() int64 {
	close(r.stopc)
	<-r.done
	return r.peak
}

// waitWatching waits until the watcher has n folders connected and caught
// up, or fails the benchmark after timeout.
func waitWatching(b *testing.B, w *Watcher, n int, timeout time.Duration) time.Duration {
	start := time.Now()
	for w.Watching() < n {
		if time.Since(start) > timeout {
			b.Fatalf("%d of %d folders watching after %v", w.Watching(), n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// BenchmarkMailboxes watches N Dovecot mailboxes (Inbox and Sent Items
// each) with one watcher and prints what they cost once all are watched
// and nothing arrives: resident memory and goroutines per mailbox,
// connections per mailbox and CPU per idle minute, measured over a shorter
// window and scaled. Then it restarts Dovecot under them, with reports
// delivered before the restart, while Dovecot is down (Postfix holds
// them) and during the reconnects, and prints the time until every folder
// is watching again and the peak logins per second; a report lost or
// applied twice fails the benchmark.
//
// Connections are plaintext on loopback, so the figures leave out TLS.
func BenchmarkMailboxes(b *testing.B) {
	n := envInt(b, "MAILACK_BENCH_MAILBOXES", 200)
	idle := envDuration(b, "MAILACK_BENCH_IDLE", 20*time.Second)
	limit := raiseFileLimit(b, uint64(2*n+1024))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%05d", i)
	}
	s := mailstack.Start(b, mailstack.WithUsers(names...), mailstack.WithIMAPClients(2*n+100))
	_, port, _ := strings.Cut(s.IMAPAddr(), ":")
	for b.Loop() {
		accts := make([]Account, n)
		for i, u := range names {
			accts[i] = Account{Name: u, Addr: s.IMAPAddr(), TLS: TLSInsecure, Username: u, Password: s.Password(u), Owner: s.Address(u)}
		}
		sink := newBenchSink()
		log := slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
		w, err := New(accts, Options{Sink: sink, Logger: log, DontRecover: true})
		if err != nil {
			b.Fatal(err)
		}
		rss0, g0 := settledRSS(), runtime.NumGoroutine()
		conns0 := imapConnections(port)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { w.Run(ctx) })

		rate := sampleLogins(w.Logins)
		startup := waitWatching(b, w, 2*n, envDuration(b, "MAILACK_BENCH_WAIT", 10*time.Minute))
		startPeak := rate.stop()
		rss1, g1 := settledRSS(), runtime.NumGoroutine()
		conns := imapConnections(port) - conns0
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		cpu0 := cpuTime()
		time.Sleep(idle) // the measurement: nothing arrives meanwhile
		cpuIdle := cpuTime() - cpu0
		imapProcs, imapRSS := dovecotMemory("imap")

		b.Logf("%d mailboxes (Inbox and Sent Items each), plaintext IMAP on loopback, file limit %d; all %d folders watching %.1f s after the start, peak %d logins/s (cap %d at once)",
			n, limit, 2*n, startup.Seconds(), startPeak, DefaultMaxConcurrentLogins)
		b.Logf("per mailbox: %.1f KiB RSS (%.1f MiB for all, process %.1f MiB), %.1f KiB Go heap in use, %.2f goroutines, %.2f connections",
			float64(rss1-rss0)/1024/float64(n), mib(rss1-rss0), mib(rss1), float64(ms.HeapInuse)/1024/float64(n), float64(g1-g0)/float64(n), float64(conns)/float64(n))
		perMin := time.Duration(float64(cpuIdle) * float64(time.Minute) / float64(idle))
		b.Logf("idle: %.3f CPU-s per idle minute for all (%.2f ms per mailbox), measured over %v and scaled; IDLE is re-issued every 10 min, not within the window",
			perMin.Seconds(), ms1(perMin)/float64(n), idle)
		b.Logf("at 5,000 mailboxes that is about %.0f MiB RSS (goal < 2,048 MiB); Dovecot side: %d imap processes, %.0f MiB RSS", mib(rss0)+mib(rss1-rss0)*5000/float64(n), imapProcs, mib(imapRSS))
		b.ReportMetric(float64(rss1-rss0)/1024/float64(n), "KiB/mailbox")
		b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/mailbox")
		b.ReportMetric(float64(conns)/float64(n), "conns/mailbox")
		b.ReportMetric(perMin.Seconds(), "cpu-s/idle-min")

		storm(b, s, w, sink, names)
		cancel()
		wg.Wait()
	}
}

func ms1(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// storm restarts Dovecot under the running watcher and checks that every
// report delivered around the restart is applied exactly once.
func storm(b *testing.B, s *mailstack.Stack, w *Watcher, sink *benchSink, names []string) {
	m := min(len(names), 200) // mailboxes that get a report in each phase
	deliver := func(phase string, viaSMTP bool) {
		for i := range m {
			u := names[i*len(names)/m]
			raw := []byte(mailstack.MDN(phase+"-"+u+"@test.example", "bob@partner.example", s.Address(u), 1))
			if viaSMTP {
				s.Send(b, "", []string{s.Address(u)}, raw, mailstack.SendOptions{})
			} else {
				s.DeliverLMTP(b, s.Address(u), raw)
			}
		}
	}
	applied := func(phase string) func() bool {
		return func() bool {
			for i := range m {
				if sink.byOriginal[phase+"-"+names[i*len(names)/m]+"@test.example"] == 0 {
					return false
				}
			}
			return true
		}
	}
	deliver("before", false)
	if !sink.await(2*time.Minute, applied("before")) {
		b.Fatalf("the %d reports delivered before the restart were not all applied within 2 min", m)
	}
	n := 2 * len(names)
	logins0 := w.Logins()
	rate := sampleLogins(w.Logins)
	start := time.Now()
	s.StopDovecot(b)
	deliver("down", true)
	s.StartDovecot(b)
	up := time.Now()
	deliver("after", false)
	// Every session ended with the restart; wait until all are back.
	for w.Watching() >= n && time.Since(start) < time.Minute {
		time.Sleep(10 * time.Millisecond)
	}
	waitWatching(b, w, n, 10*time.Minute)
	resumed := time.Now()
	peak := rate.stop()
	for _, phase := range []string{"down", "after"} {
		if !sink.await(2*time.Minute, applied(phase)) {
			b.Fatalf("reports delivered %s the restart not all applied within 2 min of all folders resuming", phase)
		}
	}
	sink.mu.Lock()
	var twice []string
	for id, k := range sink.byOriginal {
		if k != 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", id, k))
		}
	}
	sink.mu.Unlock()
	slices.Sort(twice)
	if len(twice) > 0 {
		b.Fatalf("reports applied more than once: %v", twice)
	}
	b.Logf("restart: Dovecot down for %.2f s; all %d folders watching again %.2f s after the stop (%.2f s after Dovecot was back), %d logins (%.2f a folder), peak %d logins/s; %d reports delivered before, while down (held by Postfix) and during the reconnects each: every one applied exactly once",
		up.Sub(start).Seconds(), n, resumed.Sub(start).Seconds(), resumed.Sub(up).Seconds(), w.Logins()-logins0, float64(w.Logins()-logins0)/float64(n), peak, m)
	b.ReportMetric(resumed.Sub(start).Seconds(), "resume-s")
	b.ReportMetric(float64(peak), "peak-logins/s")
}

// BenchmarkFirstStart reads a large mailbox from scratch (default 20,000
// messages, one in 250 a report; MAILACK_BENCH_MESSAGES=100000 gives
// about 1.7 GB) whose arrival dates span ten years, once whole and once
// with since 30 days, and prints the time, the bytes received against the
// bytes needed and the peak RSS, with the windows narrowed by SEARCH and,
// to compare, without (also on a copy of the mailbox never read, for the
// time of a first read). A report missed fails it.
func BenchmarkFirstStart(b *testing.B) {
	n := envInt(b, "MAILACK_BENCH_MESSAGES", 20000)
	s := mailstack.Start(b)
	const span = 10 * 365 * 24 * time.Hour
	mb := loadMailboxOver(b, s, "alice", n, max(n/250, 1), 3, span)
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		whole := measureCatchUp(b, s, mb, true)
		peakWhole := procStatus("VmHWM")

		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		fetchAll := measureCatchUp(b, s, mb, false)
		peakFetchAll := procStatus("VmHWM")
		warm := measureCatchUp(b, s, mb, true)

		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		acct := account(s, mb.user)
		acct.TLS, acct.TLSConfig = TLSInsecure, nil
		acct.Since = 30 * 24 * time.Hour
		sink := newBenchSink()
		start := time.Now()
		w, stop := runBenchWatcher(b, sink, acct)
		if !sink.await(3*time.Minute, func() bool { return sink.cps[acct.Name+"/INBOX"].LastUID >= uint32(mb.n) }) {
			b.Fatalf("since 30d: checkpoint not at UID %d within 3 min", mb.n)
		}
		recent, recentBytes := time.Since(start), w.BytesRead()
		stop()
		peakRecent := procStatus("VmHWM")

		need := mb.reportBytes + mb.fieldBytes
		strict := mb.reportBytes
		b.Logf("first start on %d messages (%.0f MiB, %d reports; arrival dates over 10 years; %s in %.0f s), candidates found by SEARCH: %.1f s, %.1f MiB received for %.1f MiB needed (reports whole and the examined header fields of every message, as before) = %.2fx (goal <= 1.3x: %s), %.2fx the %.1f MiB of reports alone; peak RSS %.0f MiB (goal: under 60 s: %s)",
			mb.n, mib(mb.bytes), mb.reports, mb.how, mb.load.Seconds(), whole.wall.Seconds(), mib(whole.bytes), mib(need), float64(whole.bytes)/float64(need),
			goal(float64(whole.bytes) <= 1.3*float64(need)), float64(whole.bytes)/float64(strict), mib(strict), mib(peakWhole), goal(whole.wall < time.Minute))
		b.Logf("  of which: %.1f MiB for the %d ordinary messages whose header report.Likely cannot rule out (fetched whole), %.1f MiB for the rest: the candidates' header fields and framing, the SEARCH answers",
			mib(mb.lookalikeBytes), mb.lookalikes, mib(whole.bytes-strict-mb.lookalikeBytes))
		rest := fetchAll.bytes - need - mb.lookalikeBytes
		b.Logf("the same, header fields of every message fetched (no SEARCH, as before): %.1f s, %.1f MiB received = %.2fx the bytes needed, %.2fx the reports alone; peak RSS %.0f MiB; beyond the bytes needed %.1f MiB of IMAP framing (%.0f bytes a message: every FETCH response repeats the UID, the size and the list of header fields asked for)",
			fetchAll.wall.Seconds(), mib(fetchAll.bytes), float64(fetchAll.bytes)/float64(need), float64(fetchAll.bytes)/float64(strict), mib(peakFetchAll), mib(rest), float64(rest)/float64(mb.n))
		b.Logf("read again, the files in the page cache and the fields in Dovecot's cache: %.1f s with SEARCH (%.1f MiB), %.1f s without (above)",
			warm.wall.Seconds(), mib(warm.bytes), fetchAll.wall.Seconds())
		b.Logf("with since 30d: %.2f s, %.2f MiB received, %d reports applied, peak RSS %.0f MiB; timings at %s",
			recent.Seconds(), mib(recentBytes), sink.withReports, mib(peakRecent), machineLoad())
		// The same mailbox again for another user, read first without
		// SEARCH: Dovecot's first reading of a folder (its cache file
		// built as the header fields are asked for) is most of the time
		// of a first start, so each way is timed on a folder never read.
		other := loadMailboxOver(b, s, "bob", n, max(n/250, 1), 3, span)
		coldFetch := measureCatchUp(b, s, other, false)
		b.Logf("the same messages for another user, first read without SEARCH: %.1f s, %.1f MiB received (%.2fx); with SEARCH above: %.1f s; timings at %s",
			coldFetch.wall.Seconds(), mib(coldFetch.bytes), float64(coldFetch.bytes)/float64(need), whole.wall.Seconds(), machineLoad())
		b.ReportMetric(whole.wall.Seconds(), "first-start-s")
		b.ReportMetric(coldFetch.wall.Seconds(), "no-search-first-start-s")
		b.ReportMetric(float64(whole.bytes)/float64(need), "bytes/needed")
		b.ReportMetric(float64(fetchAll.bytes)/float64(need), "no-search-bytes/needed")
		b.ReportMetric(fetchAll.wall.Seconds(), "no-search-s")
		b.ReportMetric(mib(peakWhole), "peak-RSS-MiB")
		b.ReportMetric(recent.Seconds(), "since30d-s")
	}
}
