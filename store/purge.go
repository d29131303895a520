package store

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// PurgeResult counts what a purge deleted.
type PurgeResult struct {
	Mails    int
	Evidence int
}

// Purge deletes the mails closed (done or stopped) more than olderThan
// before now, with their index entries, their evidence and their chat
// reference, a chunk of mails per transaction; it scans the by_closed
// index, never the whole file. Notices still in the outbox are left to be
// delivered.
func (s *Store) Purge(ctx context.Context, olderThan time.Duration, now time.Time) (PurgeResult, error) {
	end := appendTime(nil, now.Add(-olderThan))
	var total PurgeResult
	for {
		var part PurgeResult
		err := s.update(ctx, func(tx kvTx) error {
			var err error
			part, err = s.purgeChunk(tx, end)
			return err
		})
		total.Mails += part.Mails
		total.Evidence += part.Evidence
		if err != nil {
			return total, fmt.Errorf("purge: %w", err)
		}
		if part.Mails < chunk {
			return total, nil
		}
	}
}

func (s *Store) purgeChunk(tx kvTx, end []byte) (PurgeResult, error) {
	var res PurgeResult
	var ids []string
	c := tx.Bucket(bucketByClosed).Cursor()
	for k, _ := c.First(); k != nil && len(ids) < chunk && len(k) > timeLen && bytes.Compare(k[:timeLen], end) < 0; k, _ = c.Next() {
		ids = append(ids, string(k[timeLen:]))
	}
	for _, id := range ids {
		n, err := s.deleteMailAll(tx, id)
		if err != nil {
			return res, err
		}
		res.Mails++
		res.Evidence += n
	}
	return res, nil
}

// deleteMailAll deletes a mail with everything that belongs to it and
// returns how much evidence went with it.
func (s *Store) deleteMailAll(tx kvTx, id string) (int, error) {
	m, ok, err := getMail(tx, id)
	if err != nil || !ok {
		return 0, orDangling(err, bucketByClosed, []byte(id))
	}
	if err := deleteMail(tx, &m); err != nil {
		return 0, err
	}
	// The mail's record is gone; what remains under its prefix is its
	// evidence.
	var keys [][]byte
	prefix := join(id, "")
	err = scanPrefix(tx.Bucket(bucketMails), prefix, func(k, _ []byte) (bool, error) {
		keys = append(keys, bytes.Clone(k))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.Bucket(bucketMails).Delete(k); err != nil {
			return 0, err
		}
		if err := tx.Bucket(bucketEvidenceIDs).Delete(k[len(prefix):]); err != nil {
			return 0, err
		}
	}
	if err := tx.Bucket(bucketSlackRefs).Delete([]byte(id)); err != nil {
		return 0, err
	}
	return len(keys), nil
}
