package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/mailack/mailack/track"
)

// maxSubjectCandidates caps what MailsBySubject returns: the correlator
// gives up unless exactly one mail fits, so more candidates change nothing.
const maxSubjectCandidates = 32

// RegisterInput is a sent mail to start tracking.
type RegisterInput struct {
	// Mail is the mail as track.Register prepared it.
	Mail track.Mail
	Now  time.Time
	// Checkpoint, when set, is advanced in the same transaction: the
	// position of the Sent copy the mail was read from.
	Checkpoint *Checkpoint
}

// RegisterResult is what registering did.
type RegisterResult struct {
	// Mail is the stored mail, after any orphans were applied.
	Mail track.Mail
	// Existed reports that the mail was already tracked; it was left as it
	// was.
	Existed bool
	// Adopted lists the evidence IDs of the orphans applied to the mail.
	Adopted []string
	// Notices are the notices put in the outbox.
	Notices []track.Notice
}

// RegisterMail starts tracking a mail and, in the same transaction, applies
// the orphaned reports that belong to it, puts the resulting notices in
// the outbox and advances the checkpoint. Registering a mail that its
// sender already tracks changes nothing but the checkpoint. A Message-ID
// tracked for another sender (track.OwnedBy) is refused: the checkpoint
// is still advanced, nothing else changes, and the error wraps
// track.ErrOtherSender with an empty result, so that nothing of the other
// sender's mail is shown. A mail lacking a normalised Message-ID, a
// sender or a recipient fails with track.ErrInvalidMail.
func (s *Store) RegisterMail(ctx context.Context, in RegisterInput) (RegisterResult, error) {
	m := in.Mail
	if err := validateMail(&m); err != nil {
		return RegisterResult{}, err
	}
	var res RegisterResult
	var other bool
	err := s.update(ctx, func(tx kvTx) error {
		var err error
		res, other, err = s.register(tx, m, in)
		return err
	})
	if err == nil && other {
		err = track.ErrOtherSender
	}
	if err != nil {
		return RegisterResult{}, fmt.Errorf("register %s: %w", m.MessageID, err)
	}
	return res, nil
}

// register is RegisterMail within tx, for m validated; other reports a
// Message-ID tracked for another sender, with nothing changed but the
// checkpoint.
func (s *Store) register(tx kvTx, m track.Mail, in RegisterInput) (res RegisterResult, other bool, err error) {
	if err := advanceCheckpoint(tx, in.Checkpoint, in.Now); err != nil {
		return res, false, err
	}
	old, ok, err := getMail(tx, m.MessageID)
	if ok && err == nil && !track.OwnedBy(old, m.Sender) {
		return res, true, nil
	}
	if err != nil || ok {
		return RegisterResult{Mail: old, Existed: ok}, false, err
	}
	if err := putMail(tx, nil, &m); err != nil {
		return res, false, err
	}
	res, err = s.adoptOrphans(tx, m, in.Now)
	return res, false, err
}

