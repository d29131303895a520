package store

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func TestRegisterMail(t *testing.T) {
	s := openTest(t, Options{})
	m := newMail(t, "r1@example.com", "alice@example.com", t0, "bob@example.net")
	m.EnvelopeID = "env-r1"
	cp := &Checkpoint{Account: "work", Folder: "Sent", UIDValidity: 1, UID: 5}
	res, err := s.RegisterMail(t.Context(), RegisterInput{Mail: m, Now: t0, Checkpoint: cp})
	if err != nil || res.Existed {
		t.Fatalf("RegisterMail() = %+v, %v", res, err)
	}
	got := mustMail(t, s, "<r1@EXAMPLE.COM>")
	if got.Sender != "alice@example.com" || !got.SentAt.Equal(t0) || !got.DueAt.Equal(t0.Add(24*time.Hour)) || got.EnvelopeID != "env-r1" {
		t.Errorf("Mail() = %+v, want the registered mail", got)
	}
	if c, err := s.Checkpoint(t.Context(), "work", "Sent"); err != nil || c.UID != 5 {
		t.Errorf("Checkpoint() = %+v, %v; want UID 5", c, err)
	}

	// Registering again changes nothing: the stored mail keeps its state.
	apply(t, s, t0, dsn("r1@example.com", "bob@example.net", report.ActionDelivered, "d@mx", t0))
	again, err := s.RegisterMail(t.Context(), RegisterInput{Mail: m, Now: t0.Add(time.Hour)})
	if err != nil || !again.Existed {
		t.Fatalf("second RegisterMail() = %+v, %v; want Existed", again, err)
	}
	if r := recipient(t, again.Mail, "bob@example.net"); r.Status != track.StatusDelivered {
		t.Errorf("after re-registering bob = %s, want delivered", r.Status)
	}
	mustCheck(t, s)
}

func TestRegisterMailRejectsInvalid(t *testing.T) {
	s := openTest(t, Options{})
	good := newMail(t, "v1@example.com", "alice@example.com", t0, "bob@example.net")
	tests := []struct {
		name   string
		change func(m *track.Mail)
	}{
		{"no message-id", func(m *track.Mail) { m.MessageID = "" }},
		{"message-id not normalised", func(m *track.Mail) { m.MessageID = "<v1@example.com>" }},
		{"no sender", func(m *track.Mail) { m.Sender = "" }},
		{"no recipients", func(m *track.Mail) { m.Recipients = nil }},
		{"NUL in message-id", func(m *track.Mail) { m.MessageID = "v1\x00x@example.com" }},
		{"NUL in recipient", func(m *track.Mail) { m.Recipients[0].Address = "b\x00b@example.net" }},
		{"unknown state", func(m *track.Mail) { m.State = "lost" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good.Clone()
			tt.change(&m)
			if _, err := s.RegisterMail(t.Context(), RegisterInput{Mail: m, Now: t0}); !errors.Is(err, track.ErrInvalidMail) {
				t.Errorf("RegisterMail() = %v, want track.ErrInvalidMail", err)
			}
		})
	}
	if n := countMails(t, s); n != 0 {
		t.Errorf("%d mails stored, want 0", n)
	}
}

func TestMailNotFound(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.Mail(t.Context(), "nope@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Mail() = %v, want ErrNotFound", err)
	}
	if _, err := s.Snooze(t.Context(), "nope@example.com", t0.Add(time.Hour), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Snooze() = %v, want ErrNotFound", err)
	}
	if _, ok, err := s.MailByMessageID("nope@example.com"); ok || err != nil {
		t.Errorf("MailByMessageID() = %v, %v; want not found", ok, err)
	}
}

