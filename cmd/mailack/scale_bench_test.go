package main

// End-to-end benchmarks at organisation scale, against Dovecot and
// Postfix on loopback. They print figures and fail only when a report is
// lost:
//
//	go test ./cmd/mailack -run '^$' -bench . -benchtime 1x -v
//
// MAILACK_BENCH_MAILBOXES (default 100), MAILACK_BENCH_REPORTS (default
// 20) and MAILACK_BENCH_GAP_MS size BenchmarkReportToCard; MAILACK_BENCH_TRACKED (default 20000)
// and MAILACK_BENCH_REPORTS size BenchmarkStoreUnderLoad.

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func benchEnv(b *testing.B, name string, def int) int {
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

func pct(sorted []time.Duration, p float64) time.Duration {
	return sorted[max(int(math.Ceil(p*float64(len(sorted))))-1, 0)]
}

// BenchmarkReportToCard runs the built daemon on N mailboxes with Slack
// on (the fake Web API the full-stack tests use, with Slack's rate
// limits), registers the sent mails from Sent and waits until the card of
// every one of them is posted: the mails are dated a week back, so the
// deadline sweep finds each unanswered and posts its card. Only then, with
// the outbox empty, it delivers one read receipt for each mail to Dovecot
// over LMTP, round-robin over the mailboxes, one every
// MAILACK_BENCH_GAP_MS (default 6,000 ms), and prints the time from the
// delivery returning until the card's update showing the receipt, with
// where that time went: until the store applied the receipt (the daemon's
// "message applied" log line), then until Slack had the update, and of
// that how long the update waited for its turn within Slack's limits (the
// bot's "slack call waited for its turn" lines) and how many calls Slack
// refused with 429. The bot paces each Web API method within Slack's
// documented limit (chat.update at Tier 3, 50 a minute), so receipts
// closer together than that queue in the outbox.
func BenchmarkReportToCard(b *testing.B) {
	n := benchEnv(b, "MAILACK_BENCH_MAILBOXES", 100)
	total := benchEnv(b, "MAILACK_BENCH_REPORTS", 20)
	gap := time.Millisecond * time.Duration(benchEnv(b, "MAILACK_BENCH_GAP_MS", 6000))
	perBox := (total + n - 1) / n
	users := make([]string, n)
	var members []slackfake.User
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i)
		members = append(members, slackfake.User{ID: fmt.Sprintf("U%03d", i), Name: users[i], Email: users[i] + "@test.example", Locale: "en-US", TZ: "UTC"})
	}
	s := mailstack.Start(b, mailstack.WithUsers(users...), mailstack.WithIMAPClients(2*n+100))
	bin := buildBinary(b)
	dir := b.TempDir()
	fake := slackfake.New(members...)
	api := fake.Serve(b)
	host, port, _ := strings.Cut(s.IMAPAddr(), ":")
	var cfg strings.Builder
	// Debug level: the breakdown reads the "message applied" and "slack
	// call waited for its turn" lines.
	fmt.Fprintf(&cfg, "log:\n  level: debug\nstore:\n  path: %s\nhttp:\n  listen: 127.0.0.1:0\n  admin_token: ${"+testTokenEnv+"}\nslack:\n  enabled: true\n  mode: http\n  bot_token: ${SLACK_BOT_TOKEN}\n  signing_secret: ${SLACK_SIGNING_SECRET}\n  api_url: %s/\naccounts:\n",
		filepath.Join(dir, "mailack.db"), api.URL)
	for _, u := range users {
		fmt.Fprintf(&cfg, "  - name: %s\n    host: %s\n    port: %s\n    tls: insecure\n    username: %s\n    owner: %s@test.example\n    password: ${MAILACK_TEST_PASSWORD}\n", u, host, port, u, u)
	}
	cfgPath := filepath.Join(dir, "mailack.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	p := startDaemon(b, bin, cfgPath, []string{"MAILACK_TEST_PASSWORD=" + s.Password(users[0]), "SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5"})
	defer p.stop(b)
	subject := func(i, k int) string { return fmt.Sprintf("Order %03d-%02d", i, k) }
	for b.Loop() {
		for i, u := range users {
			c := s.Login(b, u)
			for k := range perBox {
				id := fmt.Sprintf("order-%03d-%02d@test.example", i, k)
				mailstack.Append(b, c, "Sent Items", fmt.Sprintf("From: %s@test.example\r\nTo: buyer@partner.example\r\nSubject: %s\r\n"+
					"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\nMessage-ID: <%s>\r\nDisposition-Notification-To: %s@test.example\r\n\r\nPlease confirm.\r\n", u, subject(i, k), id, u))
			}
			c.Close()
		}
		waitFor(b, "every sent mail registered", 5*time.Minute, func() bool { return p.metric("mailack_mails_registered_total") >= float64(n*perBox) })
		setup := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		_, err := fake.Await(ctx, everyCard(n*perBox))
		cancel()
		if err != nil {
			b.Fatalf("the cards of %d mails not all posted within 15 min: %d posted", n*perBox, len(fake.All(isCard)))
		}
		waitFor(b, "an empty outbox", 10*time.Minute, func() bool { return p.metric("mailack_outbox_depth") == 0 })
		b.Logf("the cards of all %d mails posted %.1f s after their registration", n*perBox, time.Since(setup).Seconds())

		phase := time.Now()
		sent := make([]time.Time, total)
		tick := time.NewTicker(gap)
		for j := range total {
			i, k := j%n, j/n
			id := fmt.Sprintf("order-%03d-%02d@test.example", i, k)
			s.DeliverLMTP(b, users[i], []byte(mailstack.MDN(id, "buyer@partner.example", users[i]+"@test.example", 1)))
			sent[j] = time.Now()
			<-tick.C
		}
		tick.Stop()
		// A card not updated by then is still in the outbox, not lost; it
		// counts as slower than the wait.
		const patience = 3 * time.Minute
		deadline := time.Now().Add(patience)
		cards := make([]slackfake.Call, total)
		for j := range total {
			i, k := j%n, j/n
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			card, err := fake.Await(ctx, slackfake.Method("*", subject(i, k), "*buyer@partner.example* — read"))
			cancel()
			if err == nil {
				cards[j] = card
			}
		}
		bd := breakdown(p.log(), fake, phase, users, sent, cards)
		show := func(d time.Duration) string {
			if d == math.MaxInt64 {
				return "> " + patience.String() + " after the last delivery"
			}
			return fmt.Sprintf("%.0f ms", msf(d))
		}
		lat := bd.total
		b.Logf("report to card: %d read receipts over %d mailboxes, one every %v, from the LMTP delivery returning until Slack has the card showing it: p50 %s, p99 %s, max %s; %d cards not yet updated %v after the last delivery (still in the outbox); goal p99 < 1,500 ms: %s",
			total, n, gap, show(pct(lat, .5)), show(pct(lat, .99)), show(lat[len(lat)-1]), bd.late, patience, goalMet(pct(lat, .99) < 1500*time.Millisecond))
		b.Logf("  delivery to the store applying it (Dovecot's IDLE notice, fetch, parse, store): p50 %s, p99 %s, max %s",
			show(pct(bd.applied, .5)), show(pct(bd.applied, .99)), show(bd.applied[len(bd.applied)-1]))
		b.Logf("  store applying it to Slack having the card: p50 %s, p99 %s, max %s; of that, chat.update waiting for its turn: p50 %s, p99 %s, max %s",
			show(pct(bd.toSlack, .5)), show(pct(bd.toSlack, .99)), show(bd.toSlack[len(bd.toSlack)-1]), show(pct(bd.paced, .5)), show(pct(bd.paced, .99)), show(bd.paced[len(bd.paced)-1]))
		for _, line := range bd.calls {
			b.Logf("  %s", line)
		}
		b.ReportMetric(msf(pct(lat, .5)), "p50-ms")
		b.ReportMetric(msf(pct(lat, .99)), "p99-ms")
	}
}

