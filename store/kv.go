package store

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// kvTx is one transaction over the store's buckets, the only access the
// rules of this package have to the data. Two engines implement it: a
// bbolt file (boltTx) and an etcd cluster (etcdTx). A write transaction is
// all-or-nothing and serializable on both: either every change it made is
// committed or none is, and it behaves as if no other transaction ran
// while it did.
//
// The bytes returned by Get and the cursors are valid only until the
// transaction ends and must not be modified.
type kvTx interface {
	// Bucket returns the named bucket, or nil when it does not exist.
	Bucket(name []byte) bucket
	CreateBucket(name []byte) (bucket, error)
	CreateBucketIfNotExists(name []byte) (bucket, error)
	// DeleteBucket deletes a bucket and every key in it.
	DeleteBucket(name []byte) error
	// ForEachBucket calls fn with each bucket's name, in order.
	ForEachBucket(fn func(name []byte) error) error
}

// bucket is an ordered map from keys to values. A value is never nil.
type bucket interface {
	// Get returns the key's value, or nil when the key is not stored.
	Get(k []byte) []byte
	Put(k, v []byte) error
	Delete(k []byte) error
	Cursor() cursor
	// ForEach calls fn for each key in order until fn returns an error.
	ForEach(fn func(k, v []byte) error) error
	// NextSequence returns the bucket's next sequence number, starting at 1.
	NextSequence() (uint64, error)
}

// cursor walks a bucket in key order; each call returns the key and value
// it moved to, or nil keys when it moved past either end.
type cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	// Seek moves to the first key at or after seek.
	Seek(seek []byte) (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
}

// boltTx is a kvTx on a bbolt transaction: buckets are bbolt buckets, so
// a file written through it is the file mailack has always written.
type boltTx struct{ tx *bbolt.Tx }

func (t boltTx) Bucket(name []byte) bucket {
	if b := t.tx.Bucket(name); b != nil {
		return boltBucket{b}
	}
	return nil
}

func (t boltTx) CreateBucket(name []byte) (bucket, error) {
	b, err := t.tx.CreateBucket(name)
	if err != nil {
		return nil, err
	}
	return boltBucket{b}, nil
}

func (t boltTx) CreateBucketIfNotExists(name []byte) (bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return boltBucket{b}, nil
}

func (t boltTx) DeleteBucket(name []byte) error { return t.tx.DeleteBucket(name) }

func (t boltTx) ForEachBucket(fn func(name []byte) error) error {
	return t.tx.ForEach(func(name []byte, _ *bbolt.Bucket) error { return fn(name) })
}

type boltBucket struct{ *bbolt.Bucket }

func (b boltBucket) Cursor() cursor { return b.Bucket.Cursor() }

// setFillPercent sets how full bbolt fills the pages of a bucket it
// splits; other engines have no pages.
func setFillPercent(b bucket, f float64) {
	if bb, ok := b.(boltBucket); ok {
		bb.FillPercent = f
	}
}

// sequence returns the last number NextSequence gave out.
func sequence(b bucket) uint64 {
	switch b := b.(type) {
	case boltBucket:
		return b.Sequence()
	case *etcdBucket:
		if v := b.tx.get(b.tx.bucketKey(b.name)); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

// setSequence sets the last number NextSequence gave out.
func setSequence(b bucket, n uint64) error {
	switch b := b.(type) {
	case boltBucket:
		return b.SetSequence(n)
	case *etcdBucket:
		return b.tx.set(b.tx.bucketKey(b.name), binary.BigEndian.AppendUint64(nil, n))
	}
	return fmt.Errorf("bucket of unknown kind %T", b)
}
