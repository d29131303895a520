package store

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func TestApplyReportUpdatesMailEvidenceAndOutbox(t *testing.T) {
	s := openTest(t, Options{})
	m := newMail(t, "a1@example.com", "alice@example.com", t0, "bob@example.net", "carol@example.org")
	register(t, s, m, t0)

	now := t0.Add(time.Hour)
	res := apply(t, s, now,
		dsn("<a1@example.com>", "bob@example.net", report.ActionDelivered, "r1@mx.example.net", now),
		mdn("a1@example.com", "carol@example.org", report.DispositionDisplayed, "r2@example.org", now),
	)
	if got, want := outcomes(res), []Outcome{OutcomeApplied, OutcomeApplied}; !slices.Equal(got, want) {
		t.Fatalf("ApplyReport outcomes = %v, want %v", got, want)
	}
	got := mustMail(t, s, "a1@example.com")
	if r := recipient(t, got, "bob@example.net"); r.Status != track.StatusDelivered {
		t.Errorf("bob status = %s, want %s", r.Status, track.StatusDelivered)
	}
	if r := recipient(t, got, "carol@example.org"); r.Status != track.StatusRead {
		t.Errorf("carol status = %s, want %s", r.Status, track.StatusRead)
	}
	evs, err := s.Evidence(t.Context(), "a1@example.com")
	if err != nil || len(evs) != 2 {
		t.Fatalf("Evidence() = %d items, %v; want 2", len(evs), err)
	}
	items := pending(t, s)
	if len(items) != 2 || len(res.Notices) != 2 {
		t.Fatalf("outbox holds %d items, result %d notices; want 2 and 2", len(items), len(res.Notices))
	}
	if items[0].Seq >= items[1].Seq || items[0].Notice.MessageID != "a1@example.com" {
		t.Errorf("outbox = %+v, want two notices of a1 in sequence", items)
	}
	mustCheck(t, s)
}

func TestApplySameReportTwiceIsNoOp(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "a1@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	r := mdn("a1@example.com", "bob@example.net", report.DispositionDisplayed, "r1@example.net", t0.Add(time.Hour))

	first := apply(t, s, t0.Add(time.Hour), r)
	before := mustMail(t, s, "a1@example.com")
	second := apply(t, s, t0.Add(2*time.Hour), r, r)
	if got, want := outcomes(second), []Outcome{OutcomeDuplicate, OutcomeDuplicate}; !slices.Equal(got, want) {
		t.Errorf("second apply outcomes = %v, want %v", got, want)
	}
	if len(first.Notices) != 1 || len(second.Notices) != 0 {
		t.Errorf("notices = %d then %d, want 1 then 0", len(first.Notices), len(second.Notices))
	}
	if second.Items[0].MessageID != "a1@example.com" {
		t.Errorf("duplicate names mail %q, want a1@example.com", second.Items[0].MessageID)
	}
	if n := countEvidence(t, s); n != 1 {
		t.Errorf("evidence holds %d items, want 1", n)
	}
	if n := len(pending(t, s)); n != 1 {
		t.Errorf("outbox holds %d items, want 1", n)
	}
	if after := mustMail(t, s, "a1@example.com"); !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("duplicate changed UpdatedAt from %v to %v", before.UpdatedAt, after.UpdatedAt)
	}
	mustCheck(t, s)
}

