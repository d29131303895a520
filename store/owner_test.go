package store

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// A Message-ID belongs to the sender that registered it first: another
// sender registering it (a copy of Bob's mail in Alice's Sent folder) is
// refused without showing or changing Bob's mail, while the checkpoint of
// the folder the copy was read from still advances.
func TestRegisterMailRefusesAnotherSender(t *testing.T) {
	s := openTest(t, Options{})
	bobs := newMail(t, "b1@example.com", "bob@example.com", t0, "carol@example.org")
	register(t, s, bobs, t0)
	before := mustMail(t, s, "b1@example.com")

	copyOf := newMail(t, "b1@example.com", "alice@example.com", t0.Add(time.Minute), "carol@example.org", "dave@example.org")
	cp := &Checkpoint{Account: "alice", Folder: "Sent", UIDValidity: 7, UID: 3}
	res, err := s.RegisterMail(t.Context(), RegisterInput{Mail: copyOf, Now: t0.Add(time.Hour), Checkpoint: cp})
	if !errors.Is(err, track.ErrOtherSender) {
		t.Fatalf("RegisterMail(bob's Message-ID as alice) = %v, want ErrOtherSender", err)
	}
	if res.Mail.MessageID != "" || len(res.Mail.Recipients) != 0 || res.Mail.Subject != "" {
		t.Errorf("refused registration returned %+v, want nothing of bob's mail", res.Mail)
	}
	after := mustMail(t, s, "b1@example.com")
	if after.Sender != "bob@example.com" || len(after.Recipients) != 1 || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("bob's mail after alice's registration = %+v, want unchanged", after)
	}
	got, err := s.Checkpoint(t.Context(), "alice", "Sent")
	if err != nil || got.UID != 3 {
		t.Errorf("checkpoint after a refused registration = %+v, %v; want UID 3", got, err)
	}
	if ms, err := s.ListBySender(t.Context(), "alice@example.com", ListFilter{}, 0); err != nil || len(ms) != 0 {
		t.Errorf("alice's mails = %d, %v; want none", len(ms), err)
	}
	// The owner registering it again is no error and changes nothing.
	if res := register(t, s, bobs, t0.Add(2*time.Hour)); !res.Existed || res.Mail.Sender != "bob@example.com" {
		t.Errorf("bob registering again = %+v, want his mail, existed", res)
	}
	mustCheck(t, s)
}

func applyFrom(t testing.TB, s *Store, scope *track.ReportScope, now time.Time, rs ...report.Report) ApplyResult {
	t.Helper()
	res, err := s.ApplyReport(t.Context(), ApplyInput{Reports: rs, Scope: scope, Now: now})
	if err != nil {
		t.Fatalf("ApplyReport(%d reports from %v) = %v", len(rs), scope, err)
	}
	return res
}

var (
	aliceBox  = &track.ReportScope{Account: "alice", Senders: []string{"alice@example.com"}}
	bobBox    = &track.ReportScope{Account: "bob", Senders: []string{"bob@example.com"}}
	sharedBox = &track.ReportScope{Account: "receipts", Senders: []string{"receipts@example.com", "@example.com"}}
)