// isCard matches a status card posted: a top-level message in a DM.
func isCard(c slackfake.Call) bool {
	return c.Method == "chat.postMessage" && c.OK() && c.Param("thread_ts") == "" && strings.HasPrefix(c.Param("channel"), "D")
}

var orderSubject = regexp.MustCompile(`Order \d{3}-\d{2}`)

// everyCard matches, for fake.Await, the call that brings the number of
// mails with a card posted to want.
func everyCard(want int) func(slackfake.Call) bool {
	seen := map[string]bool{}
	return func(c slackfake.Call) bool {
		if isCard(c) {
			if m := orderSubject.FindString(c.Text()); m != "" {
				seen[m] = true
			}
		}
		return len(seen) >= want
	}
}

// cardBreakdown is where the time from each delivery to its card went,
// every list sorted; a card not updated counts as math.MaxInt64.
type cardBreakdown struct {
	total, applied, toSlack, paced []time.Duration
	late                           int
	calls                          []string // per method: calls, waits, 429s
}

var (
	inboxAppliedLine = regexp.MustCompile(`^time=(\S+) .*msg="message applied" .*account=(\S+) folder=INBOX uid=(\d+) `)
	waitedLine       = regexp.MustCompile(`^time=(\S+) .*msg="slack call waited for its turn" .*method=(\S+) channel=(\S*) paused_ms=(\d+) paced_ms=(\d+)`)
)