func TestLookup(t *testing.T) {
	s := openTest(t, Options{})
	older := newMail(t, "e1@example.com", "alice@example.com", t0, "bob+news@example.net")
	older.EnvelopeID = "env"
	newer := newMail(t, "e2@example.com", "alice@example.com", t0.Add(time.Hour), "bob@example.net")
	newer.EnvelopeID = "env"
	register(t, s, older, t0)
	register(t, s, newer, t0)

	m, ok, err := s.MailByEnvelopeID("env")
	if err != nil || !ok || m.MessageID != "e2@example.com" {
		t.Errorf("MailByEnvelopeID(env) = %s, %v, %v; want the newer mail", m.MessageID, ok, err)
	}
	subject := track.NormalizeSubject("Quote for e1@example.com")
	ms, err := s.MailsBySubject("bob@example.net", subject, t0.Add(-time.Hour), t0.Add(time.Minute))
	if err != nil || len(ms) != 1 || ms[0].MessageID != "e1@example.com" {
		t.Errorf("MailsBySubject(plus base) = %v, %v; want e1", ms, err)
	}
	ms, _ = s.MailsBySubject("bob@example.net", subject, t0.Add(time.Minute), t0.Add(2*time.Hour))
	if len(ms) != 0 {
		t.Errorf("MailsBySubject(after e1 was sent) = %d mails, want 0", len(ms))
	}
}

func TestListBySender(t *testing.T) {
	s := openTest(t, Options{})
	for i := range 6 {
		register(t, s, newMail(t, id(i), "alice@example.com", t0.Add(time.Duration(i)*time.Hour), "bob@example.net"), t0)
	}
	register(t, s, newMail(t, "other@example.com", "zed@example.com", t0, "bob@example.net"), t0)
	if _, err := s.CloseMail(t.Context(), id(2), track.StateDone, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snooze(t.Context(), id(4), t0.Add(48*time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	ids := func(ms []track.Mail) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.MessageID)
		}
		return out
	}
	tests := []struct {
		name  string
		f     ListFilter
		limit int
		want  []string
	}{
		{"open and snoozed, newest first", ListFilter{}, 0, []string{id(5), id(4), id(3), id(1), id(0)}},
		{"limit", ListFilter{}, 2, []string{id(5), id(4)}},
		{"done", ListFilter{States: []track.State{track.StateDone}}, 0, []string{id(2)}},
		{"window", ListFilter{SentAfter: t0.Add(time.Hour), SentBefore: t0.Add(4 * time.Hour)}, 0, []string{id(3), id(1)}},
		{"snoozed", ListFilter{States: []track.State{track.StateSnoozed}}, 0, []string{id(4)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListBySender(t.Context(), "Alice <ALICE@example.com>", tt.f, tt.limit)
			if err != nil || !slices.Equal(ids(got), tt.want) {
				t.Errorf("ListBySender(%+v, %d) = %v, %v; want %v", tt.f, tt.limit, ids(got), err, tt.want)
			}
		})
	}
}

