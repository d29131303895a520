package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// ApplyInput is what one message (or one pixel fetch, one chat action)
// tells: applied together in one transaction.
type ApplyInput struct {
	// Reports are the parsed reports of one message, one per recipient it
	// speaks about.
	Reports []report.Report
	// Evidence is evidence that names its mail already: pixel fetches and
	// chat acknowledgements (track.PixelEvidence, track.ChatEvidence).
	Evidence []track.Evidence
	// Checkpoint, when set, is advanced in the same transaction: the
	// position of the message the reports were read from.
	Checkpoint *Checkpoint
	// Scope, when set, is the mailbox the Reports were read from: a report
	// about mail it does not cover (track.ReportScope.Covers) is refused
	// (OutcomeUnauthorized) and stored nowhere, and an orphan keeps the
	// scope for its adoption. Reports from no mailbox (tools, tests) have
	// none. Evidence is not scoped: pixel tokens and chat actions are
	// bound to their mail otherwise.
	Scope *track.ReportScope
	Now   time.Time
}

// Outcome is what became of one report or piece of evidence.
type Outcome string

// The outcomes.
const (
	// OutcomeApplied: the evidence was stored and applied to its mail
	// (which may not have changed, if it showed nothing new).
	OutcomeApplied Outcome = "applied"
	// OutcomeDuplicate: evidence with the same ID is stored already;
	// nothing changed.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeOrphaned: no tracked mail matched; kept as an orphan until
	// its mail is registered or it expires.
	OutcomeOrphaned Outcome = "orphaned"
	// OutcomeUnknownRecipient: the mail matched but none of its
	// recipients; the evidence is stored with the mail, which is unchanged.
	OutcomeUnknownRecipient Outcome = "unknown_recipient"
	// OutcomeIgnored: the report implies no status (not a report, or an
	// action or disposition without meaning); nothing was stored.
	OutcomeIgnored Outcome = "ignored"
	// OutcomeUnauthorized: the report is about mail of a sender its
	// mailbox may not report on (ApplyInput.Scope); nothing was stored, so
	// the same report read from an authorised mailbox still counts.
	OutcomeUnauthorized Outcome = "unauthorized"
)

// ItemResult is the outcome of one report or piece of evidence.
type ItemResult struct {
	EvidenceID string
	// MessageID is the mail the evidence belongs to; empty for orphans,
	// ignored and unauthorized reports.
	MessageID string
	Outcome   Outcome
}

// ApplyResult is what applying did.
type ApplyResult struct {
	// Items has one result per report, then one per evidence, in input
	// order.
	Items []ItemResult
	// Notices are the notices put in the outbox.
	Notices []track.Notice
}

// ApplyReport correlates, records and applies the reports and evidence of
// in, and in the same transaction stores the evidence, updates the mails
// and their indexes, puts the notices owed in the outbox, keeps unmatched
// reports as orphans and advances the checkpoint. Evidence already stored
// (by its ID, which derives from the report itself) is skipped, so applying
// the same input twice changes nothing the second time.
//
// Concurrent calls share transactions (group commit); an error fails the
// whole input, and none of it is stored.
func (s *Store) ApplyReport(ctx context.Context, in ApplyInput) (ApplyResult, error) {
	for _, ev := range in.Evidence {
		if ev.ID == "" || hasNUL(ev.ID) || track.NormalizeMessageID(ev.MessageID) == "" {
			return ApplyResult{}, fmt.Errorf("apply evidence %q for %q: no ID or no message-id: %w", ev.ID, ev.MessageID, ErrInvalid)
		}
	}
	var res ApplyResult
	err := s.update(ctx, func(tx kvTx) error {
		res = ApplyResult{}
		if _, ok := tx.(*etcdTx); ok {
			prefetch(tx, applyKeys(in)) // bbolt reads from memory: nothing to fetch ahead
		}
		a := applier{tx: tx, s: s, now: in.Now, res: &res, scope: in.Scope}
		for _, r := range in.Reports {
			if err := a.report(r); err != nil {
				return err
			}
		}
		for _, ev := range in.Evidence {
			if err := a.evidence(ev); err != nil {
				return err
			}
		}
		return advanceCheckpoint(tx, in.Checkpoint, in.Now)
	})
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply: %w", err)
	}
	return res, nil
}