func TestApplyDuplicateWithinOneInput(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "a1@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	r := dsn("a1@example.com", "bob@example.net", report.ActionFailed, "r1@mx", t0)
	res := apply(t, s, t0.Add(time.Minute), r, r)
	if got, want := outcomes(res), []Outcome{OutcomeApplied, OutcomeDuplicate}; !slices.Equal(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	if len(res.Notices) != 1 || res.Notices[0].Kind != track.NoticeBounced {
		t.Errorf("notices = %+v, want one bounce", res.Notices)
	}
}

func TestOrphanAdoptedWhenMailRegistered(t *testing.T) {
	s := openTest(t, Options{})
	now := t0.Add(time.Hour)
	res := apply(t, s, now, mdn("late@example.com", "bob@example.net", report.DispositionDisplayed, "r1@example.net", now))
	if got := outcomes(res); !slices.Equal(got, []Outcome{OutcomeOrphaned}) {
		t.Fatalf("outcomes = %v, want [orphaned]", got)
	}
	orphans, err := s.Orphans(t.Context(), 0)
	if err != nil || len(orphans) != 1 {
		t.Fatalf("Orphans() = %d, %v; want 1", len(orphans), err)
	}
	mustCheck(t, s)
	// The same receipt read again stays one orphan.
	if res := apply(t, s, now, mdn("late@example.com", "bob@example.net", report.DispositionDisplayed, "r1@example.net", now)); res.Items[0].Outcome != OutcomeDuplicate {
		t.Errorf("re-read orphan outcome = %s, want duplicate", res.Items[0].Outcome)
	}

	reg := register(t, s, newMail(t, "late@example.com", "alice@example.com", t0, "bob@example.net"), now.Add(time.Minute))
	if !slices.Equal(reg.Adopted, []string{orphans[0].Evidence.ID}) {
		t.Errorf("Adopted = %v, want [%s]", reg.Adopted, orphans[0].Evidence.ID)
	}
	if len(reg.Notices) != 1 || reg.Notices[0].To != track.StatusRead {
		t.Errorf("notices = %+v, want one read notice", reg.Notices)
	}
	if r := recipient(t, reg.Mail, "bob@example.net"); r.Status != track.StatusRead {
		t.Errorf("bob status = %s, want read", r.Status)
	}
	evs, err := s.Evidence(t.Context(), "late@example.com")
	if err != nil || len(evs) != 1 || evs[0].Via != track.ViaMessageID || evs[0].MessageID != "late@example.com" {
		t.Errorf("Evidence() = %+v, %v; want the adopted receipt bound by message-id", evs, err)
	}
	if orphans, _ := s.Orphans(t.Context(), 0); len(orphans) != 0 {
		t.Errorf("%d orphans left, want 0", len(orphans))
	}
	mustCheck(t, s)
	// And read once more after adoption: still a duplicate.
	if res := apply(t, s, now, mdn("late@example.com", "bob@example.net", report.DispositionDisplayed, "r1@example.net", now)); res.Items[0].Outcome != OutcomeDuplicate {
		t.Errorf("re-read adopted outcome = %s, want duplicate", res.Items[0].Outcome)
	}
}

func TestOrphanAdoptedBySubject(t *testing.T) {
	s := openTest(t, Options{})
	now := t0.Add(time.Hour)
	r := report.Report{
		Kind: report.KindMDN, Recipient: "bob+sales@example.net", Disposition: report.DispositionDisplayed,
		ReportMessageID: "r9@example.net", Date: now, Subject: "Read: Quote for s1@example.com",
	}
	if res := apply(t, s, now, r); res.Items[0].Outcome != OutcomeOrphaned {
		t.Fatalf("outcome = %s, want orphaned", res.Items[0].Outcome)
	}
	reg := register(t, s, newMail(t, "s1@example.com", "alice@example.com", t0, "bob@example.net"), now)
	if len(reg.Adopted) != 1 {
		t.Fatalf("Adopted = %v, want the receipt", reg.Adopted)
	}
	got := recipient(t, reg.Mail, "bob@example.net")
	if got.Status != track.StatusRead || got.Confidence != track.ConfidenceLow {
		t.Errorf("bob = %s/%s, want read/low", got.Status, got.Confidence)
	}
	mustCheck(t, s)
}

func TestCorrelation(t *testing.T) {
	s := openTest(t, Options{})
	m := newMail(t, "c1@example.com", "alice@example.com", t0, "bob@example.net")
	m.EnvelopeID = "env-1"
	register(t, s, m, t0)
	now := t0.Add(time.Hour)
	tests := []struct {
		name string
		r    report.Report
		want track.Via
	}{
		{"by envelope id", report.Report{Kind: report.KindDSN, EnvelopeID: "env-1", Recipient: "bob@example.net",
			Action: report.ActionDelayed, ReportMessageID: "e1@mx", Date: now}, track.ViaEnvelopeID},
		{"by in-reply-to", report.Report{Kind: report.KindMDN, InReplyTo: "c1@example.com", Recipient: "bob@example.net",
			Disposition: report.DispositionDisplayed, ReportMessageID: "e2@mx", Date: now}, track.ViaThread},
		{"by subject", report.Report{Kind: report.KindMDN, Subject: "Read: quote for c1@example.com", Recipient: "Bob@Example.net",
			Disposition: report.DispositionDeleted, ReportMessageID: "e3@mx", Date: now}, track.ViaSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := apply(t, s, now, tt.r)
			if res.Items[0].Outcome != OutcomeApplied || res.Items[0].MessageID != "c1@example.com" {
				t.Fatalf("ApplyReport = %+v, want applied to c1@example.com", res.Items)
			}
			evs, err := s.Evidence(t.Context(), "c1@example.com")
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(evs, func(e track.Evidence) bool { return e.ID == res.Items[0].EvidenceID })
			if i < 0 || evs[i].Via != tt.want {
				t.Errorf("evidence via = %v, want %s", evs, tt.want)
			}
		})
	}
	mustCheck(t, s)
}

