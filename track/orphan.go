package track

import (
	"cmp"
	"slices"
	"time"

	"github.com/mailack/mailack/track/report"
)

// OrphanFrom keeps a report whose mail is not tracked yet, received now.
func OrphanFrom(r report.Report, now time.Time) Orphan {
	return Orphan{
		Evidence: EvidenceFrom(r, Match{}, now),
		Keys:     ReportKeys(r, now),
		Received: now,
	}
}

// ExpiredOrphan reports whether o has waited longer than maxAge for its
// mail; a maxAge of zero or less keeps orphans for ever.
func ExpiredOrphan(o Orphan, now time.Time, maxAge time.Duration) bool {
	return maxAge > 0 && now.Sub(o.Received) > maxAge
}

// AdoptOrphans applies to a newly registered mail the orphans that belong to
// it, matched as Correlate would have matched them: by Message-ID, envelope
// ID or threading headers, or, for an orphan quoting no ID and when window
// is positive, by subject and recipient within window before the report.
// It applies them in the order they happened and issues at most one notice
// per recipient, for where the recipient ends up. adopted lists the
// Evidence IDs of the orphans consumed, including those about the sender
// itself, which are ignored; the rest belong elsewhere, to no recipient
// of m, or were read from a mailbox that may not report on m's sender
// (Orphan.Scope), and should stay until they expire.
func AdoptOrphans(m Mail, orphans []Orphan, now time.Time, window time.Duration) (res Result, adopted []string) {
	ordered := slices.Clone(orphans)
	slices.SortStableFunc(ordered, func(a, b Orphan) int {
		return cmp.Or(a.Evidence.At.Compare(b.Evidence.At), cmp.Compare(a.Evidence.ID, b.Evidence.ID))
	})
	cur := m
	for _, o := range ordered {
		if !mayAdopt(m, o) {
			continue
		}
		ev, ok := adoptable(m, o, window)
		if !ok {
			continue
		}
		next, changed, err := absorbInto(cur, ev, nil)
		if err != nil {
			continue
		}
		adopted = append(adopted, o.Evidence.ID)
		if changed {
			cur = next
			res.Changed = true
		}
	}
	if !res.Changed {
		return Result{Mail: m}, adopted
	}
	cur.UpdatedAt = now
	res.Notices = notify(&cur, statuses(m))
	res.Mail = cur
	return res, adopted
}

// adoptable binds o's evidence to m when o belongs to it.
func adoptable(m Mail, o Orphan, window time.Duration) (Evidence, bool) {
	mt, ok := orphanMatch(m, o.Keys, window)
	if !ok {
		return Evidence{}, false
	}
	ev := o.Evidence
	ev.MessageID = m.MessageID
	ev.Recipient = mt.Recipient
	ev.Via = mt.Via
	ev.Confidence = mt.Confidence
	if reported := o.Keys.Recipient; reported != mt.Recipient {
		ev.Reported = reported
	}
	return ev, true
}

func orphanMatch(m Mail, k Keys, window time.Duration) (Match, bool) {
	var via Via
	switch {
	case k.MessageID != "" && k.MessageID == m.MessageID:
		via = ViaMessageID
	case k.EnvelopeID != "" && k.EnvelopeID == m.EnvelopeID:
		via = ViaEnvelopeID
	case contains(k.Thread, m.MessageID):
		via = ViaThread
	case k.MessageID == "" && k.EnvelopeID == "" && window > 0:
		subject := NormalizeSubject(k.Subject)
		if subject == "" {
			return Match{}, false
		}
		return subjectFit(m, k, subject, k.Date.Add(-window), k.Date.Add(clockSkew))
	default:
		return Match{}, false
	}
	addr, ok := MatchRecipient(m, k.Recipient, k.OriginalRecipient)
	return Match{Mail: m, Recipient: addr, Via: via, Confidence: ConfidenceExact}, ok
}
