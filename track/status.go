package track

import (
	"fmt"
	"time"
)

// Result is what applying evidence did.
type Result struct {
	// Mail is the mail afterwards; when Changed is false it is the mail given.
	Mail Mail
	// Notices are the notices owed to the sender, at most one per recipient.
	Notices []Notice
	// Changed reports whether Mail differs from the mail given and must be
	// stored.
	Changed bool
}

// Apply records what one piece of evidence says about its recipient and
// returns the notices that are owed. It is idempotent: evidence whose effect
// is already part of m, such as the same report read twice, changes nothing
// and yields no notice, so the store need not check IDs before calling it
// (it still keeps each ID once in its evidence log).
//
// Evidence about the sender's own address is ignored. A pixel or chat
// recipient is matched as MatchRecipient does. Apply fails with
// ErrWrongMail, ErrInvalidEvidence or ErrUnknownRecipient and then returns
// m unchanged.
func Apply(m Mail, ev Evidence, now time.Time) (Result, error) {
	return ApplyIn(m, ev, nil, now)
}

// ApplyIn is Apply with the calendar an out-of-office notice's new
// deadline is counted in (see AnswerDeadline); a nil cal counts wall-clock
// time.
func ApplyIn(m Mail, ev Evidence, cal *Calendar, now time.Time) (Result, error) {
	next, changed, err := absorbInto(m, ev, cal)
	if err != nil || !changed {
		return Result{Mail: m}, err
	}
	next.UpdatedAt = now
	notices := notify(&next, statuses(m))
	return Result{Mail: next, Notices: notices, Changed: true}, nil
}

// absorbInto applies ev to a copy of m without issuing notices.
func absorbInto(m Mail, ev Evidence, cal *Calendar) (Mail, bool, error) {
	if id := NormalizeMessageID(ev.MessageID); id != "" && id != m.MessageID {
		return m, false, fmt.Errorf("apply %s to %s: %w", id, m.MessageID, ErrWrongMail)
	}
	if ev.Signal.Rank() < 0 {
		return m, false, fmt.Errorf("apply signal %q: %w", ev.Signal, ErrInvalidEvidence)
	}
	addr, ok := MatchRecipient(m, ev.Recipient, "")
	if !ok {
		return m, false, fmt.Errorf("apply %s to %s: %w", ev.Recipient, m.MessageID, ErrUnknownRecipient)
	}
	i := m.recipientIndex(addr)
	if i < 0 {
		return m, false, nil // the sender's own address
	}
	next := m.Clone()
	changed := absorb(&next.Recipients[i], ev, m.Requested)
	if absorbAway(&next, i, ev, cal) {
		changed = true
	}
	if !changed {
		return m, false, nil
	}
	return next, true, nil
}

func (m Mail) recipientIndex(addr string) int {
	if addr == NormalizeAddress(m.Sender) {
		return -1
	}
	for i, r := range m.Recipients {
		if NormalizeAddress(r.Address) == addr {
			return i
		}
	}
	return -1
}

// absorb raises r to what ev shows, and reports whether r changed.
func absorb(r *Recipient, ev Evidence, req Requested) bool {
	conf := ev.Confidence
	if conf == "" {
		conf = ConfidenceExact
	}
	switch {
	case ev.Signal.Rank() > best(*r).Rank():
		r.Best = ev.Signal
	case ev.Signal == best(*r) && conf == ConfidenceExact && r.Confidence == ConfidenceLow:
		// The same status, now backed by an exact match.
	case ev.Signal == StatusReplied && best(*r) == StatusReplied && r.AnsweredBy != "" && ev.Reported == "":
		// A colleague answered first; now the recipient has too.
	default:
		return false
	}
	r.Confidence = conf
	r.Reason = ev.Reason
	r.Detail = ev.detail()
	if ev.Signal == StatusReplied {
		r.AnsweredBy = ev.Reported
	}
	if s := effective(*r, req); s != r.Status {
		r.Status = s
		r.StatusAt = ev.At
		if r.StatusAt.IsZero() {
			r.StatusAt = ev.Seen
		}
	}
	return true
}