func TestSubjectOutsideWindowIsOrphan(t *testing.T) {
	s := openTest(t, Options{CorrelationWindow: 24 * time.Hour})
	register(t, s, newMail(t, "w1@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	now := t0.Add(72 * time.Hour)
	r := report.Report{Kind: report.KindMDN, Subject: "Read: Quote for w1@example.com", Recipient: "bob@example.net",
		Disposition: report.DispositionDisplayed, ReportMessageID: "x@mx", Date: now}
	if res := apply(t, s, now, r); res.Items[0].Outcome != OutcomeOrphaned {
		t.Errorf("outcome = %s, want orphaned (mail sent before the window)", res.Items[0].Outcome)
	}
}

func TestUnknownRecipientKeepsEvidence(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "u1@example.com", "alice@example.com", t0, "bob@example.net", "carol@example.net"), t0)
	res := apply(t, s, t0, dsn("u1@example.com", "dave@example.net", report.ActionFailed, "u@mx", t0))
	if res.Items[0].Outcome != OutcomeUnknownRecipient || len(res.Notices) != 0 {
		t.Fatalf("ApplyReport = %+v, want unknown_recipient and no notice", res)
	}
	evs, _ := s.Evidence(t.Context(), "u1@example.com")
	if len(evs) != 1 || evs[0].Recipient != "dave@example.net" {
		t.Errorf("Evidence() = %+v, want the report about dave", evs)
	}
	if again := apply(t, s, t0, dsn("u1@example.com", "dave@example.net", report.ActionFailed, "u@mx", t0)); again.Items[0].Outcome != OutcomeDuplicate {
		t.Errorf("again: outcome %s, want duplicate", again.Items[0].Outcome)
	}
	mustCheck(t, s)
}

func TestIgnoredReportStoresNothing(t *testing.T) {
	s := openTest(t, Options{})
	cp := &Checkpoint{Account: "a", Folder: "INBOX", UIDValidity: 7, UID: 3}
	res, err := s.ApplyReport(t.Context(), ApplyInput{Reports: []report.Report{{Kind: report.KindNone}}, Checkpoint: cp, Now: t0})
	if err != nil || res.Items[0].Outcome != OutcomeIgnored {
		t.Fatalf("ApplyReport = %+v, %v; want ignored", res, err)
	}
	if n := countKeys(t, s, bucketEvidenceIDs); n != 0 {
		t.Errorf("evidence_ids holds %d, want 0", n)
	}
	if got, err := s.Checkpoint(t.Context(), "a", "INBOX"); err != nil || got.UID != 3 {
		t.Errorf("Checkpoint() = %+v, %v; want UID 3", got, err)
	}
}

