package track

import (
	"cmp"
	"fmt"
	"time"
)

// Register prepares a sent mail for tracking: it normalises the Message-ID
// and addresses, drops duplicate recipients, marks every recipient pending,
// opens the mail and arms its first deadline, defaultAfter (or m.Deadline)
// after it was sent as counted by cal; a nil cal counts wall-clock time.
// It fails with ErrInvalidMail when the mail has no Message-ID, no sender
// or no recipient.
func Register(m Mail, defaultAfter time.Duration, cal *Calendar, now time.Time) (Mail, error) {
	m = m.Clone()
	m.MessageID = NormalizeMessageID(m.MessageID)
	m.Sender = NormalizeAddress(m.Sender)
	m.Recipients = cleanRecipients(m.Recipients)
	switch {
	case m.MessageID == "":
		return Mail{}, fmt.Errorf("register: no message-id: %w", ErrInvalidMail)
	case m.Sender == "":
		return Mail{}, fmt.Errorf("register %s: no sender: %w", m.MessageID, ErrInvalidMail)
	case len(m.Recipients) == 0:
		return Mail{}, fmt.Errorf("register %s: no recipient: %w", m.MessageID, ErrInvalidMail)
	}
	if m.SentAt.IsZero() {
		m.SentAt = now
	}
	if m.State == "" {
		m.State = StateOpen
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	m.UpdatedAt = now
	m.DueAt = NextDeadline(m, defaultAfter, cal)
	if m.Span == 0 {
		m.Span = max(cmp.Or(m.Deadline, defaultAfter), 0)
	}
	return m, nil
}

func cleanRecipients(rs []Recipient) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	for _, r := range rs {
		r.Address = NormalizeAddress(r.Address)
		if r.Address == "" || seen[r.Address] {
			continue
		}
		seen[r.Address] = true
		if r.Field == "" {
			r.Field = FieldTo
		}
		if r.Best == "" {
			r.Best = StatusPending
		}
		if r.Status == "" {
			r.Status = r.Best
		}
		out = append(out, r)
	}
	return out
}

// NextDeadline returns when m's first no-response deadline falls: its
// Deadline, or defaultAfter when that is zero, after SentAt, counted by cal
// (wall-clock when cal is nil). It is zero when the mail is closed or the
// interval is negative or zero.
func NextDeadline(m Mail, defaultAfter time.Duration, cal *Calendar) time.Time {
	after := m.Deadline
	if after == 0 {
		after = defaultAfter
	}
	if m.Closed() || after <= 0 {
		return time.Time{}
	}
	return cal.Add(m.SentAt, after)
}

// Sweep fires the deadlines of m that now has reached: the mail's DueAt for
// each recipient still without a conclusive status, other than the sender,
// and a recipient's own later DueAt (moved by an out-of-office notice) for
// that recipient. Each such recipient gets the no-response overlay and
// exactly one no-response notice for that deadline. The mail's deadline
// is then spent: DueAt becomes zero and a snoozed mail is open again.
// Sweeping before any deadline, with none armed, or on a closed mail
// returns m and no notices, so Sweep can be called as often as wanted.
func Sweep(m Mail, now time.Time) (Mail, []Notice) {
	if m.Closed() {
		return m, nil
	}
	mailDue := !m.DueAt.IsZero() && !now.Before(m.DueAt)
	next := m.Clone()
	var notices []Notice
	for i := range next.Recipients {
		r := &next.Recipients[i]
		due := recipientDue(next, *r)
		if due.IsZero() || now.Before(due) || !owesNoResponse(next, *r, due) {
			continue
		}
		from := r.Status
		r.NoResponseFor = due
		r.Status = StatusNoResponse
		if from != StatusNoResponse {
			r.StatusAt = due
		}
		if !notified(*r, StatusNoResponse) {
			r.Notified = append(r.Notified, StatusNoResponse)
		}
		notices = append(notices, newNotice(next, *r, from, due))
	}
	if !mailDue && len(notices) == 0 {
		return m, nil
	}
	if mailDue {
		next.DueAt = time.Time{}
		if next.State == StateSnoozed {
			next.State = StateOpen
			next.SnoozedUntil = time.Time{}
		}
	}
	next.UpdatedAt = now
	return next, notices
}

