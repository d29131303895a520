package track

import (
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

func TestAdoptOrphans(t *testing.T) {
	rep := func(id string, k report.Kind, rcpt string, at time.Time) report.Report {
		r := report.Report{Kind: k, Recipient: rcpt, ReportMessageID: id, Date: at}
		if k == report.KindDSN {
			r.Action = report.ActionDelivered
		} else {
			r.Disposition = report.DispositionDisplayed
		}
		return r
	}
	byID := rep("r1@mx", report.KindDSN, bob, t0.Add(time.Minute))
	byID.OriginalMessageID = "<orig-1@example.com>"
	readByID := rep("r2@mua", report.KindMDN, bob, t0.Add(time.Hour))
	readByID.OriginalMessageID = "orig-1@example.com"
	byEnv := rep("r3@mx", report.KindDSN, "carol@example.org", t0.Add(time.Minute))
	byEnv.EnvelopeID = "ENV-1"
	byThread := rep("r4@mua", report.KindMDN, "carol+x@example.org", t0.Add(2*time.Hour))
	byThread.InReplyTo = "orig-1@example.com"
	bySubject := rep("r5@mua", report.KindMDN, "dave@example.net", t0.Add(time.Hour))
	bySubject.Subject = "Read: Quote for March"
	otherMail := rep("r6@mx", report.KindDSN, bob, t0)
	otherMail.OriginalMessageID = "other@example.com"
	stranger := rep("r7@mx", report.KindDSN, "zed@example.org", t0)
	stranger.OriginalMessageID = "orig-1@example.com"
	ownOpen := rep("r8@mua", report.KindMDN, "alice@example.com", t0)
	ownOpen.OriginalMessageID = "orig-1@example.com"

	// The receipt arrives before the delivery report; adoption orders them.
	orphans := []Orphan{}
	for _, r := range []report.Report{readByID, byID, byEnv, byThread, bySubject, otherMail, stranger, ownOpen} {
		orphans = append(orphans, OrphanFrom(r, t0.Add(3*time.Hour)))
	}

	m := newMail(t, receipts, bob, "carol+x@example.org", "dave@example.net")
	m.EnvelopeID = "ENV-1"
	now := t0.Add(4 * time.Hour)
	res, adopted := AdoptOrphans(m, orphans, now, 72*time.Hour)

	wantAdopted := []string{EvidenceID(ownOpen), EvidenceID(byID), EvidenceID(byEnv), EvidenceID(readByID), EvidenceID(bySubject), EvidenceID(byThread)}
	if !sameSet(adopted, wantAdopted) {
		t.Errorf("AdoptOrphans() adopted %d %v, want %d %v", len(adopted), adopted, len(wantAdopted), wantAdopted)
	}
	wantStatus := map[string]Status{bob: StatusRead, "carol+x@example.org": StatusRead, "dave@example.net": StatusRead}
	for addr, want := range wantStatus {
		if got := recipient(t, res.Mail, addr).Status; got != want {
			t.Errorf("AdoptOrphans() %s = %v, want %v", addr, got, want)
		}
	}
	if got := recipient(t, res.Mail, "dave@example.net").Confidence; got != ConfidenceLow {
		t.Errorf("AdoptOrphans() subject match confidence = %v, want %v", got, ConfidenceLow)
	}
	if got := noticeTos(res.Notices); !slices.Equal(got, []Status{StatusRead, StatusRead, StatusRead}) {
		t.Errorf("AdoptOrphans() notices = %v, want one read notice per recipient", got)
	}
	if !res.Changed || !res.Mail.UpdatedAt.Equal(now) {
		t.Errorf("AdoptOrphans() changed = %v at %v, want true at %v", res.Changed, res.Mail.UpdatedAt, now)
	}

	again, adoptedAgain := AdoptOrphans(res.Mail, orphans, now, 72*time.Hour)
	if again.Changed || len(again.Notices) != 0 || len(adoptedAgain) != len(wantAdopted) {
		t.Errorf("AdoptOrphans(again) = changed %v, %d notices, %d adopted, want unchanged, none, %d",
			again.Changed, len(again.Notices), len(adoptedAgain), len(wantAdopted))
	}
}

func TestAdoptOrphansWithoutWindow(t *testing.T) {
	r := report.Report{Kind: report.KindMDN, Disposition: report.DispositionDisplayed, Recipient: bob,
		Subject: "Read: Quote for March", ReportMessageID: "x@mua", Date: t0.Add(time.Hour)}
	m := newMail(t, receipts, bob)
	res, adopted := AdoptOrphans(m, []Orphan{OrphanFrom(r, t0)}, t0, 0)
	if res.Changed || len(adopted) != 0 {
		t.Errorf("AdoptOrphans(window 0) = changed %v, adopted %v, want nothing", res.Changed, adopted)
	}
}

func TestOrphanFrom(t *testing.T) {
	r := report.Report{
		Kind:              report.KindDSN,
		OriginalMessageID: "<Orig@Example.com>",
		EnvelopeID:        " ENV ",
		Recipient:         "Bob@Example.org",
		OriginalRecipient: "rfc822;robert@example.org",
		Action:            report.ActionFailed,
		Subject:           "Undeliverable: Quote",
		InReplyTo:         "<p@x>",
		References:        []string{"<g@x>", "<p@x>"},
	}
	o := OrphanFrom(r, t0)
	want := Keys{
		MessageID:         "Orig@example.com",
		EnvelopeID:        "ENV",
		Thread:            []string{"p@x"},
		Subject:           "Undeliverable: Quote",
		Recipient:         bob,
		OriginalRecipient: "robert@example.org",
		Date:              t0,
	}
	if got := o.Keys; got.MessageID != want.MessageID || got.EnvelopeID != want.EnvelopeID ||
		!slices.Equal(got.Thread, want.Thread) || got.Recipient != want.Recipient ||
		got.OriginalRecipient != want.OriginalRecipient || !got.Date.Equal(want.Date) {
		t.Errorf("OrphanFrom().Keys = %+v, want %+v", got, want)
	}
	if o.Evidence.ID != EvidenceID(r) || o.Evidence.Signal != StatusFailed || o.Evidence.MessageID != "" || o.Evidence.Recipient != bob {
		t.Errorf("OrphanFrom().Evidence = %+v, want unmatched failed evidence for %s", o.Evidence, bob)
	}
	if !o.Received.Equal(t0) {
		t.Errorf("OrphanFrom().Received = %v, want %v", o.Received, t0)
	}
}

func TestExpiredOrphan(t *testing.T) {
	o := Orphan{Received: t0}
	tests := []struct {
		name   string
		now    time.Time
		maxAge time.Duration
		want   bool
	}{
		{"fresh", t0.Add(time.Hour), 48 * time.Hour, false},
		{"at the limit", t0.Add(48 * time.Hour), 48 * time.Hour, false},
		{"expired", t0.Add(49 * time.Hour), 48 * time.Hour, true},
		{"no limit", t0.Add(10000 * time.Hour), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExpiredOrphan(o, tt.now, tt.maxAge); got != tt.want {
				t.Errorf("ExpiredOrphan(%v, %v) = %v, want %v", tt.now, tt.maxAge, got, tt.want)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestAdoptAnswerOrphans: replies and automatic replies read before their
// mail was registered are adopted as if read after it: a recipient's reply
// ends their wait, a colleague's stands for the recipients of its domain,
// the sender's own is consumed without effect, and a reply in another
// conversation or from another mailbox's scope stays.
func TestAdoptAnswerOrphans(t *testing.T) {
	reply := func(id, from string, refs ...string) report.Report {
		r := report.Report{Kind: report.KindReply, Recipient: from, ReportMessageID: id, Date: t0.Add(time.Hour)}
		if len(refs) > 0 {
			r.OriginalMessageID, r.References = refs[len(refs)-1], refs
		}
		return r
	}
	byBob := reply("re1@partner", bob, "<orig-1@example.com>")
	byColleague := reply("re2@corp", "erin@example.org", "<root@example.com>", "<orig-1@example.com>")
	own := reply("re3@example.com", "alice@example.com", "<orig-1@example.com>")
	elsewhere := reply("re4@partner", bob, "<other@example.com>")
	away := report.Report{Kind: report.KindAutoReply, AutoReply: report.AutoReplyAway, Recipient: "dave@example.net",
		ReportMessageID: "oof@example.net", OriginalMessageID: "orig-1@example.com", Date: t0.Add(time.Minute)}
	var orphans []Orphan
	for _, r := range []report.Report{byBob, byColleague, own, elsewhere, away} {
		o, ok := AnswerOrphan(r, t0.Add(2*time.Hour))
		if !ok {
			t.Fatalf("AnswerOrphan(%s) = false, want an orphan", r.ReportMessageID)
		}
		orphans = append(orphans, o)
	}
	scoped := orphans[0]
	scoped.Evidence.ID = "scoped"
	scoped.Scope = &ReportScope{Senders: []string{"someone@example.com"}}
	orphans = append(orphans, scoped)

	m := newMail(t, receipts, bob, "carol@example.org", "frank@example.org", "dave@example.net")
	res, adopted := AdoptOrphans(m, orphans, t0.Add(3*time.Hour), 72*time.Hour)
	want := []string{EvidenceID(byBob), EvidenceID(byColleague), EvidenceID(own), EvidenceID(away)}
	if !sameSet(adopted, want) {
		t.Errorf("AdoptOrphans() adopted %v, want %v", adopted, want)
	}
	for addr, want := range map[string]Status{bob: StatusReplied, "carol@example.org": StatusReplied, "frank@example.org": StatusReplied, "dave@example.net": StatusAway} {
		if got := recipient(t, res.Mail, addr).Status; got != want {
			t.Errorf("AdoptOrphans() %s = %v, want %v", addr, got, want)
		}
	}
	if got := recipient(t, res.Mail, "carol@example.org").AnsweredBy; got != "erin@example.org" {
		t.Errorf("AdoptOrphans() carol answered by %q, want erin@example.org", got)
	}
	if !res.Changed || len(res.Notices) == 0 {
		t.Errorf("AdoptOrphans() changed %v with %d notices, want a change and notices", res.Changed, len(res.Notices))
	}
}

func TestAnswerOrphan(t *testing.T) {
	bySubject := report.Report{Kind: report.KindReply, Recipient: bob, Subject: "Re: Quote for March"}
	if _, ok := AnswerOrphan(bySubject, t0); ok {
		t.Errorf("AnswerOrphan(reply without threading fields) = true, want false: kept by subject it would match any mail")
	}
	dsnReport := report.Report{Kind: report.KindDSN, Recipient: bob, OriginalMessageID: "orig-1@example.com", Action: report.ActionFailed}
	if _, ok := AnswerOrphan(dsnReport, t0); ok {
		t.Errorf("AnswerOrphan(DSN) = true, want false")
	}
	r := report.Report{Kind: report.KindReply, Recipient: "Bob@Example.org", ReportMessageID: "re@x", InReplyTo: "<A@Example.com>", References: []string{"<root@example.com>", "<A@Example.com>"}}
	o, ok := AnswerOrphan(r, t0)
	if !ok || !IsAnswerOrphan(o) || !slices.Equal(o.Keys.Thread, []string{"A@example.com", "root@example.com"}) || o.Keys.MessageID != "" || o.Keys.Subject != "" {
		t.Errorf("AnswerOrphan() = %+v, %v; want an answer orphan keyed by its thread alone", o.Keys, ok)
	}
}

func TestExpiredAnswerOrphan(t *testing.T) {
	o, ok := AnswerOrphan(report.Report{Kind: report.KindReply, Recipient: bob, InReplyTo: "a@example.com"}, t0)
	if !ok {
		t.Fatal("AnswerOrphan() = false")
	}
	tests := []struct {
		name   string
		now    time.Time
		maxAge time.Duration
		want   bool
	}{
		{"fresh", t0.Add(time.Hour), 30 * 24 * time.Hour, false},
		{"a day", t0.Add(AnswerOrphanMaxAge), 30 * 24 * time.Hour, false},
		{"over a day, reports kept 30 days", t0.Add(AnswerOrphanMaxAge + time.Minute), 30 * 24 * time.Hour, true},
		{"over a day, reports kept for ever", t0.Add(AnswerOrphanMaxAge + time.Minute), 0, true},
		{"reports kept an hour", t0.Add(2 * time.Hour), time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExpiredOrphan(o, tt.now, tt.maxAge); got != tt.want {
				t.Errorf("ExpiredOrphan(answer, %v, %v) = %v, want %v", tt.now.Sub(t0), tt.maxAge, got, tt.want)
			}
		})
	}
}

// TestAdoptAwayOrphanInCalendar: an out-of-office notice read before its
// mail moves the deadline in the working calendar, as when read after it.
func TestAdoptAwayOrphanInCalendar(t *testing.T) {
	c := mustCalendar(t, CalendarConfig{Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour})
	until := time.Date(2026, time.March, 6, 0, 0, 0, 0, time.UTC) // a Friday
	away := report.Report{Kind: report.KindAutoReply, AutoReply: report.AutoReplyAway, AwayUntil: until, Recipient: bob,
		ReportMessageID: "oof@example.org", OriginalMessageID: "orig-1@example.com", Date: t0.Add(time.Minute)}
	o, ok := AnswerOrphan(away, t0.Add(time.Minute))
	if !ok {
		t.Fatal("AnswerOrphan() = false")
	}
	m := newMail(t, receipts, bob)
	m.Span = 8 * time.Hour
	res, _ := AdoptOrphansIn(m, []Orphan{o}, c, t0.Add(time.Hour), 0)
	live, err := ApplyIn(m, mustAnswerEvidence(t, away, m), c, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, want := recipient(t, res.Mail, bob).DueAt, recipient(t, live.Mail, bob).DueAt
	if want.IsZero() || !got.Equal(want) {
		t.Errorf("adopted away notice: bob due %v, want %v as when read after the mail", got, want)
	}
}

func mustAnswerEvidence(t *testing.T, r report.Report, m Mail) Evidence {
	t.Helper()
	evs, err := AnswerEvidence(r, Match{Mail: m, Via: ViaMessageID, Confidence: ConfidenceExact}, t0.Add(time.Hour))
	if err != nil || len(evs) != 1 {
		t.Fatalf("AnswerEvidence() = %v, %v", evs, err)
	}
	return evs[0]
}
