package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/mailack/mailack/track"
)

// chunk is how many mails a long operation (sweep, purge, expiry) handles
// per transaction, so that no transaction grows without bound and other
// writers get their turn.
const chunk = 256

// SweepResult is what a sweep did.
type SweepResult struct {
	// Swept counts the mails whose deadline fired.
	Swept int
	// Notices are the no-response notices put in the outbox.
	Notices []track.Notice
	// Redraws are the notices put in the outbox to have cards drawn again
	// because a recipient is back from being away (track.Redraw), one per
	// card.
	Redraws []track.Notice
}

// SweepDue fires every deadline due at now: it scans the by_due index up
// to now, applies track.Sweep and track.Redraw to each mail and puts the
// notices in the outbox, a chunk of index entries per transaction, and
// deletes the stale entries it passes. A sweep interrupted by a crash is simply run
// again: a spent deadline is no longer in the index.
func (s *Store) SweepDue(ctx context.Context, now time.Time) (SweepResult, error) {
	var total SweepResult
	var after []byte // the last key handled, so that a mail Sweep leaves due cannot loop
	for more := true; more; {
		if due, err := s.anyDue(ctx, now, after); err != nil || !due {
			return total, err
		}
		var part SweepResult
		var last []byte
		err := s.update(ctx, func(tx kvTx) error {
			var err error
			part, last, more, err = s.sweepChunk(tx, now, after)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		after = last
		total.Swept += part.Swept
		total.Notices = append(total.Notices, part.Notices...)
		total.Redraws = append(total.Redraws, part.Redraws...)
	}
	return total, nil
}

// anyDue reports, from a read transaction, whether a deadline after key
// after is due at now, so that a sweep with nothing to do writes nothing.
func (s *Store) anyDue(ctx context.Context, now time.Time, after []byte) (bool, error) {
	var due bool
	err := s.view(ctx, func(tx kvTx) error {
		k := firstAfter(tx.Bucket(bucketByDue).Cursor(), after)
		due = len(k) > timeLen && bytes.Compare(k[:timeLen], appendTime(nil, now)) <= 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sweep: %w", err)
	}
	return due, nil
}

// firstAfter positions c on the first key after key after, or the first
// key when after is nil.
func firstAfter(c cursor, after []byte) []byte {
	if after == nil {
		k, _ := c.First()
		return k
	}
	k, _ := c.Seek(after)
	if bytes.Equal(k, after) {
		k, _ = c.Next()
	}
	return k
}

// sweepChunk sweeps up to chunk due mails after key after. It returns the
// last key it handled and whether more may be due. An entry that is not
// its mail's wake-up (the index is lazy: see byDueEntries), or whose mail
// is gone, is stale and deleted.
func (s *Store) sweepChunk(tx kvTx, now time.Time, after []byte) (SweepResult, []byte, bool, error) {
	var res SweepResult
	end := appendTime(nil, now)
	var keys [][]byte
	c := tx.Bucket(bucketByDue).Cursor()
	for k := firstAfter(c, after); k != nil && len(keys) < chunk && len(k) > timeLen && bytes.Compare(k[:timeLen], end) <= 0; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = string(k[timeLen:])
	}
	prefetchMails(tx, ids)
	last := after
	for i, k := range keys {
		last = k
		m, ok, err := getMail(tx, ids[i])
		if err != nil {
			return res, nil, false, err
		}
		if !ok || !wakesAt(&m, k) {
			if err := tx.Bucket(bucketByDue).Delete(k); err != nil {
				return res, nil, false, fmt.Errorf("delete stale by_due entry %q: %w", k, err)
			}
			continue
		}
		next, notices := track.Sweep(m, now)
		swept := !next.DueAt.Equal(m.DueAt) || !track.NextDue(next).Equal(track.NextDue(m)) || len(notices) > 0
		next, redraw, redrawn := track.Redraw(next, now)
		if !swept && !redrawn {
			continue
		}
		if swept {
			res.Swept++
		}
		if err := putMail(tx, &m, &next); err != nil {
			return res, nil, false, err
		}
		if !wakesAt(&next, k) {
			// This wake-up is spent; the lazy index keeps it otherwise.
			if err := tx.Bucket(bucketByDue).Delete(k); err != nil {
				return res, nil, false, fmt.Errorf("delete spent by_due entry %q: %w", k, err)
			}
		}
		added, err := s.enqueueNotices(tx, notices, now)
		if err != nil {
			return res, nil, false, err
		}
		res.Notices = append(res.Notices, added...)
		if redrawn {
			if added, err = s.enqueueNotices(tx, []track.Notice{redraw}, now); err != nil {
				return res, nil, false, err
			}
			res.Redraws = append(res.Redraws, added...)
		}
	}
	return res, last, len(keys) == chunk, nil
}

// wakesAt reports whether by_due key k is m's current wake-up, not a
// stale one.
func wakesAt(m *track.Mail, k []byte) bool {
	w := wakeUp(m)
	return !w.IsZero() && bytes.Equal(appendTime(nil, w), k[:timeLen])
}