func TestPixelAndChatEvidence(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "p1@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	now := t0.Add(time.Hour)
	pix := track.PixelEvidence("hit-1", "<p1@example.com>", "bob@example.net", now, false)
	res, err := s.ApplyReport(t.Context(), ApplyInput{Evidence: []track.Evidence{pix, pix}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outcomes(res), []Outcome{OutcomeApplied, OutcomeDuplicate}; !slices.Equal(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	ack := track.ChatEvidence("p1@example.com", "bob@example.net", "action-1", now)
	if _, err := s.ApplyReport(t.Context(), ApplyInput{Evidence: []track.Evidence{ack}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if r := recipient(t, mustMail(t, s, "p1@example.com"), "bob@example.net"); r.Status != track.StatusAcknowledged {
		t.Errorf("bob status = %s, want acknowledged", r.Status)
	}
	// A pixel for a mail not tracked waits as an orphan.
	stray := track.PixelEvidence("hit-2", "p2@example.com", "bob@example.net", now, false)
	res, err = s.ApplyReport(t.Context(), ApplyInput{Evidence: []track.Evidence{stray}, Now: now})
	if err != nil || res.Items[0].Outcome != OutcomeOrphaned {
		t.Fatalf("stray pixel = %+v, %v; want orphaned", res, err)
	}
	reg := register(t, s, newMail(t, "p2@example.com", "alice@example.com", t0, "bob@example.net"), now)
	if r := recipient(t, reg.Mail, "bob@example.net"); r.Status != track.StatusOpened {
		t.Errorf("adopted pixel: bob status = %s, want opened", r.Status)
	}
	mustCheck(t, s)
}

func TestCheckpointAdvancesOnlyWithTheReport(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "k1@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	cp := &Checkpoint{Account: "work", Folder: "INBOX", UIDValidity: 9, UID: 41, ModSeq: 100}
	if _, err := s.ApplyReport(t.Context(), ApplyInput{
		Reports:    []report.Report{dsn("k1@example.com", "bob@example.net", report.ActionDelivered, "k@mx", t0)},
		Checkpoint: cp, Now: t0,
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Checkpoint(t.Context(), "work", "INBOX")
	if err != nil || got.UID != 41 || got.ModSeq != 100 || got.UIDValidity != 9 {
		t.Fatalf("Checkpoint() = %+v, %v; want uidvalidity 9 uid 41 modseq 100", got, err)
	}

	// An input that fails stores nothing, checkpoint included.
	bad := track.Evidence{ID: "bad-1", MessageID: "k1@example.com", Recipient: "bob@example.net", Signal: "bogus"}
	_, err = s.ApplyReport(t.Context(), ApplyInput{
		Reports:    []report.Report{mdn("k1@example.com", "bob@example.net", report.DispositionDisplayed, "k2@mx", t0)},
		Evidence:   []track.Evidence{bad},
		Checkpoint: &Checkpoint{Account: "work", Folder: "INBOX", UIDValidity: 9, UID: 42},
		Now:        t0,
	})
	if !errors.Is(err, track.ErrInvalidEvidence) {
		t.Fatalf("ApplyReport(bad evidence) = %v, want track.ErrInvalidEvidence", err)
	}
	if got, _ := s.Checkpoint(t.Context(), "work", "INBOX"); got.UID != 41 {
		t.Errorf("after failed apply UID = %d, want 41", got.UID)
	}
	if r := recipient(t, mustMail(t, s, "k1@example.com"), "bob@example.net"); r.Status != track.StatusDelivered {
		t.Errorf("after failed apply bob = %s, want delivered", r.Status)
	}
	if n := countEvidence(t, s); n != 1 {
		t.Errorf("evidence holds %d, want 1", n)
	}
}

func TestConcurrentAppliers(t *testing.T) {
	s := openTest(t, Options{})
	const mails = 40
	for i := range mails {
		register(t, s, newMail(t, id(i), "alice@example.com", t0, "bob@example.net"), t0)
	}
	// 64 appliers; every report is applied by two of them.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := g % 32; i < mails; i += 32 {
				r := mdn(id(i), "bob@example.net", report.DispositionDisplayed, "rcpt-"+id(i), t0)
				if _, err := s.ApplyReport(t.Context(), ApplyInput{Reports: []report.Report{r}, Now: t0}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := countEvidence(t, s); n != mails {
		t.Errorf("evidence holds %d, want %d", n, mails)
	}
	if n := len(pending(t, s)); n != mails {
		t.Errorf("outbox holds %d, want %d", n, mails)
	}
	mustCheck(t, s)
}
