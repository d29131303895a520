package store

import (
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func reply(mid, from, replyID string, at time.Time) report.Report {
	return report.Report{Kind: report.KindReply, OriginalMessageID: mid, InReplyTo: mid, Recipient: from,
		ReportMessageID: replyID, Date: at, Subject: "Re: Quote"}
}

func away(mid, from, replyID string, until, at time.Time) report.Report {
	r := reply(mid, from, replyID, at)
	r.Kind, r.AutoReply, r.AwayUntil = report.KindAutoReply, report.AutoReplyAway, until
	return r
}

// TestApplyAnswers stores replies and automatic replies: a colleague's
// reply answers for the domain, the same reply read twice changes
// nothing, the sender's own follow-up is not applied, an answer to
// untracked mail waits as an orphan, and the evidence keeps who answered
// and when.
func TestApplyAnswers(t *testing.T) {
	s := openTest(t, Options{})
	m := newMail(t, "a1@example.com", "alice@example.com", t0, "suzuki@partner.example", "yamada@partner.example", "lee@other.example")
	register(t, s, m, t0)
	now := t0.Add(time.Hour)
	colleague := reply("a1@example.com", "kato@partner.example", "re1@partner.example", now)
	res := apply(t, s, now, colleague,
		reply("a1@example.com", "alice@example.com", "own@example.com", now),
		reply("other@example.com", "lee@other.example", "re2@other.example", now))
	if got, want := outcomes(res), []Outcome{OutcomeApplied, OutcomeIgnored, OutcomeOrphaned}; !slices.Equal(got, want) {
		t.Fatalf("outcomes = %v, want %v", got, want)
	}
	got := mustMail(t, s, "a1@example.com")
	for addr, want := range map[string]track.Status{"suzuki@partner.example": track.StatusReplied, "yamada@partner.example": track.StatusReplied, "lee@other.example": track.StatusPending} {
		if r := recipient(t, got, addr); r.Status != want {
			t.Errorf("%s status = %s, want %s", addr, r.Status, want)
		}
	}
	if r := recipient(t, got, "suzuki@partner.example"); r.AnsweredBy != "kato@partner.example" {
		t.Errorf("suzuki answered by %q, want kato@partner.example", r.AnsweredBy)
	}
	if n := len(res.Notices); n != 2 || res.Notices[0].Kind != track.NoticeReplied {
		t.Errorf("notices = %+v, want two replied notices", res.Notices)
	}
	evs, err := s.Evidence(t.Context(), "a1@example.com")
	if err != nil || len(evs) != 2 {
		t.Fatalf("Evidence() = %d, %v; want 2 (one per recipient answered for)", len(evs), err)
	}
	for _, ev := range evs {
		if ev.Source != track.SourceReply || ev.ReplyID != "re1@partner.example" || ev.Reported != "kato@partner.example" || !ev.At.Equal(now) {
			t.Errorf("evidence %+v, want a reply re1@partner.example by kato at %v", ev, now)
		}
	}

	again := apply(t, s, now.Add(time.Hour), colleague)
	if got := outcomes(again); !slices.Equal(got, []Outcome{OutcomeDuplicate}) || len(again.Notices) != 0 {
		t.Errorf("the same reply again: outcomes %v, %d notices; want duplicate and none", got, len(again.Notices))
	}
	if n := countEvidence(t, s); n != 2 {
		t.Errorf("evidence after the reply read twice = %d, want 2", n)
	}
	mustCheck(t, s)
}

// TestAwayMovesSweep checks that an out-of-office notice moves the
// recipient's deadline in the by_due index: the mail's sweep passes them
// over, and the moved deadline reminds the sender once.
func TestAwayMovesSweep(t *testing.T) {
	s := openTest(t, Options{})
	m := newMail(t, "a2@example.com", "alice@example.com", t0, "suzuki@partner.example", "lee@other.example")
	register(t, s, m, t0)
	until := time.Date(t0.Year(), t0.Month(), t0.Day()+3, 0, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	res := apply(t, s, now, away("a2@example.com", "suzuki@partner.example", "oof@partner.example", until, now))
	if got := outcomes(res); !slices.Equal(got, []Outcome{OutcomeApplied}) {
		t.Fatalf("outcomes = %v", got)
	}
	moved := until.AddDate(0, 0, 1).Add(24 * time.Hour)
	if r := recipient(t, mustMail(t, s, "a2@example.com"), "suzuki@partner.example"); r.Status != track.StatusAway || !r.DueAt.Equal(moved) {
		t.Fatalf("suzuki = %s due %v, want away due %v", r.Status, r.DueAt, moved)
	}
	sw, err := s.SweepDue(t.Context(), m.DueAt)
	if err != nil || len(sw.Notices) != 1 || sw.Notices[0].Recipient != "lee@other.example" {
		t.Fatalf("SweepDue(mail deadline) = %+v, %v; want one notice, for lee", sw.Notices, err)
	}
	if sw, err := s.SweepDue(t.Context(), moved.Add(-time.Second)); err != nil || len(sw.Notices) != 0 {
		t.Fatalf("SweepDue(before the moved deadline) = %+v, %v; want none", sw.Notices, err)
	}
	sw, err = s.SweepDue(t.Context(), moved)
	if err != nil || len(sw.Notices) != 1 || sw.Notices[0].Recipient != "suzuki@partner.example" {
		t.Fatalf("SweepDue(moved deadline) = %+v, %v; want one notice, for suzuki", sw.Notices, err)
	}
	if sw, err := s.SweepDue(t.Context(), moved.Add(time.Hour)); err != nil || len(sw.Notices) != 0 || sw.Swept != 0 {
		t.Errorf("SweepDue(again) = %+v, %v; want nothing", sw, err)
	}
	mustCheck(t, s)
}

// TestApplyAnswerFromStranger keeps an answer from an address that stands
// for no recipient with its mail, changing nothing, once.
func TestApplyAnswerFromStranger(t *testing.T) {
	s := openTest(t, Options{})
	m := newMail(t, "a3@example.com", "alice@example.com", t0, "suzuki@partner.example", "lee@other.example")
	register(t, s, m, t0)
	now := t0.Add(time.Hour)
	r := reply("a3@example.com", "someone@elsewhere.example", "re9@elsewhere.example", now)
	for i, want := range []Outcome{OutcomeUnknownRecipient, OutcomeDuplicate} {
		res := apply(t, s, now, r)
		if got := outcomes(res); !slices.Equal(got, []Outcome{want}) || len(res.Notices) != 0 {
			t.Errorf("reading %d: outcomes %v, %d notices; want %v and none", i+1, got, len(res.Notices), want)
		}
	}
	got := mustMail(t, s, "a3@example.com")
	for _, rc := range got.Recipients {
		if rc.Status != track.StatusPending {
			t.Errorf("%s = %s, want pending", rc.Address, rc.Status)
		}
	}
	if n := countEvidence(t, s); n != 1 {
		t.Errorf("evidence = %d, want the answer kept once", n)
	}
}

// TestAnswerBeforeItsMail: a reply read before its mail is registered (the
// inbox read before the Sent folder) waits as an orphan scoped to the
// mailbox it was read from; registering the mail applies it as if read
// after. A reply read from another sender's mailbox is never adopted, a
// reply by subject alone is not kept, and answer orphans expire after
// track.AnswerOrphanMaxAge while report orphans stay for the store's age.
func TestAnswerBeforeItsMail(t *testing.T) {
	s := openTest(t, Options{})
	alice := &track.ReportScope{Senders: []string{"alice@example.com"}}
	bobs := &track.ReportScope{Senders: []string{"bob@example.com"}}
	now := t0.Add(time.Hour)
	applyScoped := func(scope *track.ReportScope, at time.Time, rs ...report.Report) ApplyResult {
		t.Helper()
		res, err := s.ApplyReport(t.Context(), ApplyInput{Reports: rs, Scope: scope, Now: at})
		if err != nil {
			t.Fatalf("ApplyReport() = %v", err)
		}
		return res
	}
	early := reply("b1@example.com", "suzuki@partner.example", "re1@partner.example", now)
	noThread := early
	noThread.OriginalMessageID, noThread.InReplyTo, noThread.ReportMessageID = "", "", "re0@partner.example"
	res := applyScoped(alice, now, early, noThread)
	if got, want := outcomes(res), []Outcome{OutcomeOrphaned, OutcomeIgnored}; !slices.Equal(got, want) {
		t.Fatalf("outcomes = %v, want %v", got, want)
	}
	again := applyScoped(alice, now.Add(time.Minute), early)
	if got := outcomes(again); !slices.Equal(got, []Outcome{OutcomeDuplicate}) {
		t.Errorf("the same early reply again: outcomes %v, want duplicate", got)
	}
	// Bob's mailbox holds a reply naming a mail of Alice's.
	applyScoped(bobs, now, reply("b2@example.com", "lee@other.example", "re2@other.example", now))

	reg := register(t, s, newMail(t, "b1@example.com", "alice@example.com", t0, "suzuki@partner.example"), now.Add(time.Hour))
	if !slices.Equal(reg.Adopted, []string{track.EvidenceID(early)}) || len(reg.Notices) != 1 || reg.Notices[0].Kind != track.NoticeReplied {
		t.Errorf("RegisterMail() adopted %v with notices %+v, want the early reply and one replied notice", reg.Adopted, reg.Notices)
	}
	if r := recipient(t, mustMail(t, s, "b1@example.com"), "suzuki@partner.example"); r.Status != track.StatusReplied {
		t.Errorf("suzuki status after registration = %s, want %s", r.Status, track.StatusReplied)
	}
	evs, err := s.Evidence(t.Context(), "b1@example.com")
	if err != nil || len(evs) != 1 || evs[0].ReplyID != "re1@partner.example" || evs[0].Via != track.ViaMessageID {
		t.Errorf("Evidence() = %+v, %v; want the reply re1@partner.example bound by its Message-ID", evs, err)
	}
	if got := outcomes(applyScoped(alice, now.Add(2*time.Hour), early)); !slices.Equal(got, []Outcome{OutcomeDuplicate}) {
		t.Errorf("the adopted reply read again: outcomes %v, want duplicate", got)
	}

	reg = register(t, s, newMail(t, "b2@example.com", "alice@example.com", t0, "lee@other.example"), now.Add(time.Hour))
	if len(reg.Adopted) != 0 {
		t.Errorf("RegisterMail(b2) adopted %v from Bob's mailbox, want nothing", reg.Adopted)
	}

	// A report orphan and the answer orphan left: only the answer goes
	// after a day, though orphans are kept 30 days.
	apply(t, s, now, dsn("never@example.com", "x@partner.example", report.ActionDelivered, "dsn1@mx", now))
	if n, err := s.ExpireOrphans(t.Context(), now.Add(track.AnswerOrphanMaxAge-time.Minute), 30*24*time.Hour); err != nil || n != 0 {
		t.Errorf("ExpireOrphans(before a day) = %d, %v; want 0", n, err)
	}
	if n, err := s.ExpireOrphans(t.Context(), now.Add(track.AnswerOrphanMaxAge+time.Minute), 30*24*time.Hour); err != nil || n != 1 {
		t.Errorf("ExpireOrphans(after a day) = %d, %v; want 1, the answer", n, err)
	}
	left, err := s.Orphans(t.Context(), 0)
	if err != nil || len(left) != 1 || left[0].Evidence.Source != track.SourceDSN {
		t.Errorf("Orphans() = %+v, %v; want the report orphan alone", left, err)
	}
	mustCheck(t, s)
}