// applyKeys lists the keys applying in will most likely read, for an
// engine with round trips to read them at once: the checkpoint, and for
// each report or evidence its ID's records, its mail and the mail's copy
// of the evidence.
func applyKeys(in ApplyInput) []keyIn {
	var keys []keyIn
	if in.Checkpoint != nil {
		if k, err := checkpointKey(in.Checkpoint.Account, in.Checkpoint.Folder); err == nil {
			keys = append(keys, keyIn{bucketCheckpoints, k})
		}
	}
	add := func(id, messageID string) {
		keys = append(keys, keyIn{bucketEvidenceIDs, []byte(id)}, keyIn{bucketOrphans, []byte(id)})
		if messageID != "" && !hasNUL(messageID, id) {
			keys = append(keys, keyIn{bucketMails, []byte(messageID)}, keyIn{bucketMails, join(messageID, id)})
		}
	}
	for _, r := range in.Reports {
		if !track.IsAnswer(r) {
			add(track.EvidenceID(r), track.NormalizeMessageID(r.OriginalMessageID))
		}
	}
	for _, ev := range in.Evidence {
		add(ev.ID, track.NormalizeMessageID(ev.MessageID))
	}
	return keys
}

// applier applies items within one transaction.
type applier struct {
	tx    kvTx
	s     *Store
	now   time.Time
	res   *ApplyResult
	scope *track.ReportScope
}

func (a *applier) add(id, messageID string, o Outcome) {
	a.res.Items = append(a.res.Items, ItemResult{EvidenceID: id, MessageID: messageID, Outcome: o})
}

func (a *applier) report(r report.Report) error {
	if track.IsAnswer(r) {
		return a.answer(r)
	}
	id := track.EvidenceID(r)
	if _, ok := track.Signal(r); !ok {
		a.add(id, "", OutcomeIgnored)
		return nil
	}
	owner, seen := seenGlobally(a.tx, id)
	if seen && owner != "" {
		a.add(id, owner, OutcomeDuplicate)
		return nil
	}
	// seen with no owner: kept as an orphan, read again (from this or
	// another mailbox).
	mt, err := track.Correlate(r, scopedLookup{txLookup{a.tx}, a.scope}, a.now, window(a.s.opts))
	if err != nil && !errors.Is(err, track.ErrUnknownRecipient) {
		return fmt.Errorf("correlate report %s: %w", id, err)
	}
	if !mt.Found() {
		if seen {
			a.add(id, "", OutcomeDuplicate)
			return widenOrphan(a.tx, id, a.scope)
		}
		o := track.OrphanFrom(r, a.now)
		o.Scope = a.scope
		a.add(id, "", OutcomeOrphaned)
		return putOrphan(a.tx, &o)
	}
	if a.scope != nil && !a.scope.Covers(mt.Mail.Sender) {
		a.add(id, "", OutcomeUnauthorized)
		return nil
	}
	if seen {
		// Kept as an orphan its mail did not adopt. When that was because
		// it was read from a mailbox that may not report on the mail, this
		// copy, which may, is applied; otherwise it is a duplicate.
		refused, err := dropRefusedOrphan(a.tx, id, mt.Mail)
		if err != nil || !refused {
			a.add(id, "", OutcomeDuplicate)
			return err
		}
	}
	if hasEvidence(a.tx, mt.Mail.MessageID, id) {
		a.add(id, mt.Mail.MessageID, OutcomeDuplicate)
		return nil
	}
	ev := track.EvidenceFrom(r, mt, a.now)
	if err != nil {
		return a.keepUnmatched(ev)
	}
	return a.apply(mt.Mail, ev)
}