// A report read from a mailbox that may not report on the mail's sender
// is refused and stored nowhere, so the same report read from the
// sender's own mailbox or a shared one for the domain still counts.
func TestApplyReportRefusesReportsFromAnotherMailbox(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "b1@example.com", "bob@example.com", t0, "carol@example.org"), t0)
	register(t, s, newMail(t, "b2@example.com", "bob@example.com", t0, "carol@example.org"), t0)
	read := mdn("b1@example.com", "carol@example.org", report.DispositionDisplayed, "r1@example.org", t0.Add(time.Hour))
	bounced := dsn("b1@example.com", "carol@example.org", report.ActionFailed, "r2@mx", t0.Add(time.Hour))

	res := applyFrom(t, s, aliceBox, t0.Add(time.Hour), read, bounced)
	if got, want := outcomes(res), []Outcome{OutcomeUnauthorized, OutcomeUnauthorized}; !slices.Equal(got, want) {
		t.Fatalf("outcomes from alice's inbox = %v, want %v", got, want)
	}
	if res.Items[0].MessageID != "" || len(res.Notices) != 0 {
		t.Errorf("refused reports named %q and caused %d notices, want nothing", res.Items[0].MessageID, len(res.Notices))
	}
	if r := recipient(t, mustMail(t, s, "b1@example.com"), "carol@example.org"); r.Status != track.StatusPending {
		t.Errorf("carol after reports in alice's inbox = %s, want pending", r.Status)
	}
	if n := countEvidence(t, s); n != 0 || countKeys(t, s, bucketOrphans) != 0 || len(pending(t, s)) != 0 {
		t.Errorf("refused reports left %d evidence, %d orphans, %d notices; want none", n, countKeys(t, s, bucketOrphans), len(pending(t, s)))
	}

	res = applyFrom(t, s, bobBox, t0.Add(2*time.Hour), read)
	if got := outcomes(res); !slices.Equal(got, []Outcome{OutcomeApplied}) || len(res.Notices) != 1 {
		t.Fatalf("the same receipt from bob's inbox = %v with %d notices, want applied with 1", got, len(res.Notices))
	}
	if r := recipient(t, mustMail(t, s, "b1@example.com"), "carol@example.org"); r.Status != track.StatusRead {
		t.Errorf("carol after the receipt in bob's inbox = %s, want read", r.Status)
	}
	other := mdn("b2@example.com", "carol@example.org", report.DispositionDisplayed, "r3@example.org", t0.Add(time.Hour))
	if got := outcomes(applyFrom(t, s, sharedBox, t0.Add(3*time.Hour), other)); !slices.Equal(got, []Outcome{OutcomeApplied}) {
		t.Errorf("receipt from the shared mailbox for @example.com = %v, want applied", got)
	}
	mustCheck(t, s)
}

// A report whose mail is not tracked yet keeps its mailbox: adopted by
// the mail when that mailbox may report on it, not otherwise; the same
// report read from the owner's mailbox later still counts.
func TestOrphansKeepTheirMailbox(t *testing.T) {
	t.Run("adopted when the mailbox covers the sender", func(t *testing.T) {
		s := openTest(t, Options{})
		applyFrom(t, s, bobBox, t0, mdn("b1@example.com", "carol@example.org", report.DispositionDisplayed, "r1@example.org", t0))
		res := register(t, s, newMail(t, "b1@example.com", "bob@example.com", t0, "carol@example.org"), t0.Add(time.Minute))
		if len(res.Adopted) != 1 || recipient(t, res.Mail, "carol@example.org").Status != track.StatusRead {
			t.Errorf("registration adopted %v, carol %s; want the receipt, read", res.Adopted, recipient(t, res.Mail, "carol@example.org").Status)
		}
		mustCheck(t, s)
	})
	t.Run("not adopted from another mailbox, applied from the owner's", func(t *testing.T) {
		s := openTest(t, Options{})
		read := mdn("b1@example.com", "carol@example.org", report.DispositionDisplayed, "r1@example.org", t0)
		applyFrom(t, s, aliceBox, t0, read)
		res := register(t, s, newMail(t, "b1@example.com", "bob@example.com", t0, "carol@example.org"), t0.Add(time.Minute))
		if len(res.Adopted) != 0 || recipient(t, res.Mail, "carol@example.org").Status != track.StatusPending {
			t.Fatalf("registration adopted %v from alice's inbox, want nothing", res.Adopted)
		}
		if got := outcomes(applyFrom(t, s, aliceBox, t0.Add(2*time.Minute), read)); !slices.Equal(got, []Outcome{OutcomeUnauthorized}) {
			t.Errorf("the receipt read again from alice's inbox = %v, want unauthorized", got)
		}
		if got := outcomes(applyFrom(t, s, bobBox, t0.Add(3*time.Minute), read)); !slices.Equal(got, []Outcome{OutcomeApplied}) {
			t.Fatalf("the receipt from bob's inbox = %v, want applied", got)
		}
		if r := recipient(t, mustMail(t, s, "b1@example.com"), "carol@example.org"); r.Status != track.StatusRead {
			t.Errorf("carol = %s, want read", r.Status)
		}
		if n := countKeys(t, s, bucketOrphans); n != 0 {
			t.Errorf("%d orphans left, want the applied one gone", n)
		}
		mustCheck(t, s)
	})
	t.Run("read from two mailboxes before its mail", func(t *testing.T) {
		s := openTest(t, Options{})
		read := mdn("b1@example.com", "carol@example.org", report.DispositionDisplayed, "r1@example.org", t0)
		applyFrom(t, s, aliceBox, t0, read)
		if got := outcomes(applyFrom(t, s, bobBox, t0, read)); !slices.Equal(got, []Outcome{OutcomeDuplicate}) {
			t.Errorf("second copy = %v, want duplicate", got)
		}
		res := register(t, s, newMail(t, "b1@example.com", "bob@example.com", t0, "carol@example.org"), t0.Add(time.Minute))
		if len(res.Adopted) != 1 || recipient(t, res.Mail, "carol@example.org").Status != track.StatusRead {
			t.Errorf("registration adopted %v; want the receipt bob's inbox also held", res.Adopted)
		}
		mustCheck(t, s)
	})
}

