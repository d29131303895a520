package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/mailack/mailack/track"
)

// Evidence is kept in the mails bucket under messageID \x00 evidenceID,
// right after its mail's record, so that applying a report rewrites one
// leaf page for mail and evidence together. Keys without a NUL byte are
// mails.

// isMailKey reports whether a key of the mails bucket names a mail rather
// than evidence.
func isMailKey(k []byte) bool { return bytes.IndexByte(k, 0) < 0 }

// forEachMail calls fn for each mail record, in Message-ID order.
func forEachMail(tx kvTx, fn func(k, v []byte) error) error {
	return tx.Bucket(bucketMails).ForEach(func(k, v []byte) error {
		if !isMailKey(k) {
			return nil
		}
		return fn(k, v)
	})
}

// needsGlobalID reports whether evidence must be recorded in evidence_ids
// to be recognised when read again. Evidence tied to its mail by the
// report's own Message-ID (or, for pixel and chat evidence, by the
// Message-ID it names) is tied to the same mail every time, and is found
// under that mail. Evidence tied by envelope ID, threading headers or
// subject might be tied to another mail the next time, once more mails are
// tracked, so its ID is recorded globally.
func needsGlobalID(ev *track.Evidence) bool {
	switch ev.Via {
	case track.ViaEnvelopeID, track.ViaThread, track.ViaSubject:
		return true
	}
	return false
}

// seenGlobally reports whether evidence id is an orphan or was tied to a
// mail by other means than its Message-ID, and which mail ("" for an
// orphan).
func seenGlobally(tx kvTx, id string) (string, bool) {
	if v := tx.Bucket(bucketEvidenceIDs).Get([]byte(id)); v != nil {
		return string(v), true
	}
	return "", tx.Bucket(bucketOrphans).Get([]byte(id)) != nil
}

// hasEvidence reports whether mail messageID has evidence id.
func hasEvidence(tx kvTx, messageID, id string) bool {
	return tx.Bucket(bucketMails).Get(join(messageID, id)) != nil
}

// putEvidence appends ev to its mail's evidence.
func putEvidence(tx kvTx, ev *track.Evidence) error {
	if ev.MessageID == "" || hasNUL(ev.MessageID, ev.ID) {
		return fmt.Errorf("put evidence %q: message-id %q: %w", ev.ID, ev.MessageID, ErrInvalid)
	}
	v, err := encodeEvidence(ev)
	if err != nil {
		return fmt.Errorf("encode evidence %s: %w", ev.ID, err)
	}
	if err := tx.Bucket(bucketMails).Put(join(ev.MessageID, ev.ID), v); err != nil {
		return fmt.Errorf("put evidence %s: %w", ev.ID, err)
	}
	if !needsGlobalID(ev) {
		return nil
	}
	if err := tx.Bucket(bucketEvidenceIDs).Put([]byte(ev.ID), []byte(ev.MessageID)); err != nil {
		return fmt.Errorf("put evidence id %s: %w", ev.ID, err)
	}
	return nil
}

// Evidence returns the evidence stored for a mail, in ID order.
func (s *Store) Evidence(ctx context.Context, messageID string) ([]track.Evidence, error) {
	messageID = track.NormalizeMessageID(messageID)
	var out []track.Evidence
	err := s.view(ctx, func(tx kvTx) error {
		var err error
		out, err = mailEvidence(tx, messageID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("evidence of %s: %w", messageID, err)
	}
	return out, nil
}

func mailEvidence(tx kvTx, messageID string) ([]track.Evidence, error) {
	if messageID == "" || hasNUL(messageID) {
		return nil, nil
	}
	var out []track.Evidence
	prefix := join(messageID, "")
	err := scanPrefix(tx.Bucket(bucketMails), prefix, func(k, v []byte) (bool, error) {
		ev, err := decodeEvidence(messageID, string(k[len(prefix):]), v)
		out = append(out, ev)
		return true, err
	})
	return out, err
}
