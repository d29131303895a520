package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// currentSchema is the schema version this program writes.
const currentSchema = 2

var keySchema = []byte("schema")

// migration brings a database from version to-1 to version to.
type migration struct {
	to   int
	what string
	up   func(tx *bbolt.Tx) error
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
}

// migrate checks the schema version of the database and runs the missing
// migrations up to version target.
func migrate(tx *bbolt.Tx, path string, target int) error {
	have, err := schemaVersion(tx)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if have > currentSchema || have > target {
		return &SchemaError{Path: path, Found: have, Supported: target}
	}
	for _, m := range migrations {
		if m.to <= have || m.to > target {
			continue
		}
		if err := m.up(tx); err != nil {
			return fmt.Errorf("open %s: migrate to schema %d (%s): %w", path, m.to, m.what, err)
		}
		if err := setSchemaVersion(tx, m.to); err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
	}
	if err := checkBuckets(tx, target); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	return nil
}

// schemaVersion reads the version from the meta bucket: 0 for an empty
// file, ErrNotStore for a bbolt file that is not ours.
func schemaVersion(tx *bbolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		err := tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
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

func setSchemaVersion(tx *bbolt.Tx, v int) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create meta bucket: %w", err)
	}
	if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, uint64(v))); err != nil {
		return fmt.Errorf("set schema version %d: %w", v, err)
	}
	return nil
}

func createBuckets(names ...[]byte) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucket(n); err != nil {
				return fmt.Errorf("create bucket %s: %w", n, err)
			}
		}
		return nil
	}
}

// buildIndex creates a mail index's bucket and fills it from every mail.
func buildIndex(name []byte) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
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
		return tx.Bucket(bucketMails).ForEach(func(k, v []byte) error {
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

// schemaBuckets lists the buckets a database of version v has.
func schemaBuckets(v int) [][]byte {
	out := [][]byte{bucketMeta,
		bucketMails, bucketEvidence, bucketEvidenceIDs,
		bucketOrphans, bucketOrphanKeys, bucketOrphanAge,
		bucketCheckpoints, bucketOutbox, bucketOutboxKeys,
		bucketSlackRefs, bucketSlackUsers, bucketQuarantine,
	}
	for _, ix := range activeIndexes(v) {
		out = append(out, ix.bucket)
	}
	return out
}

// checkBuckets makes sure every bucket of version v exists, so that the
// rest of the package can take them for granted.
func checkBuckets(tx *bbolt.Tx, v int) error {
	for _, n := range schemaBuckets(v) {
		if tx.Bucket(n) == nil {
			return fmt.Errorf("bucket %s missing: %w", n, ErrNotStore)
		}
	}
	return nil
}