// breakdown reads the daemon's log and the fake's calls since phase:
// receipt j went to users[j%len(users)] as its INBOX's UID j/len(users)+1,
// was delivered at sent[j] and shown by cards[j] (zero if not yet).
func breakdown(log string, fake *slackfake.Server, phase time.Time, users []string, sent []time.Time, cards []slackfake.Call) cardBreakdown {
	type wait struct {
		at      time.Time
		method  string
		channel string
		d       time.Duration
	}
	appliedAt := map[string]time.Time{}
	var waits []wait
	for line := range strings.Lines(log) {
		if m := inboxAppliedLine.FindStringSubmatch(line); m != nil {
			if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				appliedAt[m[2]+" "+m[3]] = at
			}
			continue
		}
		if m := waitedLine.FindStringSubmatch(line); m != nil {
			at, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil || at.Before(phase) {
				continue
			}
			paused, _ := strconv.Atoi(m[4])
			paced, _ := strconv.Atoi(m[5])
			waits = append(waits, wait{at, m[2], strings.Trim(m[3], `"`), time.Duration(paused+paced) * time.Millisecond})
		}
	}
	var bd cardBreakdown
	n := len(users)
	for j, c := range cards {
		if c.At.IsZero() {
			bd.late++
			bd.total = append(bd.total, math.MaxInt64)
			bd.toSlack = append(bd.toSlack, math.MaxInt64)
			continue
		}
		bd.total = append(bd.total, c.At.Sub(sent[j]))
		at, ok := appliedAt[fmt.Sprintf("%s %d", users[j%n], j/n+1)]
		if !ok {
			at = c.At // not logged: counted as the bot's
		}
		bd.applied = append(bd.applied, at.Sub(sent[j]))
		bd.toSlack = append(bd.toSlack, c.At.Sub(at))
		var paced time.Duration
		for _, w := range waits {
			if w.method == "chat.update" && w.channel == c.Param("channel") && !w.at.Before(at) && !w.at.After(c.At) {
				paced += w.d
			}
		}
		bd.paced = append(bd.paced, paced)
	}
	for _, l := range [][]time.Duration{bd.total, bd.applied, bd.toSlack, bd.paced} {
		slices.Sort(l)
	}
	if len(bd.applied) == 0 {
		bd.applied = []time.Duration{math.MaxInt64}
		bd.paced = []time.Duration{math.MaxInt64}
	}
	type tally struct {
		calls, waits, limited int
		waited, longest       time.Duration
	}
	per := map[string]*tally{}
	get := func(m string) *tally {
		if per[m] == nil {
			per[m] = &tally{}
		}
		return per[m]
	}
	for _, c := range fake.All(func(c slackfake.Call) bool { return !c.At.Before(phase) }) {
		t := get(c.Method)
		t.calls++
		if c.Status == http.StatusTooManyRequests {
			t.limited++
		}
	}
	for _, w := range waits {
		t := get(w.method)
		t.waits++
		t.waited += w.d
		t.longest = max(t.longest, w.d)
	}
	for _, m := range slices.Sorted(maps.Keys(per)) {
		t := per[m]
		bd.calls = append(bd.calls, fmt.Sprintf("%s during the receipts: %d calls, %d answered 429; %d waited for their turn, %.1f s in all, the longest %.0f ms",
			m, t.calls, t.limited, t.waits, t.waited.Seconds(), msf(t.longest)))
	}
	return bd
}

