package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// currentSchema is the schema version this program writes.
const currentSchema = 6

var keySchema = []byte("schema")

// migration brings a database from version to-1 to version to.
type migration struct {
	to   int
	what string
	up   func(tx kvTx) error
}

// migrations run in order, all in the transaction that opens the database.
// Never change one that has shipped; add a new one.
var migrations = []migration{
	{1, "create the buckets", createBuckets(
		bucketMails, bucketEvidence, bucketEvidenceIDs,
		bucketBySender, bucketByDue, bucketByClosed, bucketByEnvelope, bucketBySubject,
		bucketOrphans, bucketOrphanKeys, bucketOrphanAge,
		bucketCheckpoints, bucketOutbox, bucketOutboxKeys,
		bucketSlackRefs, bucketSlackUsers, bucketQuarantine,
	)},
	{2, "index open mails awaiting an answer by SentAt, for the digest", buildIndex(bucketAwaiting)},
	{3, "keep evidence next to its mail; evidence_ids only for evidence not tied by Message-ID", moveEvidence},
	{4, "awaiting entries in a binary encoding, faster to read than JSON", rebuildIndex(bucketAwaiting)},
	{5, "per-user settings of the chat side", createBuckets(bucketSettings)},
	// Nothing to convert: an exact by_due index is a valid lazy one. The
	// version keeps older programs, which take a stale entry for a
	// corrupt one, from opening the file.
	{6, "by_due keeps a mail's old wake-ups until the sweep passes them", func(kvTx) error { return nil }},
}

// migrate checks the schema version of the database and runs the missing
// migrations.
func migrate(tx kvTx, path string) error {
	have, err := schemaVersion(tx)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if have > currentSchema {
		return &SchemaError{Path: path, Found: have, Supported: currentSchema}
	}
	for _, m := range migrations {
		if m.to <= have {
			continue
		}
		if err := m.up(tx); err != nil {
			return fmt.Errorf("open %s: migrate to schema %d (%s): %w", path, m.to, m.what, err)
		}
		if err := setSchemaVersion(tx, m.to); err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
	}
	if err := checkBuckets(tx); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	return nil
}

// schemaVersion reads the version from the meta bucket: 0 for an empty
// file, ErrNotStore for a bbolt file that is not ours.
func schemaVersion(tx kvTx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		err := tx.ForEachBucket(func([]byte) error { empty = false; return nil })
		if err != nil {
			return 0, err
		}
		if !empty {
			return 0, fmt.Errorf("no meta bucket: %w", ErrNotStore)
		}
		return 0, nil
	}
	v := meta.Get(keySchema)
	if len(v) != 8 {
		return 0, fmt.Errorf("schema version is %d bytes long, want 8: %w", len(v), ErrNotStore)
	}
	return int(binary.BigEndian.Uint64(v)), nil
}

func setSchemaVersion(tx kvTx, v int) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create meta bucket: %w", err)
	}
	if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, uint64(v))); err != nil {
		return fmt.Errorf("set schema version %d: %w", v, err)
	}
	return nil
}

func createBuckets(names ...[]byte) func(kvTx) error {
	return func(tx kvTx) error {
		for _, n := range names {
			if _, err := tx.CreateBucket(n); err != nil {
				return fmt.Errorf("create bucket %s: %w", n, err)
			}
		}
		return nil
	}
}

// buildIndex creates a mail index's bucket and fills it from every mail.
func buildIndex(name []byte) func(kvTx) error {
	return func(tx kvTx) error {
		var ix *mailIndex
		for i := range mailIndexes {
			if bytes.Equal(mailIndexes[i].bucket, name) {
				ix = &mailIndexes[i]
			}
		}
		if ix == nil {
			return fmt.Errorf("no index %s", name)
		}
		b, err := tx.CreateBucket(name)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
		return forEachMail(tx, func(k, v []byte) error {
			m, err := decodeMail(string(k), v)
			if err != nil {
				return err
			}
			for _, e := range ix.entries(&m) {
				if err := b.Put(e.key, e.val); err != nil {
					return fmt.Errorf("put %s entry of %s: %w", name, k, err)
				}
			}
			return nil
		})
	}
}

// rebuildIndex builds a mail index anew.
func rebuildIndex(name []byte) func(kvTx) error {
	build := buildIndex(name)
	return func(tx kvTx) error {
		if err := tx.DeleteBucket(name); err != nil {
			return fmt.Errorf("delete bucket %s: %w", name, err)
		}
		return build(tx)
	}
}

// buckets lists the buckets of the current schema.
func buckets() [][]byte {
	out := [][]byte{bucketMeta, bucketMails, bucketEvidenceIDs,
		bucketOrphans, bucketOrphanKeys, bucketOrphanAge,
		bucketCheckpoints, bucketOutbox, bucketOutboxKeys,
		bucketSlackRefs, bucketSlackUsers, bucketQuarantine, bucketSettings,
	}
	for _, ix := range mailIndexes {
		out = append(out, ix.bucket)
	}
	return out
}

// checkBuckets makes sure every bucket of the current schema exists, so
// that the rest of the package can take them for granted.
func checkBuckets(tx kvTx) error {
	for _, n := range buckets() {
		if tx.Bucket(n) == nil {
			return fmt.Errorf("bucket %s missing: %w", n, ErrNotStore)
		}
	}
	return nil
}

// moveEvidence moves each piece of evidence from the evidence bucket of
// schema 2 to the mails bucket, next to its mail, and rebuilds
// evidence_ids with only the IDs needsGlobalID asks for: orphans are found
// in their own bucket.
func moveEvidence(tx kvTx) error {
	if err := tx.DeleteBucket(bucketEvidenceIDs); err != nil {
		return fmt.Errorf("delete %s: %w", bucketEvidenceIDs, err)
	}
	ids, err := tx.CreateBucket(bucketEvidenceIDs)
	if err != nil {
		return fmt.Errorf("create %s: %w", bucketEvidenceIDs, err)
	}
	mails := tx.Bucket(bucketMails)
	err = tx.Bucket(bucketEvidence).ForEach(func(k, v []byte) error {
		i := bytes.IndexByte(k, 0)
		if i <= 0 {
			return fmt.Errorf("evidence key %q malformed", k)
		}
		ev, err := decodeEvidence(string(k[:i]), string(k[i+1:]), v)
		if err != nil {
			return err
		}
		if err := mails.Put(bytes.Clone(k), bytes.Clone(v)); err != nil {
			return err
		}
		if needsGlobalID(&ev) {
			return ids.Put(bytes.Clone(k[i+1:]), bytes.Clone(k[:i]))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("move evidence: %w", err)
	}
	return tx.DeleteBucket(bucketEvidence)
}
