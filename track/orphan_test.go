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
