package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// The crash test: a child process applies a deterministic stream of
// operations to a database, the parent kills it with SIGKILL at random
// points and starts it again until the stream is done, and the result must
// equal that of a run without crashes. The stream's position is the UID
// of the checkpoint, stored with each operation, so the child resumes where
// the last committed operation left off.
//
// On etcd the child writes through the etcd engine to the etcd member the
// parent test process runs, which outlives every child.

const (
	crashEnvDB   = "MAILACK_CRASH_DB"
	crashEnvSeed = "MAILACK_CRASH_SEED"
	// crashEnvEtcd holds the client URLs of the etcd the child writes to,
	// under the prefix in crashEnvDB.
	crashEnvEtcd = "MAILACK_CRASH_ETCD"
	// crashEnvKills sets how many kills the test on etcd makes.
	crashEnvKills = "MAILACK_CRASH_KILLS"
	crashAccount  = "crash"
	crashFolder   = "INBOX"
	minKills      = 100
	// minEtcdKills keeps the default run on etcd, whose transactions take
	// round trips to the member, to a minute or so.
	minEtcdKills = 20
)

type crashKind int

const (
	opRegister crashKind = iota
	opReport
	opSweep
	opSnooze
	opClose
	opAck
)

// crashOp is one step of the stream.
type crashOp struct {
	kind    crashKind
	key     float64 // orders the stream while it is built
	now     time.Time
	mail    track.Mail      // opRegister
	reports []report.Report // opReport
	target  string          // opSnooze, opClose: a Message-ID
	seq     uint64          // opAck
}

// crashStream builds the stream for seed: mails registered in order,
// reports about them arriving before (orphans) and after registration,
// read again (duplicates), about mails never registered, several
// recipients in one message, and sweeps, snoozes, closes and outbox
// acknowledgements between them.
func crashStream(seed uint64) []crashOp {
	g := crashGen{rng: rand.New(rand.NewPCG(seed, 0x6d61696c61636b)), seed: seed}
	for i := range 120 {
		g.mail(i)
	}
	slices.SortStableFunc(g.ops, func(a, b crashOp) int { return cmpFloat(a.key, b.key) })
	return placeCrashOps(g.ops, g.rng)
}

// crashGen builds a crash stream.
type crashGen struct {
	rng  *rand.Rand
	seed uint64
	rid  int // reports made so far
	ops  []crashOp
}

// mail adds mail i and everything that happens to it.
func (g *crashGen) mail(i int) {
	rng := g.rng
	mid := fmt.Sprintf("c%d.%d@example.com", g.seed, i)
	m := track.Mail{MessageID: mid, Sender: fmt.Sprintf("sender%d@example.com", i%7), Subject: "Offer " + mid,
		Requested: track.Requested{ReadReceipt: rng.IntN(2) == 0, DSN: true}}
	for j := range 1 + rng.IntN(3) {
		m.Recipients = append(m.Recipients, track.Recipient{Address: fmt.Sprintf("r%d@example.net", (i+j*31)%50)})
	}
	at := float64(i) + rng.Float64()
	g.add(at, crashOp{kind: opRegister, mail: m})
	for _, r := range m.Recipients {
		for range 1 + rng.IntN(3) {
			rep := g.report(mid, r.Address)
			key := at - 2 + rng.Float64()*12 // some before registration
			g.add(key, crashOp{kind: opReport, reports: []report.Report{rep}})
			if rng.IntN(8) == 0 { // read again later
				g.add(key+rng.Float64()*20, crashOp{kind: opReport, reports: []report.Report{rep}})
			}
		}
	}
	if len(m.Recipients) > 1 && rng.IntN(3) == 0 { // one DSN about two recipients
		a, b := g.report(mid, m.Recipients[0].Address), g.report(mid, m.Recipients[1].Address)
		g.add(at+rng.Float64()*5, crashOp{kind: opReport, reports: []report.Report{a, b}})
	}
	if rng.IntN(10) == 0 { // about a mail never registered
		g.add(at, crashOp{kind: opReport, reports: []report.Report{g.report("lost"+mid, "x@example.org")}})
	}
	switch rng.IntN(12) {
	case 0:
		g.add(at+3, crashOp{kind: opSnooze, target: mid})
	case 1:
		g.add(at+8, crashOp{kind: opClose, target: mid})
	}
}

func (g *crashGen) add(key float64, op crashOp) {
	op.key = key
	g.ops = append(g.ops, op)
}