// best is r's Best status, pending when unset.
func best(r Recipient) Status {
	if r.Best == "" {
		return StatusPending
	}
	return r.Best
}

// effective is the status shown: Best, unless a deadline has passed and
// Best is not conclusive.
func effective(r Recipient, req Requested) Status {
	// A deadline moved past the one that fired (an out-of-office notice)
	// lifts the overlay until the new one passes.
	if !r.NoResponseFor.IsZero() && !conclusive(best(r), req) && !r.DueAt.After(r.NoResponseFor) {
		return StatusNoResponse
	}
	return best(r)
}

// conclusive reports whether s answers what the sender asked for, so that
// no deadline applies to the recipient any more. Delivery is an answer
// only when neither a read receipt nor a pixel was requested.
func conclusive(s Status, req Requested) bool {
	switch s {
	case StatusFailed, StatusOpened, StatusDeletedUnread, StatusRead, StatusDeclined, StatusAcknowledged, StatusReplied:
		return true
	case StatusRelayed, StatusDelivered, StatusOpenedMachine, StatusAutoAck, StatusAway:
		// An automatic answer proves delivery and no more.
		return !req.ReadReceipt && !req.Pixel
	}
	return false
}

// Conclusive reports whether r's status answers what m asked for, so that
// no deadline applies to r any more.
func (m Mail) Conclusive(r Recipient) bool {
	return conclusive(best(r), m.Requested)
}

func statuses(m Mail) []Status {
	out := make([]Status, len(m.Recipients))
	for i, r := range m.Recipients {
		out[i] = r.Status
	}
	return out
}

// notify issues a notice for each recipient whose status moved away from
// before[i] to a status not announced yet, and records it as announced.
// Closed mails get no notices. No-response notices come only from Sweep.
func notify(m *Mail, before []Status) []Notice {
	if m.Closed() {
		return nil
	}
	var out []Notice
	for i := range m.Recipients {
		r := &m.Recipients[i]
		if i >= len(before) || r.Status == before[i] || r.Status == StatusNoResponse || notified(*r, r.Status) {
			continue
		}
		r.Notified = append(r.Notified, r.Status)
		out = append(out, newNotice(*m, *r, before[i], time.Time{}))
	}
	return out
}

func notified(r Recipient, s Status) bool {
	for _, n := range r.Notified {
		if n == s {
			return true
		}
	}
	return false
}

func newNotice(m Mail, r Recipient, from Status, due time.Time) Notice {
	return Notice{
		Key:        NoticeKey(m.MessageID, r.Address, r.Status, due),
		Kind:       noticeKind(r.Status),
		MessageID:  m.MessageID,
		Sender:     m.Sender,
		Recipient:  r.Address,
		From:       from,
		To:         r.Status,
		Reason:     r.Reason,
		Detail:     r.Detail,
		Confidence: r.Confidence,
		Due:        due,
		At:         r.StatusAt,
	}
}

// NoticeKey identifies the notice that recipient of messageID reached
// status; due distinguishes the no-response notices of successive
// deadlines and is zero otherwise.
func NoticeKey(messageID, recipient string, status Status, due time.Time) string {
	// Normalised Message-IDs and addresses hold no spaces.
	k := messageID + " " + recipient + " " + string(status)
	if !due.IsZero() {
		k += " " + due.UTC().Format(time.RFC3339)
	}
	return k
}

var noticeKinds = map[Status]NoticeKind{
	StatusFailed:       NoticeBounced,
	StatusDelayed:      NoticeDelayed,
	StatusRead:         NoticeRead,
	StatusOpened:       NoticeRead,
	StatusAcknowledged: NoticeRead,
	StatusNoResponse:   NoticeNoResponse,
	StatusReplied:      NoticeReplied,
	StatusAway:         NoticeAway,
	StatusAutoAck:      NoticeAway,
}

func noticeKind(s Status) NoticeKind {
	if k, ok := noticeKinds[s]; ok {
		return k
	}
	return NoticeStatus
}