func (a *applier) evidence(ev track.Evidence) error {
	if owner, ok := seenGlobally(a.tx, ev.ID); ok {
		a.add(ev.ID, owner, OutcomeDuplicate)
		return nil
	}
	ev.MessageID = track.NormalizeMessageID(ev.MessageID)
	m, ok, err := getMail(a.tx, ev.MessageID)
	if err != nil {
		return err
	}
	if !ok {
		o := track.Orphan{
			Evidence: ev,
			Keys:     track.Keys{MessageID: ev.MessageID, Recipient: track.NormalizeAddress(ev.Recipient), Date: ev.At},
			Received: a.now,
		}
		a.add(ev.ID, "", OutcomeOrphaned)
		return putOrphan(a.tx, &o)
	}
	if hasEvidence(a.tx, m.MessageID, ev.ID) {
		a.add(ev.ID, m.MessageID, OutcomeDuplicate)
		return nil
	}
	return a.apply(m, ev)
}

// apply stores ev and applies it to m.
func (a *applier) apply(m track.Mail, ev track.Evidence) error {
	r, err := track.ApplyIn(m, ev, a.s.opts.Calendar, a.now)
	if errors.Is(err, track.ErrUnknownRecipient) {
		return a.keepUnmatched(ev)
	}
	if err != nil {
		return fmt.Errorf("apply evidence %s to %s: %w", ev.ID, m.MessageID, err)
	}
	if err := putEvidence(a.tx, &ev); err != nil {
		return err
	}
	a.add(ev.ID, m.MessageID, OutcomeApplied)
	if !r.Changed {
		return nil
	}
	if err := putMail(a.tx, &m, &r.Mail); err != nil {
		return err
	}
	return a.enqueue(r.Notices)
}

// keepUnmatched stores evidence for a mail none of whose recipients it
// names, so the observation is kept though it changes nothing.
func (a *applier) keepUnmatched(ev track.Evidence) error {
	if err := putEvidence(a.tx, &ev); err != nil {
		return err
	}
	a.add(ev.ID, ev.MessageID, OutcomeUnknownRecipient)
	return nil
}

func (a *applier) enqueue(ns []track.Notice) error {
	added, err := a.s.enqueueNotices(a.tx, ns, a.now)
	a.res.Notices = append(a.res.Notices, added...)
	return err
}

// window is the subject correlation window track expects: 0 disables.
func window(o Options) time.Duration {
	return max(o.CorrelationWindow, 0)
}

// scopedLookup is a lookup whose last-resort subject matches consider only
// the mail scope covers, so that another sender's mail with the same
// subject neither takes a report nor makes its match ambiguous. Exact IDs
// find any mail; the caller then refuses what the scope does not cover.
type scopedLookup struct {
	txLookup
	scope *track.ReportScope
}

func (l scopedLookup) MailsBySubject(recipient, subject string, from, to time.Time) ([]track.Mail, error) {
	ms, err := l.txLookup.MailsBySubject(recipient, subject, from, to)
	if err != nil || l.scope == nil {
		return ms, err
	}
	out := ms[:0]
	for _, m := range ms {
		if l.scope.Covers(m.Sender) {
			out = append(out, m)
		}
	}
	return out, nil
}

// widenOrphan records that orphan id was read again from the mailbox of
// scope: it may now be adopted by mail either mailbox may report on, so a
// copy read from an authorised mailbox is not lost to one read first from
// another. An orphan from no mailbox, or read again from none, is
// unrestricted.
func widenOrphan(tx kvTx, id string, scope *track.ReportScope) error {
	o, ok, err := getOrphan(tx, id)
	if err != nil || !ok || o.Scope == nil {
		return err
	}
	if scope == nil {
		o.Scope = nil
	} else {
		u := o.Scope.Union(*scope)
		if len(u.Senders) == len(o.Scope.Senders) {
			return nil
		}
		o.Scope = &u
	}
	return putOrphan(tx, &o)
}

// dropRefusedOrphan deletes the orphan with evidence ID id when its scope
// kept it from m, and reports whether it did.
func dropRefusedOrphan(tx kvTx, id string, m track.Mail) (bool, error) {
	o, ok, err := getOrphan(tx, id)
	if err != nil || !ok || o.Scope == nil || o.Scope.Covers(m.Sender) {
		return false, err
	}
	return true, removeOrphan(tx, &o)
}
