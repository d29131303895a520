package mailwatch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/track/report"
)

// memSink records what the watcher applies, the way the store would: the
// item and its checkpoint together.
type memSink struct {
	mu      sync.Mutex
	cps     map[string]Checkpoint
	items   []Item
	applied map[string]int // account/folder/uidvalidity/uid -> times applied
	fail    error
}

func newMemSink() *memSink {
	return &memSink{cps: map[string]Checkpoint{}, applied: map[string]int{}}
}

func (s *memSink) Checkpoint(_ context.Context, account, folder string) (Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cps[account+"/"+folder], nil
}

func (s *memSink) Apply(_ context.Context, it Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	cp := it.Checkpoint
	s.cps[cp.Account+"/"+cp.Folder] = cp
	if it.Reports != nil || it.Sent != nil || it.Quarantine != nil {
		s.items = append(s.items, it)
		s.applied[fmt.Sprintf("%s/%s/%d/%d", cp.Account, cp.Folder, cp.UIDValidity, it.UID)]++
	}
	return nil
}

// waitFor polls the recorded items until cond holds.
func (s *memSink) waitFor(t *testing.T, what string, timeout time.Duration, cond func(items []Item) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		ok := cond(s.items)
		n := len(s.items)
		s.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (%d items recorded)", timeout, what, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *memSink) snapshot() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Item(nil), s.items...)
}

func reportsOf(items []Item) []report.Report {
	var out []report.Report
	for _, it := range items {
		out = append(out, it.Reports...)
	}
	return out
}

func findReport(items []Item, kind report.Kind, rcpt string) (report.Report, bool) {
	for _, r := range reportsOf(items) {
		if r.Kind == kind && r.Recipient == rcpt {
			return r, true
		}
	}
	return report.Report{}, false
}

func sentMail(id, to, subject string) string {
	return "From: Alice <alice@test.example>\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n" +
		"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\nMessage-ID: <" + id + ">\r\n" +
		"Disposition-Notification-To: alice@test.example\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello.\r\n"
}

func account(s *mailstack.Stack, user string) Account {
	return Account{
		Name: user, Addr: s.IMAPAddr(), TLS: TLSStartTLS,
		TLSConfig: &tls.Config{RootCAs: s.RootCAs(), ServerName: "localhost"},
		Username:  user, Password: s.Password(user), Owner: s.Address(user),
	}
}

func startWatcher(t *testing.T, sink Sink, opts Options, accts ...Account) (*Watcher, func()) {
	t.Helper()
	opts.Sink = sink
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	opts.DontRecover = true
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 50*time.Millisecond, 200*time.Millisecond
	}
	w, err := New(accts, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("watcher did not stop within 10 s of cancel")
		}
	}
	t.Cleanup(stop)
	return w, stop
}

// TestWatchSentAndReports covers the main path over IDLE: a sent mail that
// asks for a receipt is registered from the Sent folder (found by its
// \Sent attribute), and a real Postfix bounce and an MDN arriving later
// are read and carry the original's Message-ID.
func TestWatchSentAndReports(t *testing.T) {
	for _, mode := range []string{"idle", "poll"} {
		t.Run(mode, func(t *testing.T) {
			s := mailstack.Start(t)
			sink := newMemSink()
			acct := account(s, "alice")
			if mode == "poll" {
				acct.PollInterval = 100 * time.Millisecond
			}
			startWatcher(t, sink, Options{}, acct)

			c := s.Login(t, "alice")
			id := "sent-1@test.example"
			mailstack.Append(t, c, "Sent Items", sentMail(id, "Bob <bob@test.example>, nosuch@test.example", "Quote"))
			sink.waitFor(t, "the sent mail", 20*time.Second, func(items []Item) bool {
				for _, it := range items {
					if it.Sent != nil && it.Sent.MessageID == id {
						return true
					}
				}
				return false
			})

			// A real bounce: Postfix sends it to alice for the unknown user.
			s.Send(t, s.Address("alice"), []string{"nosuch@test.example"}, []byte(sentMail(id, "nosuch@test.example", "Quote")),
				mailstack.SendOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: "env-1"})
			s.DeliverLMTP(t, "alice", []byte(mailstack.MDN(id, "bob@test.example", "alice@test.example", 1)))
			sink.waitFor(t, "the bounce and the receipt", 10*time.Second, func(items []Item) bool {
				_, dsn := findReport(items, report.KindDSN, "nosuch@test.example")
				_, mdn := findReport(items, report.KindMDN, "bob@test.example")
				return dsn && mdn
			})
			items := sink.snapshot()
			dsn, _ := findReport(items, report.KindDSN, "nosuch@test.example")
			if dsn.OriginalMessageID != id || dsn.EnvelopeID != "env-1" || dsn.Action != report.ActionFailed || dsn.Status != "5.1.1" {
				t.Errorf("bounce = %+v, want failed 5.1.1 for %s with envelope env-1", dsn, id)
			}
			mdn, _ := findReport(items, report.KindMDN, "bob@test.example")
			if mdn.OriginalMessageID != id || mdn.Disposition != report.DispositionDisplayed {
				t.Errorf("receipt = %+v, want displayed for %s", mdn, id)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			for k, n := range sink.applied {
				if n != 1 {
					t.Errorf("%s applied %d times", k, n)
				}
			}
		})
	}
}

