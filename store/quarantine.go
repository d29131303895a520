package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Quarantined is a message set aside because it could not be processed.
type Quarantined struct {
	// ID names the entry; Quarantine assigns it.
	ID          uint64
	Account     string
	Folder      string
	UIDValidity uint32
	UID         uint32
	// Size is the size of the whole raw message.
	Size   int64
	Reason string
	At     time.Time
	// Head is the start of the raw message, at most Options.QuarantineHead
	// bytes.
	Head []byte
}

type quarantineRec struct {
	Account     string `json:"acct,omitempty"`
	Folder      string `json:"folder,omitempty"`
	UIDValidity uint32 `json:"uidvalidity,omitempty"`
	UID         uint32 `json:"uid,omitempty"`
	Size        int64  `json:"size"`
	Reason      string `json:"reason"`
	At          int64  `json:"at"`
	Head        []byte `json:"head,omitempty"`
}

// Quarantine stores q and, in the same transaction, advances cp when it is
// not nil, so that the message is set aside exactly once. It returns the
// entry's ID.
func (s *Store) Quarantine(ctx context.Context, q Quarantined, cp *Checkpoint) (uint64, error) {
	if len(q.Head) > s.opts.QuarantineHead {
		q.Head = q.Head[:s.opts.QuarantineHead]
	}
	v, err := json.Marshal(quarantineRec{
		Account: q.Account, Folder: q.Folder, UIDValidity: q.UIDValidity, UID: q.UID,
		Size: q.Size, Reason: q.Reason, At: nanos(q.At), Head: q.Head,
	})
	if err != nil {
		return 0, fmt.Errorf("encode quarantined message: %w", err)
	}
	var id uint64
	err = s.update(ctx, func(tx kvTx) error {
		b := tx.Bucket(bucketQuarantine)
		setFillPercent(b, 0.95) // keys only ever grow
		var err error
		if id, err = b.NextSequence(); err != nil {
			return err
		}
		if err := b.Put(seqKey(id), v); err != nil {
			return err
		}
		return advanceCheckpoint(tx, cp, q.At)
	})
	if err != nil {
		return 0, fmt.Errorf("quarantine %s %s uid %d: %w", q.Account, q.Folder, q.UID, err)
	}
	return id, nil
}

// QuarantineList returns up to limit quarantined messages, oldest first;
// limit 0 means all.
func (s *Store) QuarantineList(ctx context.Context, limit int) ([]Quarantined, error) {
	var out []Quarantined
	err := s.view(ctx, func(tx kvTx) error {
		out = nil
		c := tx.Bucket(bucketQuarantine).Cursor()
		for k, v := c.First(); k != nil && !full(len(out), limit); k, v = c.Next() {
			var r quarantineRec
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode quarantined message %x: %w", k, err)
			}
			out = append(out, Quarantined{
				ID: binary.BigEndian.Uint64(k), Account: r.Account, Folder: r.Folder,
				UIDValidity: r.UIDValidity, UID: r.UID, Size: r.Size, Reason: r.Reason,
				At: fromNanos(r.At), Head: r.Head,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	return out, nil
}

// Unquarantine deletes a quarantined message, or fails with ErrNotFound.
func (s *Store) Unquarantine(ctx context.Context, id uint64) error {
	err := s.update(ctx, func(tx kvTx) error {
		b := tx.Bucket(bucketQuarantine)
		if b.Get(seqKey(id)) == nil {
			return ErrNotFound
		}
		return b.Delete(seqKey(id))
	})
	if err != nil {
		return fmt.Errorf("unquarantine %d: %w", id, err)
	}
	return nil
}