// report makes a new report about rcpt of mail mid: a DSN, a receipt, a
// reply (by the recipient or a colleague of the same domain) or an
// out-of-office notice with the date the recipient is back.
func (g *crashGen) report(mid, rcpt string) report.Report {
	g.rid++
	r := report.Report{Kind: report.KindDSN, OriginalMessageID: mid, Recipient: rcpt,
		ReportMessageID: fmt.Sprintf("r%d.%d@mx.example.net", g.seed, g.rid)}
	switch x := g.rng.IntN(10); {
	case x < 5:
		r.Action = report.ActionDelivered
	case x < 6:
		r.Action, r.Status = report.ActionFailed, "5.1.1"
	case x < 7:
		r.Action = report.ActionDelayed
	case x < 8 && g.rng.IntN(2) == 0:
		r.Kind, r.InReplyTo = report.KindReply, mid
		if g.rng.IntN(3) == 0 {
			r.Recipient = "colleague" + strings.TrimPrefix(rcpt, "r")
		}
	case x < 8:
		r.Kind, r.AutoReply = report.KindAutoReply, report.AutoReplyAway
		r.AwayUntil = t0.Truncate(24*time.Hour).AddDate(0, 0, 1+g.rng.IntN(5))
	default:
		r.Kind, r.Disposition = report.KindMDN, []report.Disposition{
			report.DispositionDisplayed, report.DispositionDisplayed, report.DispositionDeleted}[g.rng.IntN(3)]
	}
	return r
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// placeCrashOps gives each operation its time, one minute apart, prepares
// the mails as the tracker would, and adds sweeps and acknowledgements.
func placeCrashOps(ops []crashOp, rng *rand.Rand) []crashOp {
	var out []crashOp
	for _, op := range ops {
		if len(out)%20 == 19 {
			out = append(out, crashOp{kind: opSweep})
		}
		if rng.IntN(15) == 0 {
			out = append(out, crashOp{kind: opAck, seq: uint64(len(out) / 3)})
		}
		out = append(out, op)
	}
	for i := range out {
		out[i].now = t0.Add(time.Duration(i) * time.Minute)
		for j := range out[i].reports {
			out[i].reports[j].Date = out[i].now
		}
		if out[i].kind == opRegister {
			m := out[i].mail
			m.SentAt = out[i].now.Add(-5 * time.Minute)
			m, err := track.Register(m, 2*time.Hour, nil, out[i].now)
			if err != nil {
				panic(err) // the stream is built from valid mails
			}
			out[i].mail = m
		}
	}
	return out
}

// runCrashOp applies operation pos (1-based) of the stream. Operations
// that cannot carry the checkpoint in their own transaction are
// idempotent: run again after a crash, they change nothing.
func runCrashOp(ctx context.Context, s *Store, op crashOp, pos int) error {
	cp := Checkpoint{Account: crashAccount, Folder: crashFolder, UIDValidity: 1, UID: uint32(pos), Updated: op.now}
	var err error
	switch op.kind {
	case opRegister:
		_, err = s.RegisterMail(ctx, RegisterInput{Mail: op.mail, Now: op.now, Checkpoint: &cp})
		return err
	case opReport:
		_, err = s.ApplyReport(ctx, ApplyInput{Reports: op.reports, Now: op.now, Checkpoint: &cp})
		return err
	case opSweep:
		_, err = s.SweepDue(ctx, op.now)
	case opSnooze:
		_, err = s.Snooze(ctx, op.target, op.now.Add(3*time.Hour), op.now)
	case opClose:
		_, err = s.CloseMail(ctx, op.target, track.StateDone, op.now)
	case opAck:
		err = s.Ack(ctx, op.seq)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, track.ErrClosed) {
		err = nil // the same in every run
	}
	if err != nil {
		return err
	}
	return s.SetCheckpoint(ctx, cp)
}

// runCrashStream runs the stream from the checkpoint on.
func runCrashStream(ctx context.Context, s *Store, ops []crashOp) error {
	next := 0
	cp, err := s.Checkpoint(ctx, crashAccount, crashFolder)
	switch {
	case err == nil:
		next = int(cp.UID)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	for i := next; i < len(ops); i++ {
		if err := runCrashOp(ctx, s, ops[i], i+1); err != nil {
			return fmt.Errorf("operation %d: %w", i+1, err)
		}
	}
	return nil
}

// TestCrashChild is the child process of TestCrashConsistency.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnvDB)
	if path == "" {
		t.Skip("runs only as the child of TestCrashConsistency")
	}
	seed, err := strconv.ParseUint(os.Getenv(crashEnvSeed), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ops := crashStream(seed)
	var s *Store
	if eps := os.Getenv(crashEnvEtcd); eps != "" {
		cli, cerr := clientv3.New(clientv3.Config{Endpoints: strings.Split(eps, ","), DialTimeout: 10 * time.Second})
		if cerr != nil {
			t.Fatal(cerr)
		}
		s, err = OpenEtcd(cli, EtcdOptions{Prefix: path, CloseClient: true}, Options{})
	} else {
		s, err = Open(path, Options{LockTimeout: 10 * time.Second})
	}
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	if err := runCrashStream(t.Context(), s, ops); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// readyWriter collects a child's output and closes ready when the child
// says it is ready.
type readyWriter struct {
	mu    sync.Mutex // guards buf and seen
	buf   bytes.Buffer
	seen  bool
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.seen && strings.Contains(w.buf.String(), "ready\n") {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// crashTarget is where a crash test writes: a bbolt file, or a prefix of
// the test run's etcd.
type crashTarget struct {
	path string // the file, or the etcd prefix
	etcd bool
}

func (c crashTarget) open() (*Store, error) {
	if c.etcd {
		return OpenEtcd(testEtcd, EtcdOptions{Prefix: c.path}, Options{})
	}
	return Open(c.path, Options{})
}

// runChild runs the child once and kills it kill after it is ready, unless
// it is done by then. It reports whether the child was killed.
func runChild(t *testing.T, target crashTarget, seed uint64, kill time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvDB+"="+target.path, crashEnvSeed+"="+strconv.FormatUint(seed, 10))
	if target.etcd {
		cmd.Env = append(cmd.Env, crashEnvEtcd+"="+strings.Join(testEtcd.Endpoints(), ","))
	}
	out := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	select {
	case <-out.ready:
	case err := <-exited:
		t.Fatalf("child exited before it was ready: %v\n%s", err, out)
	case <-deadline.C:
		t.Fatalf("child not ready after a minute:\n%s", out)
	}
	fire := time.NewTimer(kill)
	defer fire.Stop()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("child failed: %v\n%s", err, out)
		}
		return false
	case <-fire.C:
		err := cmd.Process.Kill()
		werr := <-exited
		if errors.Is(err, os.ErrProcessDone) { // it finished just now
			if werr != nil {
				t.Fatalf("child failed: %v\n%s", werr, out)
			}
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return true
	case <-deadline.C:
		t.Fatalf("child still running after a minute:\n%s", out)
	}
	return false
}

// crashState is what a run leaves behind, for comparison.
type crashState struct {
	export   []byte
	outbox   []string
	evidence int
	notices  uint64 // notices ever put in the outbox
	orphans  int
	cp       Checkpoint
}

func readCrashState(t *testing.T, target crashTarget) crashState {
	t.Helper()
	s, err := target.open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCheck(t, s)
	var st crashState
	st.export = export(t, s)
	for _, it := range pending(t, s) {
		st.outbox = append(st.outbox, fmt.Sprintf("%d %s %d", it.Seq, it.Notice.Key, it.Attempts))
	}
	err = s.view(context.Background(), func(tx kvTx) error {
		st.notices = sequence(tx.Bucket(bucketOutbox))
		return tx.Bucket(bucketOrphans).ForEach(func(_, _ []byte) error { st.orphans++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	st.evidence = countEvidence(t, s)
	st.cp, err = s.Checkpoint(t.Context(), crashAccount, crashFolder)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// checkAfterKill opens the database the child left, checks it and returns
// the stream position it reached.
func checkAfterKill(t *testing.T, target crashTarget) int {
	t.Helper()
	s, err := target.open()
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer s.Close()
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check() after kill = %v", err)
	}
	cp, err := s.Checkpoint(t.Context(), crashAccount, crashFolder)
	if errors.Is(err, ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return int(cp.UID)
}

func TestCrashConsistency(t *testing.T) {
	bboltOnly(t)
	dir := t.TempDir()
	crashConsistency(t, minKills, 30*time.Millisecond, func(round uint64, name string) crashTarget {
		return crashTarget{path: filepath.Join(dir, fmt.Sprintf("%s-%d.db", name, round))}
	})
}

// TestCrashConsistencyEtcd is the crash test on etcd: the children write
// through the etcd engine to the member this process runs.
// MAILACK_CRASH_KILLS raises the number of kills from its default of 20.
func TestCrashConsistencyEtcd(t *testing.T) {
	if testEtcd == nil {
		t.Skip("runs in the pass on etcd")
	}
	kills := minEtcdKills
	if v := os.Getenv(crashEnvKills); v != "" {
		var err error
		if kills, err = strconv.Atoi(v); err != nil || kills < 1 {
			t.Fatalf("%s=%q: want a number of kills", crashEnvKills, v)
		}
	}
	// A fresh prefix for each run, so that -count=2 starts afresh.
	base := fmt.Sprintf("test/crash-%d/", time.Now().UnixNano())
	crashConsistency(t, kills, 300*time.Millisecond, func(round uint64, name string) crashTarget {
		return crashTarget{path: fmt.Sprintf("%s%s-%d/", base, name, round), etcd: true}
	})
}

// crashConsistency runs rounds of the crash test until the children were
// killed minKills times, each kill at a random point up to maxDelay after
// the child is ready. target names where a round's reference run and its
// crashing run write.
func crashConsistency(t *testing.T, minKills int, maxDelay time.Duration, target func(round uint64, name string) crashTarget) {
	rng := rand.New(rand.NewPCG(20250602, 1))
	var kills, runs, ops, reports int
	var evidence, notices, orphans, replies, autoReplies int
	start := time.Now()
	for round := uint64(1); kills < minKills; round++ {
		stream := crashStream(round)
		ops += len(stream)
		for _, op := range stream {
			reports += len(op.reports)
		}

		refTarget := target(round, "reference")
		ref, err := refTarget.open()
		if err != nil {
			t.Fatal(err)
		}
		if err := runCrashStream(t.Context(), ref, stream); err != nil {
			t.Fatalf("reference run: %v", err)
		}
		if err := ref.Close(); err != nil {
			t.Fatal(err)
		}
		want := readCrashState(t, refTarget)

		crashTarget := target(round, "crash")
		for pos := -1; pos < len(stream); {
			delay := time.Duration(rng.Int64N(int64(maxDelay)))
			runs++
			if runChild(t, crashTarget, round, delay) {
				kills++
			}
			pos = checkAfterKill(t, crashTarget)
		}
		got := readCrashState(t, crashTarget)
		compareCrashStates(t, round, got, want)
		evidence += want.evidence
		replies += bytes.Count(want.export, []byte(`"Source":"reply"`))
		autoReplies += bytes.Count(want.export, []byte(`"Source":"autoreply"`))
		notices += int(want.notices)
		orphans += want.orphans
	}
	if replies == 0 || autoReplies == 0 {
		t.Errorf("the streams stored %d replies and %d automatic replies, want some of each", replies, autoReplies)
	}
	t.Logf("crash test: %d kills in %d child runs; %d operations, %d reports; %d evidence (%d replies, %d automatic replies), %d notices, %d orphans stored; equal to uninterrupted runs; %v",
		kills, runs, ops, reports, evidence, replies, autoReplies, notices, orphans, time.Since(start).Round(time.Millisecond))
}

func compareCrashStates(t *testing.T, round uint64, got, want crashState) {
	t.Helper()
	if got.evidence != want.evidence || got.notices != want.notices || got.orphans != want.orphans {
		t.Errorf("round %d: evidence %d, notices %d, orphans %d; uninterrupted run: %d, %d, %d",
			round, got.evidence, got.notices, got.orphans, want.evidence, want.notices, want.orphans)
	}
	if !slices.Equal(got.outbox, want.outbox) {
		t.Errorf("round %d: outbox differs:\n%s\nuninterrupted run:\n%s", round,
			strings.Join(got.outbox, "\n"), strings.Join(want.outbox, "\n"))
	}
	if got.cp.UID != want.cp.UID {
		t.Errorf("round %d: checkpoint UID %d, uninterrupted run %d", round, got.cp.UID, want.cp.UID)
	}
	if !bytes.Equal(got.export, want.export) {
		t.Errorf("round %d: export differs from the uninterrupted run:\n%s", round, firstDiff(got.export, want.export))
	}
}

// firstDiff shows where two byte slices first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("got  ...%s\nwant ...%s", a[from:min(len(a), i+200)], b[from:min(len(b), i+200)])
}