// TestWatchSkipsOrdinaryMail checks that mail that is no report is not
// fetched whole and produces no item, while the checkpoint still advances.
func TestWatchSkipsOrdinaryMail(t *testing.T) {
	s := mailstack.Start(t)
	sink := newMemSink()
	acct := account(s, "alice")
	c := s.Login(t, "alice")
	for i := range 5 {
		mailstack.Append(t, c, "INBOX", fmt.Sprintf("From: carol@test.example\r\nTo: alice@test.example\r\nSubject: lunch %d\r\nMessage-ID: <l%d@test.example>\r\n\r\nhi\r\n", i, i))
	}
	mailstack.Append(t, c, "INBOX", mailstack.MDN("x@test.example", "bob@test.example", "alice@test.example", 9))
	startWatcher(t, sink, Options{}, acct)
	sink.waitFor(t, "the receipt", 20*time.Second, func(items []Item) bool { return len(items) == 1 })
	if it := sink.snapshot()[0]; it.UID != 6 || len(it.Reports) != 1 {
		t.Errorf("item = uid %d with %d reports, want uid 6 with one report", it.UID, len(it.Reports))
	}
	sink.waitFor(t, "the checkpoint", 20*time.Second, func([]Item) bool {
		return sink.cps["alice/INBOX"].LastUID == 6 // waitFor holds the lock
	})
}

// TestWatchRestart restarts Dovecot while the watcher waits in IDLE:
// reports delivered before and after are each applied exactly once.
func TestWatchRestart(t *testing.T) {
	s := mailstack.Start(t)
	sink := newMemSink()
	startWatcher(t, sink, Options{}, account(s, "alice"))
	for i := range 3 {
		s.DeliverLMTP(t, "alice", []byte(mailstack.MDN(fmt.Sprintf("m%d@test.example", i), "bob@test.example", "alice@test.example", i)))
	}
	sink.waitFor(t, "3 receipts", 10*time.Second, func(items []Item) bool { return len(reportsOf(items)) == 3 })
	s.Restart(t)
	for i := 3; i < 6; i++ {
		s.DeliverLMTP(t, "alice", []byte(mailstack.MDN(fmt.Sprintf("m%d@test.example", i), "bob@test.example", "alice@test.example", i)))
	}
	sink.waitFor(t, "6 receipts", 20*time.Second, func(items []Item) bool { return len(reportsOf(items)) >= 6 })
	seen := map[string]int{}
	for _, r := range reportsOf(sink.snapshot()) {
		seen[r.OriginalMessageID]++
	}
	for i := range 6 {
		if n := seen[fmt.Sprintf("m%d@test.example", i)]; n != 1 {
			t.Errorf("receipt %d applied %d times, want once", i, n)
		}
	}
}

