package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

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
}

// SweepDue fires every deadline due at now: it scans the by_due index up
// to now, applies track.Sweep to each mail and puts the notices in the
// outbox, a chunk of mails per transaction. A sweep interrupted by a crash
// is simply run again: a spent deadline is no longer in the index.
func (s *Store) SweepDue(ctx context.Context, now time.Time) (SweepResult, error) {
	var total SweepResult
	var after []byte // the last key handled, so that a mail Sweep leaves due cannot loop
	for {
		var part SweepResult
		var last []byte
		err := s.update(ctx, func(tx *bbolt.Tx) error {
			var err error
			part, last, err = s.sweepChunk(tx, now, after)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		total.Swept += part.Swept
		total.Notices = append(total.Notices, part.Notices...)
		if last == nil {
			return total, nil
		}
		after = last
	}
}

// sweepChunk sweeps up to chunk due mails after key after and returns the
// last key it handled, nil when none was left.
func (s *Store) sweepChunk(tx *bbolt.Tx, now time.Time, after []byte) (SweepResult, []byte, error) {
	var res SweepResult
	end := appendTime(nil, now)
	var ids []string
	var last []byte
	c := tx.Bucket(bucketByDue).Cursor()
	k, _ := c.First()
	if after != nil {
		if k, _ = c.Seek(after); bytes.Equal(k, after) {
			k, _ = c.Next()
		}
	}
	for ; k != nil && len(ids) < chunk && len(k) > timeLen && bytes.Compare(k[:timeLen], end) <= 0; k, _ = c.Next() {
		ids = append(ids, string(k[timeLen:]))
		last = bytes.Clone(k)
	}
	for _, id := range ids {
		m, ok, err := getMail(tx, id)
		if err != nil || !ok {
			return res, nil, orDangling(err, bucketByDue, []byte(id))
		}
		next, notices := track.Sweep(m, now)
		if next.DueAt.Equal(m.DueAt) && len(notices) == 0 {
			continue
		}
		res.Swept++
		if err := putMail(tx, s.schema, &m, &next); err != nil {
			return res, nil, err
		}
		added, err := enqueueNotices(tx, notices, now)
		if err != nil {
			return res, nil, err
		}
		res.Notices = append(res.Notices, added...)
	}
	return res, last, nil
}
