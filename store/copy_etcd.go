package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrTargetInUse means the etcd prefix a copy was to fill already holds a
// different mailack store.
var ErrTargetInUse = errors.New("store: the etcd prefix already holds a different mailack store")

// copy batches stay within etcd's default limits: 128 operations and
// 1.5 MiB per request.
const (
	copyBatchOps   = 100
	copyBatchBytes = 1 << 20
)

// CopyToEtcd copies the store, a bbolt file, into an etcd cluster under
// prefix ("" for "mailack/"), and checks that the cluster then holds
// exactly what the file holds, key by key; it returns the keys compared.
// The copy is made in batches, the meta bucket last, so a copy cut short
// leaves a prefix OpenEtcd refuses (ErrNotStore) until a new run, which
// starts over. A run after a complete copy copies nothing and only
// checks; a prefix holding another store fails with ErrTargetInUse.
func (s *Store) CopyToEtcd(ctx context.Context, cli *clientv3.Client, prefix string) (n int, already bool, err error) {
	if s.db == nil {
		return 0, false, fmt.Errorf("copy to etcd: %w: the store is not a bbolt file", ErrInvalid)
	}
	if prefix == "" {
		prefix = "mailack/"
	}
	e := &etcdEngine{cli: cli, prefix: prefix}
	tx, err := e.begin(ctx)
	if err != nil {
		return 0, false, err
	}
	if tx.Bucket(bucketMeta) != nil {
		n, err := s.compareEtcd(ctx, e)
		if err != nil {
			return n, false, fmt.Errorf("%w: etcd prefix %q: %w", ErrTargetInUse, prefix, err)
		}
		return n, true, nil
	}
	if tx.err != nil {
		return 0, false, tx.err
	}
	// What a cut-short run left.
	if _, err := cli.Delete(ctx, prefix, clientv3.WithPrefix()); err != nil {
		return 0, false, fmt.Errorf("etcd: %w", err)
	}
	var ops []clientv3.Op
	size := 0
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			return fmt.Errorf("etcd: %w", err)
		}
		ops, size = ops[:0], 0
		return nil
	}
	put := func(k string, v []byte) error {
		if len(ops) >= copyBatchOps || size+len(k)+len(v) > copyBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		ops = append(ops, clientv3.OpPut(k, string(v)))
		size += len(k) + len(v)
		return nil
	}
	err = s.db.View(func(btx *bbolt.Tx) error {
		var names [][]byte
		err := btx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			if !bytes.Equal(name, bucketMeta) {
				names = append(names, name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range append(names, bucketMeta) {
			b := btx.Bucket(name)
			if b == nil {
				return fmt.Errorf("bucket %s missing: %w", name, ErrNotStore)
			}
			p := tx.dataPrefix(name)
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				if v == nil {
					return fmt.Errorf("bucket %s holds a nested bucket %s: %w", name, k, ErrNotStore)
				}
				if err := put(p+string(k), v); err != nil {
					return err
				}
			}
			// The bucket exists once its marker is written, after its keys.
			if err := put(tx.bucketKey(name), binary.BigEndian.AppendUint64(nil, b.Sequence())); err != nil {
				return err
			}
		}
		return flush()
	})
	if err != nil {
		return 0, false, fmt.Errorf("copy %s to etcd: %w", s.path, err)
	}
	n, err = s.compareEtcd(ctx, e)
	if err != nil {
		return n, false, fmt.Errorf("copy %s to etcd: the copy differs: %w", s.path, err)
	}
	return n, false, nil
}

// compareEtcd compares every bucket, key, value and sequence of the file
// with the store on etcd and returns the keys compared.
func (s *Store) compareEtcd(ctx context.Context, e *etcdEngine) (int, error) {
	n := 0
	err := s.db.View(func(btx *bbolt.Tx) error {
		return e.view(ctx, func(etx kvTx) error {
			var fileNames, etcdNames []string
			_ = btx.ForEach(func(name []byte, _ *bbolt.Bucket) error { fileNames = append(fileNames, string(name)); return nil })
			if err := etx.ForEachBucket(func(name []byte) error { etcdNames = append(etcdNames, string(name)); return nil }); err != nil {
				return err
			}
			if fmt.Sprint(fileNames) != fmt.Sprint(etcdNames) {
				return fmt.Errorf("buckets %v in the file, %v in etcd", fileNames, etcdNames)
			}
			n = 0
			for _, name := range fileNames {
				fb, eb := boltBucket{btx.Bucket([]byte(name))}, etx.Bucket([]byte(name))
				if a, b := sequence(fb), sequence(eb); a != b {
					return fmt.Errorf("bucket %s: sequence %d in the file, %d in etcd", name, a, b)
				}
				fc, ec := fb.Cursor(), eb.Cursor()
				fk, fv := fc.First()
				ek, ev := ec.First()
				for fk != nil || ek != nil {
					if !bytes.Equal(fk, ek) || !bytes.Equal(fv, ev) {
						return fmt.Errorf("bucket %s: key %q in the file, %q in etcd, or their values differ", name, fk, ek)
					}
					n++
					fk, fv = fc.Next()
					ek, ev = ec.Next()
				}
			}
			return nil
		})
	})
	return n, err
}
