package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// answer correlates, records and applies a reply or an automatic reply
// (track.IsAnswer). An answer stands for one recipient or, from a
// colleague, for several (track.AnswerEvidence); each piece of evidence is
// stored and applied once, so the same answer read twice changes nothing.
// An answer read from a mailbox applies only to mail of the senders the
// mailbox reports on (ApplyInput.Scope), as a report does.
// An answer whose threading fields name no tracked mail is kept as an
// orphan (track.AnswerOrphan), scoped to the mailbox it was read from, for
// at most track.AnswerOrphanMaxAge: the inbox may be read before the Sent
// folder that registers its mail, and RegisterMail adopts it then. An
// answer matched by nothing, without threading fields, is not kept. The
// input gets one item, whatever the number of recipients the answer
// stands for.
func (a *applier) answer(r report.Report) error {
	id := track.EvidenceID(r)
	mt, err := track.CorrelateAnswer(r, scopedLookup{txLookup{a.tx}, a.scope}, a.now, window(a.s.opts))
	if err != nil {
		return fmt.Errorf("correlate answer %s: %w", id, err)
	}
	if !mt.Found() {
		return a.answerOrphan(r, id)
	}
	// As for reports: an answer read from a mailbox may only update the
	// mail of the senders that mailbox reports on, so a reply planted in
	// one person's inbox cannot end the wait on another person's mail.
	if a.scope != nil && !a.scope.Covers(mt.Mail.Sender) {
		a.add(id, "", OutcomeUnauthorized)
		return nil
	}
	evs, err := track.AnswerEvidence(r, mt, a.now)
	if errors.Is(err, track.ErrUnknownRecipient) {
		if seen(a.tx, mt.Mail.MessageID, evs[0].ID) {
			a.add(id, mt.Mail.MessageID, OutcomeDuplicate)
			return nil
		}
		return a.keepUnmatched(evs[0])
	}
	if err != nil {
		return err
	}
	if len(evs) == 0 { // the sender's own mail
		a.add(id, mt.Mail.MessageID, OutcomeIgnored)
		return nil
	}
	m := mt.Mail
	outcome := OutcomeDuplicate
	for _, ev := range evs {
		if seen(a.tx, m.MessageID, ev.ID) {
			continue
		}
		res, err := track.ApplyIn(m, ev, a.s.opts.Calendar, a.now)
		if err != nil {
			return fmt.Errorf("apply answer %s to %s: %w", ev.ID, m.MessageID, err)
		}
		if err := putEvidence(a.tx, &ev); err != nil {
			return err
		}
		outcome = OutcomeApplied
		if !res.Changed {
			continue
		}
		if err := putMail(a.tx, &m, &res.Mail); err != nil {
			return err
		}
		if err := a.enqueue(res.Notices); err != nil {
			return err
		}
		m = res.Mail
	}
	a.add(id, m.MessageID, outcome)
	return nil
}

// answerOrphan keeps answer r, which matched no tracked mail, as an orphan;
// read again, the orphan keeps its age and may now be adopted by mail of
// this mailbox too.
func (a *applier) answerOrphan(r report.Report, id string) error {
	o, ok := track.AnswerOrphan(r, a.now)
	if !ok {
		a.add(id, "", OutcomeIgnored)
		return nil
	}
	if _, ok, err := getOrphan(a.tx, id); err != nil || ok {
		if err == nil {
			a.add(id, "", OutcomeDuplicate)
			err = widenOrphan(a.tx, id, a.scope)
		}
		return err
	}
	o.Scope = a.scope
	a.add(id, "", OutcomeOrphaned)
	return putOrphan(a.tx, &o)
}

// seen reports whether evidence id is stored already, with mail messageID
// or tied to a mail by other means than its Message-ID.
func seen(tx kvTx, messageID, id string) bool {
	if _, ok := seenGlobally(tx, id); ok {
		return true
	}
	return hasEvidence(tx, messageID, id)
}

// AnswersTracked reports whether the reply or automatic reply r refers to
// a tracked mail, as ApplyReport would tie it to one; now stands in for a
// missing date. A watcher asks it before reading any more of a message.
func (s *Store) AnswersTracked(ctx context.Context, r report.Report, now time.Time) (bool, error) {
	var found bool
	err := s.view(ctx, func(tx kvTx) error {
		mt, err := track.CorrelateAnswer(r, txLookup{tx}, now, window(s.opts))
		found = mt.Found()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("look up answered mail: %w", err)
	}
	return found, nil
}
