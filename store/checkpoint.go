package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Checkpoint is how far a mailbox folder has been read.
type Checkpoint struct {
	Account string
	Folder  string
	// UIDValidity is the folder's UIDVALIDITY; UIDs of another validity
	// say nothing about this one.
	UIDValidity uint32
	// UID is the last UID whose message has been processed.
	UID uint32
	// ModSeq is the highest MODSEQ seen (CONDSTORE), 0 when unknown.
	ModSeq  uint64
	Updated time.Time
}

type checkpointRec struct {
	UIDValidity uint32 `json:"uidvalidity"`
	UID         uint32 `json:"uid"`
	ModSeq      uint64 `json:"modseq,omitempty"`
	Updated     int64  `json:"updated,omitempty"`
}

func checkpointKey(account, folder string) ([]byte, error) {
	if hasNUL(account, folder) {
		return nil, fmt.Errorf("checkpoint %q %q: NUL byte: %w", account, folder, ErrInvalid)
	}
	return join(account, folder), nil
}

// Checkpoint returns the checkpoint of a folder, or ErrNotFound when the
// folder has not been read yet.
func (s *Store) Checkpoint(ctx context.Context, account, folder string) (Checkpoint, error) {
	k, err := checkpointKey(account, folder)
	if err != nil {
		return Checkpoint{}, err
	}
	var cp Checkpoint
	err = s.view(ctx, func(tx kvTx) error {
		r, ok, err := getCheckpoint(tx, k)
		if err == nil && !ok {
			err = ErrNotFound
		}
		cp = Checkpoint{Account: account, Folder: folder, UIDValidity: r.UIDValidity, UID: r.UID, ModSeq: r.ModSeq, Updated: fromNanos(r.Updated)}
		return err
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint %s %s: %w", account, folder, err)
	}
	return cp, nil
}

// SetCheckpoint advances a folder's checkpoint on its own, for messages
// that needed no other write. The rules of advanceCheckpoint apply.
func (s *Store) SetCheckpoint(ctx context.Context, cp Checkpoint) error {
	err := s.update(ctx, func(tx kvTx) error {
		return advanceCheckpoint(tx, &cp, cp.Updated)
	})
	if err != nil {
		return fmt.Errorf("set checkpoint %s %s: %w", cp.Account, cp.Folder, err)
	}
	return nil
}

func getCheckpoint(tx kvTx, k []byte) (checkpointRec, bool, error) {
	v := tx.Bucket(bucketCheckpoints).Get(k)
	if v == nil {
		return checkpointRec{}, false, nil
	}
	var r checkpointRec
	if err := json.Unmarshal(v, &r); err != nil {
		return checkpointRec{}, false, fmt.Errorf("decode checkpoint %q: %w", k, err)
	}
	return r, true, nil
}

// advanceCheckpoint stores cp, if not nil. Within one UIDVALIDITY the UID
// and MODSEQ only move forward, so a late writer cannot move a folder back;
// a new UIDVALIDITY replaces the checkpoint.
func advanceCheckpoint(tx kvTx, cp *Checkpoint, now time.Time) error {
	if cp == nil {
		return nil
	}
	k, err := checkpointKey(cp.Account, cp.Folder)
	if err != nil {
		return err
	}
	old, ok, err := getCheckpoint(tx, k)
	if err != nil {
		return err
	}
	r := checkpointRec{UIDValidity: cp.UIDValidity, UID: cp.UID, ModSeq: cp.ModSeq, Updated: nanos(now)}
	if ok && old.UIDValidity == r.UIDValidity {
		r.UID = max(r.UID, old.UID)
		r.ModSeq = max(r.ModSeq, old.ModSeq)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketCheckpoints).Put(k, v); err != nil {
		return fmt.Errorf("put checkpoint %q: %w", k, err)
	}
	return nil
}