func owesNoResponse(m Mail, r Recipient, due time.Time) bool {
	return NormalizeAddress(r.Address) != NormalizeAddress(m.Sender) &&
		!m.Conclusive(r) &&
		r.NoResponseFor.Before(due)
}

// Snooze moves m's deadline to until: the sender will be reminded then of
// every recipient still without an answer. It fails with ErrClosed on a
// closed mail and ErrNotFuture when until is not after now.
func Snooze(m Mail, until, now time.Time) (Mail, error) {
	if m.Closed() {
		return m, fmt.Errorf("snooze %s: %w", m.MessageID, ErrClosed)
	}
	if !until.After(now) {
		return m, fmt.Errorf("snooze %s until %s: %w", m.MessageID, until.Format(time.RFC3339), ErrNotFuture)
	}
	m = m.Clone()
	m.State = StateSnoozed
	m.SnoozedUntil = until
	m.DueAt = until
	for i := range m.Recipients {
		// The sender asked to hear about everyone at until: an earlier
		// own deadline gives way.
		if r := &m.Recipients[i]; r.DueAt.Before(until) {
			r.DueAt = time.Time{}
		}
	}
	m.UpdatedAt = now
	return m, nil
}

// Close marks m done or stopped, which disarms its deadline and ends its
// notices; evidence still updates its recipients. Closing with the state
// it already has changes nothing. Any other state fails with
// ErrInvalidState.
func Close(m Mail, state State, now time.Time) (Mail, error) {
	if state != StateDone && state != StateStopped {
		return m, fmt.Errorf("close %s as %q: %w", m.MessageID, state, ErrInvalidState)
	}
	if m.State == state {
		return m, nil
	}
	m.State = state
	m.SnoozedUntil = time.Time{}
	m.DueAt = time.Time{}
	m.ClosedAt = now
	m.UpdatedAt = now
	return m, nil
}

// Reopen tracks a done or stopped mail again, as open, with its deadline
// at due (none when due is zero or not after now). Reopening an open or
// snoozed mail fails with ErrInvalidState.
func Reopen(m Mail, due, now time.Time) (Mail, error) {
	if !m.Closed() {
		return m, fmt.Errorf("reopen %s in state %q: %w", m.MessageID, m.State, ErrInvalidState)
	}
	m.State = StateOpen
	m.ClosedAt = time.Time{}
	m.DueAt = time.Time{}
	if due.After(now) {
		m.DueAt = due
	}
	m.UpdatedAt = now
	return m, nil
}

// NextRedraw returns when m's card must next be drawn again although
// nothing was reported: the earliest instant a recipient who still owes
// an answer is back from being away (Recipient.BackAt) and no redraw was
// issued for yet. It is zero when there is none or m is closed.
func NextRedraw(m Mail) time.Time {
	if m.Closed() {
		return time.Time{}
	}
	var next time.Time
	for _, r := range m.Recipients {
		if r.BackAt.IsZero() || !r.BackAt.After(m.RedrawnFor) || r.Status == StatusFailed || m.Conclusive(r) {
			continue
		}
		if next.IsZero() || r.BackAt.Before(next) {
			next = r.BackAt
		}
	}
	return next
}

// Redraw issues the one notice that has m's card drawn again once now
// reached NextRedraw, whatever the number of recipients back by now, and
// marks their return as handled. Before that, or with nothing to redraw,
// it returns m and false, so it can be called as often as wanted.
func Redraw(m Mail, now time.Time) (Mail, Notice, bool) {
	at := NextRedraw(m)
	if at.IsZero() || now.Before(at) {
		return m, Notice{}, false
	}
	next := m.Clone()
	who := ""
	for _, r := range m.Recipients {
		if r.BackAt.After(m.RedrawnFor) && !r.BackAt.After(now) {
			if r.BackAt.After(next.RedrawnFor) {
				next.RedrawnFor = r.BackAt
			}
			if who == "" {
				who = r.Address
			}
		}
	}
	next.UpdatedAt = now
	n := Notice{
		Key:       m.MessageID + " " + string(NoticeRedraw) + " " + next.RedrawnFor.UTC().Format(time.RFC3339),
		Kind:      NoticeRedraw,
		MessageID: m.MessageID,
		Sender:    m.Sender,
		Recipient: who,
		At:        next.RedrawnFor,
	}
	return next, n, true
}