func waitFor(b *testing.B, what string, timeout time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func goalMet(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// countingSink counts the reports the store applied and when.
type countingSink struct {
	*storeSink
	reports     atomic.Int64
	first, last atomic.Int64 // UnixNano of the first and last report applied
}

func (c *countingSink) Apply(ctx context.Context, it mailwatch.Item) error {
	if err := c.storeSink.Apply(ctx, it); err != nil {
		return err
	}
	if len(it.Reports) > 0 {
		now := time.Now().UnixNano()
		c.first.CompareAndSwap(0, now)
		c.last.Store(now)
		c.reports.Add(int64(len(it.Reports)))
	}
	return nil
}

// BenchmarkStoreUnderLoad measures how fast the store applies reports
// when 100 mailboxes deliver at once, with MAILACK_BENCH_TRACKED mails
// tracked (default 20,000; 1,000,000 for the figure in the README). The
// tracked mails are loaded in bulk through the store's own registration
// (Store.RegisterMails, 10,000 mails a transaction) into a bbolt file in
// a temp dir. Then, in the same run and on the same file:
//
//   - straight to the store: MAILACK_BENCH_REPORTS read receipts from 100
//     goroutines, one a mailbox, each applied with its checkpoint in one
//     transaction as the watcher applies them, as the store's own
//     benchmark does, with no IMAP at all; then as many again, each about
//     a mail picked at random, as the store's own benchmark picks them;
//   - through IMAP: once all 100 mailboxes are watched, each gets its
//     share of as many other receipts over its own LMTP session, all
//     sessions at once.
//
// Every receipt must have marked its mail read; the benchmark fails
// otherwise.
func BenchmarkStoreUnderLoad(b *testing.B) {
	const n = 100
	total := benchEnv(b, "MAILACK_BENCH_REPORTS", 1000)
	total = (total + n - 1) / n * n // the same share for every mailbox
	tracked := max(benchEnv(b, "MAILACK_BENCH_TRACKED", 20000), 4*total)
	users := make([]string, n)
	scopes := map[string]*track.ReportScope{}
	for i := range users {
		users[i] = fmt.Sprintf("s%03d", i)
		scopes[users[i]] = &track.ReportScope{Account: users[i], Senders: []string{users[i] + "@test.example"}}
	}
	s := mailstack.Start(b, mailstack.WithUsers(users...), mailstack.WithIMAPClients(2*n+100))
	log := slog.New(slog.DiscardHandler)
	// Receipt r is about a mail spread over all those tracked, as real
	// Message-IDs are spread over the whole index, and sent from mailbox
	// r%n, which owns it.
	step := tracked / (2 * total)
	receipt := func(r int) []byte {
		return []byte(mailstack.MDN(benchMailID(spread(r, step, n)), "buyer@partner.example", users[r%n]+"@test.example", 1))
	}
	for b.Loop() {
		st := openTracked(b, filepath.Join(b.TempDir(), "tracked.db"), tracked, users)
		reg := &registrar{st: st, defaultAfter: 48 * time.Hour, now: time.Now, metrics: newMetrics()}
		// Straight to the store: receipts 0 to total-1, checkpoints in a
		// folder of their own so that the watcher's stay untouched.
		sink := &countingSink{storeSink: &storeSink{registrar: reg, log: log, scopes: scopes}}
		var wg sync.WaitGroup
		start := time.Now()
		for w := range n {
			wg.Go(func() {
				for j := w; j < total; j += n {
					rs, err := report.Parse(receipt(j))
					if err != nil || len(rs) == 0 {
						b.Errorf("parse receipt %d: %v", j, err)
						return
					}
					cp := mailwatch.Checkpoint{Account: users[w], Folder: "Direct", UIDValidity: 1, LastUID: uint32(j/n + 1)}
					if err := sink.Apply(context.Background(), mailwatch.Item{Checkpoint: cp, Role: mailwatch.RoleReports, UID: cp.LastUID, Reports: rs}); err != nil {
						b.Errorf("apply: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		direct := float64(sink.reports.Load()) / time.Since(start).Seconds()
		checkRead(b, st, 0, total, step, n)

		// Straight to the store again, each receipt about a mail picked
		// at random among its mailbox's: no two of a commit's receipts on
		// neighbouring mails, as in the store's own benchmark
		// (store.BenchmarkStoreScale), here on the same file in the same
		// run. A mail is picked once and never one the other receipts are
		// about, so each of these receipts must mark an unread mail read.
		spreadOver := map[int]bool{}
		for r := range 2 * total {
			spreadOver[spread(r, step, n)] = true
		}
		sink = &countingSink{storeSink: &storeSink{registrar: reg, log: log, scopes: scopes}}
		picked := make([][]int, n)
		start = time.Now()
		for w := range n {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				mine := map[int]bool{}
				for j := w; j < total; j += n {
					m := rng.IntN(tracked/n)*n + w
					for spreadOver[m] || mine[m] {
						m = rng.IntN(tracked/n)*n + w
					}
					mine[m] = true
					picked[w] = append(picked[w], m)
					rs, err := report.Parse([]byte(mailstack.MDN(benchMailID(m), "buyer@partner.example", users[w]+"@test.example", 2+j)))
					if err != nil || len(rs) == 0 {
						b.Errorf("parse receipt %d: %v", j, err)
						return
					}
					cp := mailwatch.Checkpoint{Account: users[w], Folder: "Random", UIDValidity: 1, LastUID: uint32(j/n + 1)}
					if err := sink.Apply(context.Background(), mailwatch.Item{Checkpoint: cp, Role: mailwatch.RoleReports, UID: cp.LastUID, Reports: rs}); err != nil {
						b.Errorf("apply: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		random := float64(sink.reports.Load()) / time.Since(start).Seconds()
		checkMailsRead(b, st, slices.Concat(picked...))

		// Through IMAP: receipts total to 2*total-1, every mailbox watched,
		// then all deliver at once.
		sink = &countingSink{storeSink: &storeSink{registrar: reg, log: log, scopes: scopes}}
		var accts []mailwatch.Account
		for _, u := range users {
			accts = append(accts, mailwatch.Account{Name: u, Addr: s.IMAPAddr(), TLS: mailwatch.TLSInsecure, Username: u, Password: s.Password(u), Owner: u + "@test.example"})
		}
		w, err := mailwatch.New(accts, mailwatch.Options{Sink: sink, Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		wg.Go(func() { w.Run(ctx) })
		waitFor(b, "every folder watched", 5*time.Minute, func() bool { return w.Watching() == 2*n })
		deliverStart := time.Now()
		var delivering sync.WaitGroup
		for i := range n {
			delivering.Go(func() {
				deliverAll(b, s.LMTPAddr(), users[i]+"@test.example", func(yield func([]byte) bool) {
					for j := total + i; j < 2*total; j += n {
						if !yield(receipt(j)) {
							return
						}
					}
				})
			})
		}
		delivering.Wait()
		delivered := time.Since(deliverStart)
		waitFor(b, "every receipt applied", 5*time.Minute, func() bool { return sink.reports.Load() >= int64(total) })
		all := time.Since(deliverStart)
		cancel()
		wg.Wait()
		checkRead(b, st, total, 2*total, step, n)
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		window := time.Duration(sink.last.Load() - sink.first.Load())
		viaIMAP := float64(total) / window.Seconds()
		b.Logf("store under load, %d tracked mails: straight to the store from %d goroutines %.0f reports/s (%.0f/s with each receipt about a mail picked at random); with %d watched mailboxes receiving at once over LMTP (all %d delivered in %.1f s, %.0f/s) %.0f reports/s applied between the first and the last, all applied %.1f s after the deliveries began (goal >= 5,000/s at 1M tracked)",
			tracked, n, direct, random, n, total, delivered.Seconds(), float64(total)/delivered.Seconds(), viaIMAP, all.Seconds())
		b.ReportMetric(direct, "direct-reports/s")
		b.ReportMetric(random, "random-reports/s")
		b.ReportMetric(viaIMAP, "imap-reports/s")
	}
}

// benchMailID is the Message-ID of tracked mail j.
func benchMailID(j int) string { return fmt.Sprintf("m%07d@test.example", j) }

// openTracked opens a store at path with mails 0 to tracked-1 tracked,
// mail j sent by users[j%len(users)] to buyer@partner.example asking for
// a read receipt, registered as the registrar registers mail read from
// Sent, 10,000 a transaction.
func openTracked(b *testing.B, path string, tracked int, users []string) *store.Store {
	st, err := store.Open(path, store.Options{NoOutbox: true})
	if err != nil {
		b.Fatal(err)
	}
	const perTx = 10000
	start := time.Now()
	now := start
	batch := make([]store.RegisterInput, 0, perTx)
	for lo := 0; lo < tracked; lo += perTx {
		batch = batch[:0]
		for j := lo; j < min(lo+perTx, tracked); j++ {
			u := users[j%len(users)]
			m, err := track.Register(track.Mail{MessageID: benchMailID(j), Account: u, Sender: u + "@test.example", Subject: fmt.Sprintf("Order %07d", j),
				SentAt: now, Requested: track.Requested{ReadReceipt: true},
				Recipients: []track.Recipient{{Address: "buyer@partner.example", Field: track.FieldTo}}}, 48*time.Hour, nil, now)
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, store.RegisterInput{Mail: m, Now: now})
		}
		if added, err := st.RegisterMails(context.Background(), batch); err != nil || added != len(batch) {
			b.Fatalf("RegisterMails(%d mails from %d) = %d, %v", len(batch), lo, added, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d mails tracked in %.1f s (%d a transaction), file %.0f MiB", tracked, time.Since(start).Seconds(), perTx, float64(fi.Size())/(1<<20))
	return st
}

// spread is the tracked mail receipt r is about: step apart from the
// one before, among those sent from mailbox r%n.
func spread(r, step, n int) int {
	j := r * step
	return j - j%n + r%n
}

// checkRead fails b unless the mails of receipts lo to hi-1 are all read
// by their recipient: every receipt was applied.
func checkRead(b *testing.B, st *store.Store, lo, hi, step, n int) {
	unread := 0
	for r := lo; r < hi; r++ {
		id := benchMailID(spread(r, step, n))
		m, err := st.Mail(context.Background(), id)
		if err != nil {
			b.Fatalf("mail %s: %v", id, err)
		}
		if m.Recipients[0].Status != track.StatusRead {
			unread++
		}
	}
	if unread > 0 {
		b.Errorf("%d of %d mails not read after their receipts were applied", unread, hi-lo)
	}
}

// checkMailsRead fails b unless the mails ids (benchMailID numbers) are
// all read by their recipient.
func checkMailsRead(b *testing.B, st *store.Store, ids []int) {
	unread := 0
	for _, j := range ids {
		m, err := st.Mail(context.Background(), benchMailID(j))
		if err != nil {
			b.Fatalf("mail %s: %v", benchMailID(j), err)
		}
		if m.Recipients[0].Status != track.StatusRead {
			unread++
		}
	}
	if unread > 0 {
		b.Errorf("%d of %d mails not read after their receipts were applied", unread, len(ids))
	}
}

// deliverAll delivers every message over one LMTP session.
func deliverAll(b *testing.B, addr, rcpt string, msgs func(func([]byte) bool)) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		b.Errorf("dial lmtp: %v", err)
		return
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("bench.test.example"); err != nil {
		b.Errorf("lhlo: %v", err)
		return
	}
	for raw := range msgs {
		err := c.Mail("", nil)
		if err == nil {
			err = c.Rcpt(rcpt, nil)
		}
		if err == nil {
			var wc interface {
				Write([]byte) (int, error)
				Close() error
			}
			if wc, err = c.Data(); err == nil {
				if _, err = wc.Write(raw); err == nil {
					err = wc.Close()
				}
			}
		}
		if err != nil {
			b.Errorf("deliver to %s: %v", rcpt, err)
			return
		}
	}
}