// Subject correlation considers only the mail the mailbox may report on:
// another sender's mail with the same subject neither takes the report
// nor makes the match ambiguous.
func TestSubjectMatchWithinScope(t *testing.T) {
	s := openTest(t, Options{CorrelationWindow: 72 * time.Hour})
	a := newMail(t, "a1@example.com", "alice@example.com", t0, "carol@example.org")
	b := newMail(t, "b1@example.com", "bob@example.com", t0, "carol@example.org")
	b.Subject = a.Subject
	register(t, s, a, t0)
	register(t, s, b, t0)
	r := report.Report{Kind: report.KindMDN, Disposition: report.DispositionDisplayed, Recipient: "carol@example.org",
		Subject: "Read: " + a.Subject, ReportMessageID: "r1@example.org", Date: t0.Add(time.Hour)}
	res := applyFrom(t, s, aliceBox, t0.Add(time.Hour), r)
	if got := outcomes(res); !slices.Equal(got, []Outcome{OutcomeApplied}) || res.Items[0].MessageID != "a1@example.com" {
		t.Fatalf("subject match from alice's inbox = %v on %q, want applied to a1", got, res.Items[0].MessageID)
	}
	if st := recipient(t, mustMail(t, s, "b1@example.com"), "carol@example.org").Status; st != track.StatusPending {
		t.Errorf("bob's mail = %s, want pending", st)
	}
	mustCheck(t, s)
}

// An answer read from a mailbox that may not report on the mail's sender
// (a reply planted in Alice's inbox naming Bob's mail, or a reply-all
// copy there) is refused like a report: Bob's wait goes on until the
// answer is read from his own mailbox.
func TestApplyAnswerRefusedFromAnotherMailbox(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "b1@example.com", "bob@example.com", t0, "carol@example.org"), t0)
	now := t0.Add(time.Hour)
	answered := reply("b1@example.com", "carol@example.org", "re1@example.org", now)
	res := applyFrom(t, s, aliceBox, now, answered, away("b1@example.com", "carol@example.org", "oof1@example.org", t0.AddDate(0, 0, 7), now))
	if got, want := outcomes(res), []Outcome{OutcomeUnauthorized, OutcomeUnauthorized}; !slices.Equal(got, want) {
		t.Fatalf("answers from alice's inbox = %v, want %v", got, want)
	}
	if r := recipient(t, mustMail(t, s, "b1@example.com"), "carol@example.org"); r.Status != track.StatusPending || len(res.Notices) != 0 {
		t.Errorf("carol after answers in alice's inbox = %s with %d notices, want pending and none", r.Status, len(res.Notices))
	}
	if n := countEvidence(t, s); n != 0 || countKeys(t, s, bucketOrphans) != 0 {
		t.Errorf("refused answers left %d evidence and %d orphans, want none", n, countKeys(t, s, bucketOrphans))
	}
	if got := outcomes(applyFrom(t, s, bobBox, now, answered)); !slices.Equal(got, []Outcome{OutcomeApplied}) {
		t.Fatalf("the reply from bob's inbox = %v, want applied", got)
	}
	if r := recipient(t, mustMail(t, s, "b1@example.com"), "carol@example.org"); r.Status != track.StatusReplied {
		t.Errorf("carol after the reply in bob's inbox = %s, want replied", r.Status)
	}
	mustCheck(t, s)
}
