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

// AnswerOrphanMaxAge is how long an answer to mail not tracked waits for
// its mail: long enough for a Sent folder that is read late (a watcher
// reconnecting, a client that stores its sent copy after sending), short
// enough that the replies in other people's conversations, which never
// find a mail, do not pile up.
const AnswerOrphanMaxAge = 24 * time.Hour

// AnswerOrphan keeps an answer whose threading fields name no tracked mail,
// received now, in case the mail it answers is registered after it (the
// inbox read before the Sent folder). An answer that names no Message-ID
// (one matched by subject only) is not kept: false.
func AnswerOrphan(r report.Report, now time.Time) (Orphan, bool) {
	refs := AnswerRefs(r)
	if !IsAnswer(r) || len(refs) == 0 {
		return Orphan{}, false
	}
	return Orphan{
		Evidence: EvidenceFrom(r, Match{}, now),
		Keys:     Keys{Thread: refs, Recipient: NormalizeAddress(r.Recipient), Date: reportTime(r, now)},
		Received: now,
	}, true
}

// IsAnswerOrphan reports whether o keeps a reply or an automatic reply.
func IsAnswerOrphan(o Orphan) bool {
	return o.Evidence.Source == SourceReply || o.Evidence.Source == SourceAutoReply
}

// OrphanMaxAge is how long o may wait for its mail when the store keeps
// orphans for maxAge (zero or less: for ever): an answer never longer than
// AnswerOrphanMaxAge.
func OrphanMaxAge(o Orphan, maxAge time.Duration) time.Duration {
	if IsAnswerOrphan(o) && (maxAge <= 0 || maxAge > AnswerOrphanMaxAge) {
		return AnswerOrphanMaxAge
	}
	return maxAge
}

// ExpiredOrphan reports whether o has waited longer than its OrphanMaxAge
// for its mail; a maxAge of zero or less keeps report orphans for ever.
func ExpiredOrphan(o Orphan, now time.Time, maxAge time.Duration) bool {
	limit := OrphanMaxAge(o, maxAge)
	return limit > 0 && now.Sub(o.Received) > limit
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
	return AdoptOrphansIn(m, orphans, nil, now, window)
}

// AdoptOrphansIn is AdoptOrphans with the working calendar that moves a
// deadline after an out-of-office notice (see ApplyIn).
func AdoptOrphansIn(m Mail, orphans []Orphan, cal *Calendar, now time.Time, window time.Duration) (res Result, adopted []string) {
	ordered := slices.Clone(orphans)
	slices.SortStableFunc(ordered, func(a, b Orphan) int {
		return cmp.Or(a.Evidence.At.Compare(b.Evidence.At), cmp.Compare(a.Evidence.ID, b.Evidence.ID))
	})
	cur := m
	for _, o := range ordered {
		if !mayAdopt(m, o) {
			continue
		}
		if IsAnswerOrphan(o) {
			evs, ok := AdoptedAnswer(m, o)
			if !ok {
				continue
			}
			adopted = append(adopted, o.Evidence.ID)
			for _, ev := range evs {
				// An answer from nobody on m is kept unapplied, as
				// when it is read after its mail.
				if next, changed, err := absorbInto(cur, ev, cal); err == nil && changed {
					cur, res.Changed = next, true
				}
			}
			continue
		}
		ev, ok := adoptable(m, o, window)
		if !ok {
			continue
		}
		next, changed, err := absorbInto(cur, ev, cal)
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

// AdoptedAnswer returns the evidence an answer orphan (IsAnswerOrphan)
// gives m, as AnswerEvidence gives it for an answer read after its mail,
// and false when o does not answer m. The evidence is bound to m; it is
// empty for the sender's own mail, and holds the answer unapplied when it
// stands for no recipient of m.
func AdoptedAnswer(m Mail, o Orphan) ([]Evidence, bool) {
	i := slices.Index(o.Keys.Thread, m.MessageID)
	if i < 0 || m.MessageID == "" {
		return nil, false
	}
	base := o.Evidence
	base.MessageID, base.Via, base.Confidence = m.MessageID, ViaThread, ConfidenceExact
	if i == 0 {
		base.Via = ViaMessageID
	}
	kind := report.KindReply
	if base.Source == SourceAutoReply {
		kind = report.KindAutoReply
	}
	evs, _ := spreadAnswer(base, m, o.Keys.Recipient, kind)
	return evs, true
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