func TestSnoozeCloseAndSweep(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "d1@example.com", "alice@example.com", t0, "bob@example.net", "carol@example.net"), t0)
	register(t, s, newMail(t, "d2@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	register(t, s, newMail(t, "d3@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	apply(t, s, t0, mdn("d1@example.com", "carol@example.net", report.DispositionDisplayed, "x@mx", t0))
	if _, err := s.Snooze(t.Context(), "d2@example.com", t0.Add(72*time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseMail(t.Context(), "d3@example.com", track.StateStopped, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snooze(t.Context(), "d3@example.com", t0.Add(72*time.Hour), t0); !errors.Is(err, track.ErrClosed) {
		t.Errorf("Snooze(closed) = %v, want track.ErrClosed", err)
	}

	before, err := s.SweepDue(t.Context(), t0.Add(23*time.Hour))
	if err != nil || before.Swept != 0 {
		t.Fatalf("SweepDue(before deadline) = %+v, %v; want nothing", before, err)
	}
	res, err := s.SweepDue(t.Context(), t0.Add(25*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Swept != 1 || len(res.Notices) != 1 || res.Notices[0].Recipient != "bob@example.net" || res.Notices[0].Kind != track.NoticeNoResponse {
		t.Fatalf("SweepDue() = %+v, want one no-response notice for bob on d1", res)
	}
	if again, _ := s.SweepDue(t.Context(), t0.Add(26*time.Hour)); again.Swept != 0 {
		t.Errorf("second SweepDue() swept %d, want 0", again.Swept)
	}
	snoozed, _ := s.SweepDue(t.Context(), t0.Add(73*time.Hour))
	if snoozed.Swept != 1 || snoozed.Notices[0].MessageID != "d2@example.com" {
		t.Errorf("SweepDue(after snooze) = %+v, want d2", snoozed)
	}
	if m := mustMail(t, s, "d2@example.com"); m.State != track.StateOpen || !m.DueAt.IsZero() {
		t.Errorf("d2 after sweep = %s due %v, want open, no deadline", m.State, m.DueAt)
	}
	mustCheck(t, s)
}

func TestSweepManyChunks(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	n := chunk*2 + 7
	for i := range n {
		register(t, s, newMail(t, id(i), "alice@example.com", t0.Add(time.Duration(i)*time.Second), "bob@example.net"), t0)
	}
	res, err := s.SweepDue(t.Context(), t0.Add(48*time.Hour))
	if err != nil || res.Swept != n || len(res.Notices) != n {
		t.Fatalf("SweepDue() = %d swept, %d notices, %v; want %d", res.Swept, len(res.Notices), err, n)
	}
	if k := countKeys(t, s, bucketByDue); k != 0 {
		t.Errorf("by_due holds %d, want 0", k)
	}
	mustCheck(t, s)
}

// Reopen tracks a closed mail again and refuses an open one.
func TestReopenMail(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	now := t0
	m := newMail(t, "re@example.com", "alice@example.com", t0, "bob@example.net")
	if _, err := s.RegisterMail(ctx, RegisterInput{Mail: m, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reopen(ctx, m.MessageID, time.Time{}, now); !errors.Is(err, track.ErrInvalidState) {
		t.Errorf("Reopen(open) = %v, want ErrInvalidState", err)
	}
	if _, err := s.CloseMail(ctx, m.MessageID, track.StateStopped, now); err != nil {
		t.Fatal(err)
	}
	due := now.Add(2 * time.Hour)
	got, err := s.Reopen(ctx, m.MessageID, due, now)
	if err != nil || got.State != track.StateOpen {
		t.Fatalf("Reopen = %+v, %v", got.State, err)
	}
	stored, err := s.Mail(ctx, m.MessageID)
	if err != nil || stored.State != track.StateOpen || !stored.DueAt.Equal(due) {
		t.Errorf("stored after reopen: %s due %v (%v), want open due %v", stored.State, stored.DueAt, err, due)
	}
	if _, err := s.Reopen(ctx, "none@example.com", due, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("Reopen(unknown) = %v, want ErrNotFound", err)
	}
}

// RegisterMails registers a batch as RegisterMail registers each mail:
// orphans adopted with their notices queued, checkpoints advanced, a
// mail already tracked left as it is, another sender's Message-ID
// skipped. One invalid mail fails the batch and writes nothing.
func TestRegisterMails(t *testing.T) {
	s := openTest(t, Options{})
	now := t0.Add(time.Hour)
	apply(t, s, now, mdn(id(2), "bob@example.net", report.DispositionDisplayed, "r2@example.net", now))
	register(t, s, newMail(t, id(3), "carol@example.com", t0, "bob@example.net"), now)
	register(t, s, newMail(t, id(4), "alice@example.com", t0, "bob@example.net"), now)

	var batch []RegisterInput
	for i := range 5 {
		m := newMail(t, id(i), "alice@example.com", t0, "bob@example.net")
		batch = append(batch, RegisterInput{Mail: m, Now: now, Checkpoint: &Checkpoint{Account: "work", Folder: "Sent", UIDValidity: 1, UID: uint32(10 + i)}})
	}
	bad := batch[1].Mail.Clone()
	bad.Recipients = nil
	invalid := slices.Concat(batch, []RegisterInput{{Mail: bad, Now: now}})
	if n, err := s.RegisterMails(t.Context(), invalid); !errors.Is(err, track.ErrInvalidMail) || n != 0 {
		t.Fatalf("RegisterMails(with an invalid mail) = %d, %v; want 0, track.ErrInvalidMail", n, err)
	}
	if n := countMails(t, s); n != 2 {
		t.Fatalf("%d mails stored after the refused batch, want the 2 registered before", n)
	}

	n, err := s.RegisterMails(t.Context(), batch)
	if err != nil || n != 3 {
		t.Fatalf("RegisterMails() = %d, %v; want 3 new (one another sender's, one already tracked)", n, err)
	}
	for i, want := range []string{"alice@example.com", "alice@example.com", "alice@example.com", "carol@example.com", "alice@example.com"} {
		if got := mustMail(t, s, id(i)); got.Sender != want {
			t.Errorf("mail %s sender = %s, want %s", id(i), got.Sender, want)
		}
	}
	if r := recipient(t, mustMail(t, s, id(2)), "bob@example.net"); r.Status != track.StatusRead {
		t.Errorf("mail %s: bob = %s, want read (the orphaned receipt adopted)", id(2), r.Status)
	}
	if items := pending(t, s); len(items) != 1 || items[0].Notice.MessageID != id(2) {
		t.Errorf("outbox = %+v, want one notice, for %s", items, id(2))
	}
	if c, err := s.Checkpoint(t.Context(), "work", "Sent"); err != nil || c.UID != 14 {
		t.Errorf("Checkpoint() = %+v, %v; want UID 14", c, err)
	}
	mustCheck(t, s)
}

// TestLazyDeadlineIndex checks the lazy by_due index: a receipt that ends
// a mail's wait, a close and a purge leave the mail's old wake-up in the
// index, which Check accepts and the sweep deletes when it reaches it,
// without reminding anyone.
func TestLazyDeadlineIndex(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	for _, mid := range []string{"read@example.com", "closed@example.com", "purged@example.com", "open@example.com"} {
		register(t, s, newMail(t, mid, "alice@example.com", t0, "bob@example.net"), t0)
	}
	before := countKeys(t, s, bucketByDue)
	apply(t, s, t0.Add(time.Hour), mdn("read@example.com", "bob@example.net", report.DispositionDisplayed, "mdn-1", t0.Add(time.Hour)))
	if m := mustMail(t, s, "read@example.com"); !wakeUp(&m).IsZero() {
		t.Fatalf("read mail wakes at %v, want never (the test needs a receipt that ends the wait)", wakeUp(&m))
	}
	for _, mid := range []string{"closed@example.com", "purged@example.com"} {
		if _, err := s.CloseMail(ctx, mid, track.StateDone, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Purge(ctx, time.Minute, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mail(ctx, "purged@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("purged mail: %v, want ErrNotFound", err)
	}
	if got := countKeys(t, s, bucketByDue); got != before {
		t.Errorf("by_due holds %d entries after the waits ended, want the %d it held (stale ones are left to the sweep)", got, before)
	}
	mustCheck(t, s)

	res, err := s.SweepDue(ctx, t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Swept != 1 || len(res.Notices) != 1 || res.Notices[0].MessageID != "open@example.com" {
		t.Errorf("sweep: %d swept, notices %+v; want one reminder, for open@example.com", res.Swept, res.Notices)
	}
	if got := countKeys(t, s, bucketByDue); got != 0 {
		t.Errorf("by_due holds %d entries after the sweep, want 0", got)
	}
	mustCheck(t, s)
	if again, err := s.SweepDue(ctx, t0.Add(48*time.Hour)); err != nil || again.Swept != 0 || len(again.Notices) != 0 {
		t.Errorf("second sweep: %+v, %v; want nothing", again, err)
	}
}