// TestWatchUIDValidityChange deletes a watched folder and recreates it once
// the watcher's session has ended: the watcher retries the missing folder,
// notices the new UIDVALIDITY and reads the folder again from the start.
// TestWatchFolderRecreatedWhileSelected covers a folder recreated while
// the session is still up.
func TestWatchUIDValidityChange(t *testing.T) {
	s := mailstack.Start(t)
	sink := newMemSink()
	c := s.Login(t, "alice")
	if err := c.Create("Reports", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	mailstack.Append(t, c, "Reports", mailstack.MDN("a@test.example", "bob@test.example", "alice@test.example", 1))
	acct := account(s, "alice")
	acct.ReportFolders = []string{"Reports"}
	acct.PollInterval = 100 * time.Millisecond
	w, _ := startWatcher(t, sink, Options{}, acct)
	sink.waitFor(t, "the first receipt", 20*time.Second, func(items []Item) bool { return len(items) == 1 })
	before, _ := sink.Checkpoint(context.Background(), "alice", "Reports")
	reconnects := w.Status()[0].Reconnects

	if err := c.Delete("Reports").Wait(); err != nil {
		t.Fatal(err)
	}
	// Dovecot ends the watcher's session on the deleted folder when it
	// next polls (BYE "IMAP session state is inconsistent").
	waitStatus(t, w, "the watcher's session on the deleted folder to end", 10*time.Second, func(st map[string]AccountStatus) bool {
		return st["alice"].Reconnects > reconnects
	})
	// Before its session ended, the watcher's session may have written
	// the deleted folder's index back (recreateFolder): then the folder
	// exists again, empty, and is deleted and created once more.
	if err := c.Create("Reports", nil).Wait(); err != nil {
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAlreadyExists {
			t.Fatal(err)
		}
		recreateFolder(t, c, "Reports")
	}
	appendRetry(t, s, c, "Reports", mailstack.MDN("a@test.example", "bob@test.example", "alice@test.example", 1))
	appendRetry(t, s, c, "Reports", mailstack.MDN("b@test.example", "bob@test.example", "alice@test.example", 2))
	sink.waitFor(t, "the rescan", 10*time.Second, func(items []Item) bool { return len(items) == 3 })
	after, _ := sink.Checkpoint(context.Background(), "alice", "Reports")
	// A refused APPEND can use up a UID (appendRetry): the checkpoint is
	// the highest UID in the folder, seen from a new session.
	uids := folderUIDs(t, s, "Reports")
	if len(uids) != 2 || after.UIDValidity == before.UIDValidity || after.LastUID != uint32(uids[len(uids)-1]) {
		t.Errorf("checkpoint after recreate = %+v, before %+v, folder holds UIDs %v: want a new UIDVALIDITY read up to the last of two", after, before, uids)
	}
}

// TestWatchOversizedAndQuarantine: a huge report is shrunk to the cap and
// still understood, its report part coming after a large part; a message whose reading panics is quarantined
// with its head and the watcher goes on to the next one.
func TestWatchOversizedAndQuarantine(t *testing.T) {
	s := mailstack.Start(t)
	sink := newMemSink()
	c := s.Login(t, "alice")
	// The large part comes before the report part: a cut at the cap
	// would lose the report.
	big := strings.Replace(mailstack.MDN("big@test.example", "bob@test.example", "alice@test.example", 1), "--R\r\nContent-Type: message/disposition-notification",
		"--R\r\nContent-Type: application/octet-stream\r\n\r\n"+strings.Repeat(strings.Repeat("A", 76)+"\r\n", 512<<10/78)+"--R\r\nContent-Type: message/disposition-notification", 1)
	mailstack.Append(t, c, "INBOX", big)
	mailstack.Append(t, c, "INBOX", mailstack.MDN("poison@test.example", "bob@test.example", "alice@test.example", 2))
	mailstack.Append(t, c, "INBOX", mailstack.MDN("after@test.example", "bob@test.example", "alice@test.example", 3))

	w, err := New([]Account{account(s, "alice")}, Options{Sink: sink, MaxMessageBytes: 64 << 10, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	var largest int
	w.parse = func(raw []byte) ([]report.Report, error) {
		largest = max(largest, len(raw))
		if strings.Contains(string(raw), "poison@") {
			panic("parser bug")
		}
		return report.Parse(raw)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	sink.waitFor(t, "three items", 10*time.Second, func(items []Item) bool { return len(items) == 3 })
	items := sink.snapshot()
	if r := items[0].Reports; len(r) != 1 || r[0].OriginalMessageID != "big@test.example" || items[0].Size <= 512<<10 {
		t.Errorf("big receipt = %+v (size %d), want its report", r, items[0].Size)
	}
	if largest > 64<<10 {
		t.Errorf("parser was handed %d bytes, want at most the 64 KiB cap", largest)
	}
	if q := items[1].Quarantine; q == nil || !strings.Contains(q.Reason, "parser bug") || !strings.Contains(string(q.Head), "poison@") {
		t.Errorf("second item = %+v, want it quarantined with the panic and its head", items[1])
	}
	if r := items[2].Reports; len(r) != 1 || r[0].OriginalMessageID != "after@test.example" {
		t.Errorf("third item = %+v, want the receipt after the poison one", items[2])
	}
}

// TestWatchTwoAccounts runs two accounts at once, one of them with a wrong
// password: the other is not held up.
func TestWatchTwoAccounts(t *testing.T) {
	s := mailstack.Start(t)
	sink := newMemSink()
	bad := account(s, "carol")
	bad.Password = "wrong"
	w, err := New([]Account{account(s, "alice"), account(s, "bob"), bad}, Options{Sink: sink, MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	s.DeliverLMTP(t, "alice", []byte(mailstack.MDN("x@test.example", "bob@test.example", "alice@test.example", 1)))
	s.DeliverLMTP(t, "bob", []byte(mailstack.MDN("y@test.example", "alice@test.example", "bob@test.example", 2)))
	sink.waitFor(t, "both receipts", 10*time.Second, func(items []Item) bool { return len(items) == 2 })
	// The receipts may be applied before their folder's first sync is
	// recorded, and carol's failed login is recorded when her session
	// ends: wait for each account's own status.
	st := waitStatus(t, w, "alice and bob synced, carol's login failed", 10*time.Second, func(st map[string]AccountStatus) bool {
		return !st["alice"].LastSync.IsZero() && !st["bob"].LastSync.IsZero() && st["carol"].LastError != ""
	})
	if c := st["carol"]; !strings.HasPrefix(c.LastError, ErrAuth.Error()) || !c.LastSync.IsZero() {
		t.Errorf("carol status %+v: want an auth error and no sync", c)
	}
}

// waitStatus polls the watcher's account status until cond holds and
// returns it by account.
func waitStatus(t *testing.T, w *Watcher, what string, timeout time.Duration, cond func(map[string]AccountStatus) bool) map[string]AccountStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := map[string]AccountStatus{}
		for _, s := range w.Status() {
			st[s.Account] = s
		}
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %+v", timeout, what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New([]Account{{Name: "a"}, {Name: "a", Addr: "x:1", Username: "u", Password: "p"}, {}}, Options{})
	if err == nil {
		t.Fatal("New accepted bad accounts")
	}
	for _, want := range []string{"no sink", "account a: no server address", "account a: name used twice", "account 3: no name", "no password"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New() error %q lacks %q", err, want)
		}
	}
}

// TestWatchMovesProcessedReports: with move_reports_to, a report leaves the
// inbox for that folder once its result is stored; ordinary mail stays.
// With flag_reports it stays but is marked seen.
func TestWatchMovesProcessedReports(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	if err := c.Create("Receipts", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	mailstack.Append(t, c, "INBOX", "From: carol@test.example\r\nTo: alice@test.example\r\nSubject: lunch\r\nMessage-ID: <l@test.example>\r\n\r\nhi\r\n")
	mailstack.Append(t, c, "INBOX", mailstack.MDN("moved@test.example", "bob@test.example", "alice@test.example", 1))
	sink := newMemSink()
	acct := account(s, "alice")
	acct.MoveReportsTo = "Receipts"
	_, stop := startWatcher(t, sink, Options{}, acct)
	sink.waitFor(t, "the receipt", 20*time.Second, func(items []Item) bool { return len(items) == 1 })
	if n := s.WaitForMessages(t, "alice", "Receipts", 1, 20*time.Second); n != 1 {
		t.Fatalf("Receipts holds %d messages, want the receipt", n)
	}
	// Dovecot's MOVE commits the copy before the expunge: wait for the
	// receipt to leave the inbox too.
	var inbox [][]byte
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		inbox = s.Messages(t, "alice", "INBOX")
		if len(inbox) < 2 || time.Now().After(deadline) {
			break
		}
	}
	stop()
	if len(inbox) != 1 || !strings.Contains(string(inbox[0]), "Subject: lunch") {
		t.Errorf("inbox after the move holds %d messages, want only the ordinary mail", len(inbox))
	}

	// Flagging instead of moving.
	mailstack.Append(t, c, "INBOX", mailstack.MDN("flagged@test.example", "bob@test.example", "alice@test.example", 2))
	acct.MoveReportsTo, acct.FlagReports = "", true
	sink2 := newMemSink()
	startWatcher(t, sink2, Options{}, acct)
	sink2.waitFor(t, "the second receipt", 20*time.Second, func(items []Item) bool {
		for _, it := range items {
			if len(it.Reports) == 1 && it.Reports[0].OriginalMessageID == "flagged@test.example" {
				return true
			}
		}
		return false
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		seen, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if len(seen.AllUIDs()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("seen messages in INBOX = %v, want the flagged receipt only", seen.AllUIDs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWatchManyRecipientBounce sends a mail to 300 unknown recipients
// through Postfix and reads its real bounce from the IMAP inbox: every
// recipient is reported.
func TestWatchManyRecipientBounce(t *testing.T) {
	s := mailstack.Start(t)
	sink := newMemSink()
	_, stop := startWatcher(t, sink, Options{}, account(s, "alice"))
	defer stop()
	var to []string
	for i := 1; i <= 300; i++ {
		to = append(to, fmt.Sprintf("nosuch%03d@%s", i, s.Domain()))
	}
	raw := "From: alice@test.example\r\nTo: undisclosed-recipients:;\r\nSubject: figures\r\nMessage-ID: <many-300@test.example>\r\n\r\nHello all.\r\n"
	s.Send(t, s.Address("alice"), to, []byte(raw), mailstack.SendOptions{Return: smtp.DSNReturnHeaders})
	sink.waitFor(t, "the bounce", 30*time.Second, func(items []Item) bool { return len(items) == 1 })
	rs := sink.snapshot()[0].Reports
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Action == report.ActionFailed && r.OriginalMessageID == "many-300@test.example" {
			seen[r.Recipient] = true
		}
	}
	if len(seen) != 300 {
		t.Fatalf("bounce read for %d distinct failed recipients (%d reports), want 300", len(seen), len(rs))
	}
}