// RegisterMails registers many mails in one transaction, each as
// RegisterMail does (orphans adopted, notices queued, checkpoints
// advanced), for bulk loads such as an import or a benchmark's data set,
// where a transaction per mail would take hours for a million. It returns
// how many mails it newly tracked. A Message-ID tracked for another
// sender is skipped, as RegisterMail refuses it; any invalid mail fails
// the whole batch with track.ErrInvalidMail and nothing is written. On
// etcd a transaction holds a bounded number of writes (the server's
// --max-txn-ops), so batches there must stay small.
func (s *Store) RegisterMails(ctx context.Context, ins []RegisterInput) (int, error) {
	for i := range ins {
		if err := validateMail(&ins[i].Mail); err != nil {
			return 0, err
		}
	}
	var added int
	err := s.update(ctx, func(tx kvTx) error {
		added = 0
		for _, in := range ins {
			res, other, err := s.register(tx, in.Mail, in)
			if err != nil {
				return fmt.Errorf("register %s: %w", in.Mail.MessageID, err)
			}
			if !other && !res.Existed {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

func validateMail(m *track.Mail) error {
	var problem string
	switch {
	case m.MessageID == "" || m.MessageID != track.NormalizeMessageID(m.MessageID):
		problem = "message-id not normalised"
	case m.Sender == "":
		problem = "no sender"
	case len(m.Recipients) == 0:
		problem = "no recipient"
	case m.SentAt.IsZero():
		problem = "no sent time"
	case !validState(m.State):
		problem = fmt.Sprintf("state %q", m.State)
	case hasNUL(m.MessageID, m.Sender, m.EnvelopeID):
		problem = "NUL byte in an ID"
	}
	for _, r := range m.Recipients {
		if r.Address == "" || hasNUL(r.Address) {
			problem = fmt.Sprintf("recipient %q", r.Address)
		}
	}
	if problem != "" {
		return fmt.Errorf("register %q: %s: %w", m.MessageID, problem, track.ErrInvalidMail)
	}
	return nil
}

func validState(s track.State) bool {
	switch s {
	case track.StateOpen, track.StateSnoozed, track.StateDone, track.StateStopped:
		return true
	}
	return false
}

// getMail loads a mail; ok is false when it is not stored.
func getMail(tx kvTx, id string) (track.Mail, bool, error) {
	v := tx.Bucket(bucketMails).Get([]byte(id))
	if v == nil {
		return track.Mail{}, false, nil
	}
	m, err := decodeMail(id, v)
	return m, err == nil, err
}

// Mail returns the tracked mail with Message-ID id, normalised as
// track.NormalizeMessageID does, or ErrNotFound.
func (s *Store) Mail(ctx context.Context, id string) (track.Mail, error) {
	var m track.Mail
	err := s.view(ctx, func(tx kvTx) error {
		var ok bool
		var err error
		m, ok, err = getMail(tx, track.NormalizeMessageID(id))
		if err == nil && !ok {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return track.Mail{}, fmt.Errorf("mail %s: %w", id, err)
	}
	return m, nil
}

// txLookup is track.Lookup over one transaction, so that correlation sees
// the transaction's own writes.
type txLookup struct{ tx kvTx }

func (l txLookup) MailByMessageID(id string) (track.Mail, bool, error) {
	return getMail(l.tx, id)
}

// MailByEnvelopeID returns the most recently sent mail with the envelope
// ID; envelope IDs are meant to be unique, but nothing enforces it.
func (l txLookup) MailByEnvelopeID(id string) (track.Mail, bool, error) {
	if id == "" || hasNUL(id) {
		return track.Mail{}, false, nil
	}
	var best track.Mail
	err := scanPrefix(l.tx.Bucket(bucketByEnvelope), join(id, ""), func(k, _ []byte) (bool, error) {
		m, ok, err := getMail(l.tx, string(k[len(id)+1:]))
		if err != nil || !ok {
			return false, orDangling(err, bucketByEnvelope, k)
		}
		if best.MessageID == "" || m.SentAt.After(best.SentAt) {
			best = m
		}
		return true, nil
	})
	return best, err == nil && best.MessageID != "", err
}

func (l txLookup) MailsBySubject(recipient, subject string, from, to time.Time) ([]track.Mail, error) {
	subject = track.NormalizeSubject(subject)
	if recipient == "" || subject == "" || hasNUL(recipient) {
		return nil, nil
	}
	prefix := join(recipient, subjectHash(subject))
	end := appendTime(bytes.Clone(prefix), to)
	var out []track.Mail
	c := l.tx.Bucket(bucketBySubject).Cursor()
	for k, _ := c.Seek(appendTime(bytes.Clone(prefix), from)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) <= len(end) {
			return nil, orDangling(nil, bucketBySubject, k)
		}
		if bytes.Compare(k[:len(end)], end) > 0 || len(out) == maxSubjectCandidates {
			break
		}
		m, ok, err := getMail(l.tx, string(k[len(end):]))
		if err != nil || !ok {
			return nil, orDangling(err, bucketBySubject, k)
		}
		out = append(out, m)
	}
	return out, nil
}

// orDangling returns err, or when err is nil, an error for an index entry
// naming a mail that is not stored.
func orDangling(err error, bucket, key []byte) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%s entry %q names no stored mail", bucket, key)
}

// MailByMessageID implements track.Lookup.
func (s *Store) MailByMessageID(id string) (m track.Mail, ok bool, err error) {
	err = s.view(context.Background(), func(tx kvTx) error {
		m, ok, err = txLookup{tx}.MailByMessageID(id)
		return err
	})
	return m, ok, err
}

// MailByEnvelopeID implements track.Lookup.
func (s *Store) MailByEnvelopeID(id string) (m track.Mail, ok bool, err error) {
	err = s.view(context.Background(), func(tx kvTx) error {
		m, ok, err = txLookup{tx}.MailByEnvelopeID(id)
		return err
	})
	return m, ok, err
}

// MailsBySubject implements track.Lookup: the mails to recipient, sent
// within [from, to], whose normalised subject hashes as subject's does.
func (s *Store) MailsBySubject(recipient, subject string, from, to time.Time) (ms []track.Mail, err error) {
	err = s.view(context.Background(), func(tx kvTx) error {
		ms, err = txLookup{tx}.MailsBySubject(recipient, subject, from, to)
		return err
	})
	return ms, err
}

var _ track.Lookup = (*Store)(nil)

// ListFilter selects a sender's mails.
type ListFilter struct {
	// States are the states wanted; none means open and snoozed.
	States []track.State
	// SentAfter and SentBefore bound SentAt to [SentAfter, SentBefore);
	// zero leaves a side open.
	SentAfter, SentBefore time.Time
}

func (f ListFilter) wants(state []byte) bool {
	if len(f.States) == 0 {
		s := track.State(state)
		return s == track.StateOpen || s == track.StateSnoozed
	}
	for _, s := range f.States {
		if string(s) == string(state) {
			return true
		}
	}
	return false
}

// ListBySender returns up to limit of a sender's mails that pass f, newest
// first; limit 0 means no limit. It scans the sender's part of the by_sender
// index and loads only the mails it returns.
func (s *Store) ListBySender(ctx context.Context, sender string, f ListFilter, limit int) ([]track.Mail, error) {
	sender = track.NormalizeAddress(sender)
	if sender == "" || hasNUL(sender) {
		return nil, nil
	}
	prefix := join(sender, "")
	var out []track.Mail
	err := s.view(ctx, func(tx kvTx) error {
		out = nil
		// The index first, then the mails it names, read together.
		var keys [][]byte
		var ids []string
		c := tx.Bucket(bucketBySender).Cursor()
		low := prefix
		if !f.SentAfter.IsZero() {
			low = appendTime(bytes.Clone(prefix), f.SentAfter)
		}
		boundBelow(c, low)
		for k, v := seekBefore(c, prefix, f.SentBefore); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if len(k) <= len(prefix)+timeLen {
				return orDangling(nil, bucketBySender, k)
			}
			if !f.SentAfter.IsZero() && readTime(k[len(prefix):]).Before(f.SentAfter) {
				break
			}
			if !f.wants(v) {
				continue
			}
			keys = append(keys, bytes.Clone(k))
			ids = append(ids, string(k[len(prefix)+timeLen:]))
			if full(len(ids), limit) {
				break
			}
		}
		prefetchMails(tx, ids)
		for i, id := range ids {
			m, ok, err := getMail(tx, id)
			if err != nil || !ok {
				return orDangling(err, bucketBySender, keys[i])
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list mails of %s: %w", sender, err)
	}
	return out, nil
}

// seekBefore positions c on the last key below prefix+before, or the last
// key with prefix when before is zero, and bounds c above there.
func seekBefore(c cursor, prefix []byte, before time.Time) ([]byte, []byte) {
	var bound []byte
	if before.IsZero() {
		bound = append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, timeLen+1)...)
	} else {
		bound = appendTime(bytes.Clone(prefix), before)
	}
	boundAbove(c, bound)
	if k, _ := c.Seek(bound); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// Snooze moves a mail's deadline to until, as track.Snooze does.
func (s *Store) Snooze(ctx context.Context, id string, until, now time.Time) (track.Mail, error) {
	return s.change(ctx, id, "snooze", func(m track.Mail) (track.Mail, error) {
		return track.Snooze(m, until, now)
	})
}

// CloseMail marks a mail done or stopped, as track.Close does.
func (s *Store) CloseMail(ctx context.Context, id string, state track.State, now time.Time) (track.Mail, error) {
	return s.change(ctx, id, "close", func(m track.Mail) (track.Mail, error) {
		return track.Close(m, state, now)
	})
}

// change loads mail id, applies fn and stores the result.
func (s *Store) change(ctx context.Context, id, what string, fn func(track.Mail) (track.Mail, error)) (track.Mail, error) {
	id = track.NormalizeMessageID(id)
	var out track.Mail
	err := s.update(ctx, func(tx kvTx) error {
		old, ok, err := getMail(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		next, err := fn(old.Clone())
		if err != nil {
			return err
		}
		out = next
		return putMail(tx, &old, &next)
	})
	if err != nil {
		return track.Mail{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	return out, nil
}

// Reopen tracks a done or stopped mail again, as track.Reopen does.
func (s *Store) Reopen(ctx context.Context, id string, due, now time.Time) (track.Mail, error) {
	return s.change(ctx, id, "reopen", func(m track.Mail) (track.Mail, error) {
		return track.Reopen(m, due, now)
	})
}
