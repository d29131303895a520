package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	rpctypes "go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The store on etcd keeps every bucket under one key prefix:
//
//	<prefix>b/<bucket>/<key>  a key of a bucket, with its value
//	<prefix>m/<bucket>        the bucket exists; the value is its sequence
//	                          (8 bytes big-endian) for NextSequence
//	<prefix>commit            written by every write transaction
//
// A transaction reads a snapshot: every read is made at the revision the
// transaction started at. Writes are buffered in the transaction and read
// back by it, and committed in one etcd Txn guarded by a compare on the mod
// revision of the commit key, which every write transaction updates: the
// Txn succeeds only if no other write transaction committed since the
// snapshot, which makes write transactions serializable as bbolt's single
// writer does. A Txn that loses the race is retried with a fresh snapshot.
// Each key written is one operation of the Txn, so the etcd members must
// allow as many operations per Txn as the largest write transaction makes
// (etcd's --max-txn-ops, 128 by default).
//
// Round trips: a transaction starts with one read-only Txn that returns
// the current revision, the commit key and every bucket's meta key, so
// that looking a bucket up costs nothing. Cursors read keys in pages that
// grow as they walk, and loops that load many mails by key ask for them in
// batches (prefetch). etcd serves a range in descending order by reading
// and sorting all of it, whatever the limit, so a cursor walking backwards
// reads from a lower bound its caller gives (boundBelow), not from the
// bucket's first key. Reads stay linearizable: a serializable read at the
// snapshot's revision would be as consistent, but a follower that has not
// applied that revision yet refuses it (ErrFutureRev), as one often has
// just after a write.

// EtcdOptions tune OpenEtcd.
type EtcdOptions struct {
	// Prefix is the key prefix of every key of the store, such as
	// "mailack/"; several stores can share a cluster with different
	// prefixes. Empty means "mailack/".
	Prefix string
	// ReadOnly opens an existing store of the current schema without
	// creating or migrating it, and refuses writes, as OpenReadOnly does.
	ReadOnly bool
	// CloseClient makes Close close the client too.
	CloseClient bool
}

// ErrFenced means a write was refused because its fence (WithFence) no
// longer holds: the node lost the ownership it wrote under.
var ErrFenced = errors.New("store: write refused: this node no longer owns what it writes for")

type fenceKey struct{}

// WithFence returns a context whose writes on a store on etcd commit only
// if every compare holds, checked in the same etcd transaction as the
// write: a node writes for a mailbox it owns with the compares of that
// ownership, so that once it has lost it nothing it writes is committed.
// Such a write fails with ErrFenced. Stores on bbolt files, which only one
// process opens, ignore the fence.
func WithFence(ctx context.Context, cmps ...clientv3.Cmp) context.Context {
	return context.WithValue(ctx, fenceKey{}, append(fenceFrom(ctx), cmps...))
}

func fenceFrom(ctx context.Context) []clientv3.Cmp {
	f, _ := ctx.Value(fenceKey{}).([]clientv3.Cmp)
	return slices.Clip(f)
}

// A cursor reads etcdPageSize keys from etcd at a time, twice as many at
// each following read up to etcdMaxPageSize, so that seeking reads little
// and a long scan takes few round trips.
const (
	etcdPageSize    = 256
	etcdMaxPageSize = 4096
)

// etcdBatchGets is how many keys prefetch asks for in one Txn; etcd's
// default --max-txn-ops is 128.
const etcdBatchGets = 128

type etcdEngine struct {
	cli    *clientv3.Client
	prefix string
	// mu serialises this process's write transactions: they would only
	// conflict with each other.
	mu sync.Mutex
	// maxBatch caps the calls of update that share a transaction; halved
	// when the members refuse a Txn with too many operations. Guarded by
	// mu.
	maxBatch int
	// pmu guards pending, the calls of update waiting for a transaction.
	pmu         sync.Mutex
	pending     []*etcdCall
	readOnly    bool
	closeClient bool
	closed      atomic.Bool
	conflicts   atomic.Int64
}

// ErrClosed means the store was closed.
var ErrClosed = errors.New("store: closed")

// close waits for the write in flight and refuses any later one.
func (e *etcdEngine) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed.Swap(true) && e.closeClient {
		// The client only reads and writes through transactions that
		// have ended: closing it loses nothing.
		_ = e.cli.Close()
	}
}

// ErrReadOnly means a write on a store opened for reading only.
var ErrReadOnly = errors.New("store: opened read-only")

// OpenEtcd opens the store kept in an etcd cluster through cli, creating
// or migrating it in one transaction. The client stays the caller's to
// close, after the store.
func OpenEtcd(cli *clientv3.Client, eo EtcdOptions, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	prefix := eo.Prefix
	if prefix == "" {
		prefix = "mailack/"
	}
	e := &etcdEngine{cli: cli, prefix: prefix, closeClient: eo.CloseClient, maxBatch: etcdMaxBatch}
	s := &Store{etcd: e, path: "etcd:" + prefix, opts: opts}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if eo.ReadOnly {
		err = e.view(ctx, func(tx kvTx) error { return checkSchema(tx, s.path) })
	} else {
		err = e.update(ctx, func(tx kvTx) error { return migrate(tx, s.path) })
	}
	e.readOnly = eo.ReadOnly
	if err != nil {
		e.close()
		return nil, err
	}
	return s, nil
}

// EtcdConflicts returns how many write transactions of a store on etcd
// were run again because another writer committed first.
func (s *Store) EtcdConflicts() int64 {
	if s.etcd == nil {
		return 0
	}
	return s.etcd.conflicts.Load()
}

func (e *etcdEngine) commitKey() string { return e.prefix + "commit" }

// begin starts a transaction at the current revision: one linearizable
// request reads the commit key and the meta keys of every bucket.
func (e *etcdEngine) begin(ctx context.Context) (*etcdTx, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	metaPrefix := e.prefix + "m/"
	resp, err := e.cli.Txn(ctx).Then(
		clientv3.OpGet(e.commitKey()),
		clientv3.OpGet(metaPrefix, clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	tx := &etcdTx{e: e, ctx: ctx, rev: resp.Header.Revision, writes: map[string][]byte{}, reads: map[string][]byte{},
		metaPrefix: metaPrefix, meta: map[string][]byte{}}
	if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) == 1 {
		tx.commitRev = kvs[0].ModRevision
	}
	for _, kv := range resp.Responses[1].GetResponseRange().GetKvs() {
		tx.meta[string(kv.Key)] = value(kv)
	}
	return tx, nil
}

func (e *etcdEngine) view(ctx context.Context, fn func(kvTx) error) error {
	for {
		tx, err := e.begin(ctx)
		if err != nil {
			return err
		}
		fnErr := fn(tx)
		if tx.err != nil {
			if errors.Is(tx.err, rpctypes.ErrCompacted) {
				continue // the snapshot was compacted away; read a newer one
			}
			return tx.err
		}
		return fnErr
	}
}

// etcdMaxBatch is how many concurrent calls of update share one
// transaction at most.
const etcdMaxBatch = 32

// etcdCall is a call of update waiting for its transaction.
type etcdCall struct {
	ctx  context.Context
	fn   func(kvTx) error
	done chan error // the call's result, once
}

// update runs fn in a write transaction. Concurrent calls share one, as
// DB.Batch does on bbolt: while a transaction is being committed the
// calls that arrive wait, and the next transaction runs them all, one
// after the other, and commits their writes together, with the fences of
// all of them. A call whose fn fails is run again alone, and the others
// again without it; when the shared transaction fails otherwise (a lost
// fence, too many operations for the members, a cancelled context), each
// call runs alone, so that every caller gets what it would have got
// alone. fn may thus run more than once and must set its results afresh
// on every run. A panic of fn is raised again in the caller's goroutine.
func (e *etcdEngine) update(ctx context.Context, fn func(kvTx) error) error {
	if e.readOnly {
		return ErrReadOnly
	}
	c := &etcdCall{ctx: ctx, fn: fn, done: make(chan error, 1)}
	e.pmu.Lock()
	e.pending = append(e.pending, c)
	e.pmu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		select {
		case err := <-c.done:
			if p, ok := err.(fnPanic); ok {
				panic(p.v) // fn's panic, raised where fn was called
			}
			return err
		default:
		}
		// The calls are taken in order, so c's turn comes.
		e.pmu.Lock()
		n := min(len(e.pending), e.maxBatch)
		batch := slices.Clone(e.pending[:n])
		e.pending = slices.Delete(e.pending, 0, n)
		e.pmu.Unlock()
		e.runBatch(batch)
	}
}

// runBatch runs calls and sends each its result. Its caller holds mu.
func (e *etcdEngine) runBatch(calls []*etcdCall) {
	for len(calls) > 1 {
		ctx, cancel := batchContext(calls)
		failed := -1
		refused, err := e.run(ctx, func(tx kvTx) error {
			failed = -1
			for i, c := range calls {
				if err := safely(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		cancel()
		switch {
		case err == nil:
			for _, c := range calls {
				c.done <- nil
			}
			return
		case refused && failed >= 0:
			c := calls[failed]
			if _, ok := err.(fnPanic); ok {
				c.done <- err
			} else {
				c.done <- e.runAlone(c)
			}
			calls = slices.Delete(calls, failed, failed+1)
			continue
		case errors.Is(err, rpctypes.ErrTooManyOps) || errors.Is(err, rpctypes.ErrRequestTooLarge):
			e.maxBatch = max(1, len(calls)/2)
		}
		for _, c := range calls {
			c.done <- e.runAlone(c)
		}
		return
	}
	for _, c := range calls {
		c.done <- e.runAlone(c)
	}
}

func (e *etcdEngine) runAlone(c *etcdCall) error {
	_, err := e.run(c.ctx, func(tx kvTx) error { return safely(c.fn, tx) })
	return err
}

// fnPanic is a panic of a call's fn, recovered in the goroutine that ran
// the transaction, to be raised again in the caller's.
type fnPanic struct{ v any }

func (p fnPanic) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// safely calls fn, returning a panic as an fnPanic.
func safely(fn func(kvTx) error, tx kvTx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fnPanic{v}
		}
	}()
	return fn(tx)
}

// batchContext returns the context of a transaction shared by calls: it
// carries the fences of all of them and is cancelled once every call's
// context is.
func batchContext(calls []*etcdCall) (context.Context, context.CancelFunc) {
	var fence []clientv3.Cmp
	var seen [][]clientv3.Cmp
	for _, c := range calls {
		f := fenceFrom(c.ctx)
		// Calls made with one fenced context share its fence: add it once.
		if len(f) == 0 || slices.ContainsFunc(seen, func(g []clientv3.Cmp) bool { return len(g) == len(f) && &g[0] == &f[0] }) {
			continue
		}
		seen = append(seen, f)
		fence = append(fence, f...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if len(fence) > 0 {
		ctx = WithFence(ctx, fence...)
	}
	var left atomic.Int64
	left.Store(int64(len(calls)))
	stops := make([]func() bool, len(calls))
	for i, c := range calls {
		stops[i] = context.AfterFunc(c.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// run runs fn in a transaction, again after each conflict, and commits it.
// refused reports that the error is fn's own.
func (e *etcdEngine) run(ctx context.Context, fn func(kvTx) error) (refused bool, err error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		tx, err := e.begin(ctx)
		if err != nil {
			return false, err
		}
		fnErr := fn(tx)
		if tx.err != nil {
			if errors.Is(tx.err, rpctypes.ErrCompacted) {
				continue
			}
			return false, tx.err
		}
		if fnErr != nil {
			return true, fnErr
		}
		ok, err := tx.commit()
		if err != nil {
			return false, err
		}
		if ok {
			return false, nil
		}
		e.conflicts.Add(1)
		// Another node committed since the snapshot: wait a little, more
		// after each loss, so that contending nodes spread out.
		t := time.NewTimer(time.Duration(min(attempt, 8)+1) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// etcdTx is a kvTx on a snapshot of etcd, with the writes kept until
// commit.
type etcdTx struct {
	e         *etcdEngine
	ctx       context.Context
	rev       int64 // the snapshot
	commitRev int64 // the commit key's mod revision at the snapshot
	// writes holds every key written, nil for a deleted key; written
	// lists them in order.
	writes  map[string][]byte
	written []string
	reads   map[string][]byte // point reads, nil for a key not stored
	// meta holds every bucket's meta key (under metaPrefix) at the
	// snapshot, read when the transaction began.
	metaPrefix string
	meta       map[string][]byte
	err        error // the first read or write that failed
}

func (tx *etcdTx) fail(err error) {
	if tx.err == nil {
		tx.err = fmt.Errorf("etcd: %w", err)
	}
}

// get returns the value of a full key as the transaction sees it.
func (tx *etcdTx) get(key string) []byte {
	if v, ok := tx.writes[key]; ok {
		return v
	}
	if strings.HasPrefix(key, tx.metaPrefix) {
		return tx.meta[key]
	}
	if v, ok := tx.reads[key]; ok {
		return v
	}
	if tx.err != nil {
		return nil
	}
	resp, err := tx.rangeAt(key)
	if err != nil {
		tx.fail(err)
		return nil
	}
	var v []byte
	if len(resp.Kvs) == 1 {
		v = value(resp.Kvs[0])
	}
	tx.reads[key] = v
	return v
}

// rangeAt reads key with opts at the snapshot.
func (tx *etcdTx) rangeAt(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	return tx.e.cli.Get(tx.ctx, key, append(opts, clientv3.WithRev(tx.rev))...)
}

// prefetch reads the keys the transaction has neither read nor written
// yet, a batch of them per request, so that the Gets that follow make no
// round trip.
func (tx *etcdTx) prefetch(keys []keyIn) {
	var batch []string
	for _, k := range keys {
		full := tx.dataPrefix(k.bucket) + string(k.key)
		if _, ok := tx.writes[full]; ok {
			continue
		}
		if _, ok := tx.reads[full]; ok || slices.Contains(batch, full) {
			continue
		}
		batch = append(batch, full)
		if len(batch) == etcdBatchGets {
			tx.getBatch(batch)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		tx.getBatch(batch)
	}
}

func (tx *etcdTx) getBatch(keys []string) {
	if tx.err != nil {
		return
	}
	ops := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		ops[i] = clientv3.OpGet(k, clientv3.WithRev(tx.rev))
	}
	resp, err := tx.e.cli.Txn(tx.ctx).Then(ops...).Commit()
	if err != nil {
		tx.fail(err)
		return
	}
	for i, r := range resp.Responses {
		var v []byte
		if kvs := r.GetResponseRange().GetKvs(); len(kvs) == 1 {
			v = value(kvs[0])
		}
		tx.reads[keys[i]] = v
	}
}

// keyIn names a key of a bucket.
type keyIn struct{ bucket, key []byte }

// prefetch tells tx that the keys are about to be read, so that an engine
// with round trips reads them together; a key that turns out not to be
// read costs nothing else.
func prefetch(tx kvTx, keys []keyIn) {
	if et, ok := tx.(*etcdTx); ok {
		et.prefetch(keys)
	}
}

// prefetchMails is prefetch for the mails with the Message-IDs ids.
func prefetchMails(tx kvTx, ids []string) {
	if _, ok := tx.(*etcdTx); !ok {
		return
	}
	keys := make([]keyIn, len(ids))
	for i, id := range ids {
		keys[i] = keyIn{bucketMails, []byte(id)}
	}
	prefetch(tx, keys)
}

// value returns a stored value, never nil: an empty value is not a
// missing key.
func value(kv *mvccpb.KeyValue) []byte {
	if kv.Value == nil {
		return empty
	}
	return kv.Value
}

func (tx *etcdTx) set(key string, v []byte) error {
	if tx.err != nil {
		return tx.err
	}
	if _, ok := tx.writes[key]; !ok {
		i, _ := slices.BinarySearch(tx.written, key)
		tx.written = slices.Insert(tx.written, i, key)
	}
	if v != nil {
		v = bytes.Clone(v)
	}
	tx.writes[key] = v
	return nil
}

func (tx *etcdTx) commit() (bool, error) {
	if len(tx.written) == 0 {
		return true, nil
	}
	ops := make([]clientv3.Op, 0, len(tx.written)+1)
	for _, k := range tx.written {
		if v := tx.writes[k]; v != nil {
			ops = append(ops, clientv3.OpPut(k, string(v)))
		} else {
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	ops = append(ops, clientv3.OpPut(tx.e.commitKey(), ""))
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(tx.e.commitKey()), "=", tx.commitRev)}
	fence := fenceFrom(tx.ctx)
	cmps = append(cmps, fence...)
	// The fence is checked again on failure to tell a lost fence from a
	// lost race.
	var orElse []clientv3.Op
	if len(fence) > 0 {
		orElse = append(orElse, clientv3.OpTxn(fence, nil, nil))
	}
	resp, err := tx.e.cli.Txn(tx.ctx).If(cmps...).Then(ops...).Else(orElse...).Commit()
	if err != nil {
		return false, fmt.Errorf("etcd: commit %d writes: %w", len(ops), err)
	}
	if resp.Succeeded {
		return true, nil
	}
	if len(orElse) > 0 && !resp.Responses[0].GetResponseTxn().Succeeded {
		return false, ErrFenced
	}
	return false, nil
}

func (tx *etcdTx) bucketKey(name []byte) string { return tx.e.prefix + "m/" + string(name) }
func (tx *etcdTx) dataPrefix(name []byte) string {
	return tx.e.prefix + "b/" + string(name) + "/"
}

func (tx *etcdTx) Bucket(name []byte) bucket {
	// After a failed read the bucket is handed out all the same: the
	// rules take the schema's buckets for granted, and the transaction
	// fails with the read's error whatever they do with it.
	if tx.get(tx.bucketKey(name)) == nil && tx.err == nil {
		return nil
	}
	return &etcdBucket{tx: tx, name: name, prefix: tx.dataPrefix(name)}
}

func (tx *etcdTx) CreateBucket(name []byte) (bucket, error) {
	if len(name) == 0 || strings.ContainsRune(string(name), '/') {
		return nil, fmt.Errorf("bucket name %q: %w", name, ErrInvalid)
	}
	if tx.Bucket(name) != nil {
		return nil, fmt.Errorf("bucket %s already exists", name)
	}
	if err := tx.set(tx.bucketKey(name), make([]byte, 8)); err != nil {
		return nil, err
	}
	return tx.Bucket(name), tx.err
}

func (tx *etcdTx) CreateBucketIfNotExists(name []byte) (bucket, error) {
	if b := tx.Bucket(name); b != nil || tx.err != nil {
		return b, tx.err
	}
	return tx.CreateBucket(name)
}

func (tx *etcdTx) DeleteBucket(name []byte) error {
	b := tx.Bucket(name)
	if b == nil {
		if tx.err != nil {
			return tx.err
		}
		return fmt.Errorf("bucket %s not found", name)
	}
	eb := b.(*etcdBucket)
	c := newEtcdCursor(tx, eb.prefix)
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if err := tx.set(eb.prefix+string(k), nil); err != nil {
			return err
		}
	}
	if err := tx.set(tx.bucketKey(name), nil); err != nil {
		return err
	}
	return tx.err
}

func (tx *etcdTx) ForEachBucket(fn func(name []byte) error) error {
	c := newEtcdCursor(tx, tx.e.prefix+"m/")
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if err := fn(k); err != nil {
			return err
		}
	}
	return tx.err
}

type etcdBucket struct {
	tx     *etcdTx
	name   []byte
	prefix string
}

func (b *etcdBucket) Get(k []byte) []byte { return b.tx.get(b.prefix + string(k)) }

func (b *etcdBucket) Put(k, v []byte) error {
	if len(k) == 0 {
		return fmt.Errorf("put in %s: empty key: %w", b.name, ErrInvalid)
	}
	if v == nil {
		v = empty
	}
	return b.tx.set(b.prefix+string(k), v)
}

func (b *etcdBucket) Delete(k []byte) error { return b.tx.set(b.prefix+string(k), nil) }

func (b *etcdBucket) Cursor() cursor { return newEtcdCursor(b.tx, b.prefix) }

func (b *etcdBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.tx.err
}

func (b *etcdBucket) NextSequence() (uint64, error) {
	key := b.tx.bucketKey(b.name)
	v := b.tx.get(key)
	if b.tx.err != nil {
		return 0, b.tx.err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("sequence of bucket %s is %d bytes long, want 8", b.name, len(v))
	}
	n := binary.BigEndian.Uint64(v) + 1
	return n, b.tx.set(key, binary.BigEndian.AppendUint64(nil, n))
}

// etcdPage holds keys read from etcd in one request: in ascending order
// every key at or after bound up to the last one read (to the end of the
// range when more is false); in descending order every key before bound
// down to the last one read (to the start of the range).
type etcdPage struct {
	desc  bool
	bound string
	kvs   []*mvccpb.KeyValue
	more  bool
}

// covers reports whether the page answers a query for the first key at or
// after q (ascending) or the last key before q (descending).
func (p *etcdPage) covers(q string) bool {
	if p == nil {
		return false
	}
	if !p.desc {
		return q >= p.bound && (!p.more || len(p.kvs) > 0 && q <= string(p.kvs[len(p.kvs)-1].Key))
	}
	return q <= p.bound && (!p.more || len(p.kvs) > 0 && q > string(p.kvs[len(p.kvs)-1].Key))
}

// etcdCursor walks the keys under prefix as its transaction sees them:
// the snapshot with the transaction's writes laid over it.
type etcdCursor struct {
	tx        *etcdTx
	prefix    string
	low       string // the lowest key a backward walk reads; see boundBelow
	high      string // the first key a forward walk does not read; see boundAbove
	cur       string // the key the cursor is on, with the prefix
	on        bool
	asc, desc *etcdPage
	page      int64 // keys to read next time
}

func newEtcdCursor(tx *etcdTx, prefix string) *etcdCursor {
	return &etcdCursor{tx: tx, prefix: prefix, low: prefix, high: clientv3.GetPrefixRangeEnd(prefix), page: etcdPageSize}
}

// boundBelow tells c that its caller walks backwards no further than key
// low: Last and Prev may then behave as if the bucket held no key below
// it. On etcd, whose descending reads cost the whole range they cover,
// this bounds what a backward walk reads.
func boundBelow(c cursor, low []byte) {
	if ec, ok := c.(*etcdCursor); ok {
		ec.low = max(ec.low, ec.prefix+string(low))
	}
}

// boundAbove tells c that its caller reads no key at or after high: Seek,
// Next and Last may then behave as if the bucket held none. On etcd this
// keeps a forward walk from reading pages past what its caller wants.
func boundAbove(c cursor, high []byte) {
	if ec, ok := c.(*etcdCursor); ok {
		ec.high = min(ec.high, ec.prefix+string(high))
	}
}

// pageSize returns how many keys to read now and doubles it for the next
// read.
func (c *etcdCursor) pageSize() int64 {
	n := c.page
	c.page = min(2*c.page, etcdMaxPageSize)
	return n
}

// remoteAsc returns the first stored key at or after q and before c.high,
// nil at the end.
func (c *etcdCursor) remoteAsc(q string) *mvccpb.KeyValue {
	if q >= c.high {
		return nil
	}
	if !c.asc.covers(q) {
		if c.tx.err != nil {
			return nil
		}
		resp, err := c.tx.rangeAt(q, clientv3.WithRange(c.high),
			clientv3.WithLimit(c.pageSize()), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		if err != nil {
			c.tx.fail(err)
			return nil
		}
		c.asc = &etcdPage{bound: q, kvs: resp.Kvs, more: resp.More}
	}
	kvs := c.asc.kvs
	i, _ := slices.BinarySearchFunc(kvs, q, func(kv *mvccpb.KeyValue, q string) int { return strings.Compare(string(kv.Key), q) })
	if i < len(kvs) {
		return kvs[i]
	}
	return nil
}

// remoteDesc returns the last stored key before q and at or after c.low,
// nil at the start.
func (c *etcdCursor) remoteDesc(q string) *mvccpb.KeyValue {
	if q <= c.low {
		return nil
	}
	if !c.desc.covers(q) {
		if c.tx.err != nil {
			return nil
		}
		resp, err := c.tx.rangeAt(c.low, clientv3.WithRange(q),
			clientv3.WithLimit(c.pageSize()), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
		if err != nil {
			c.tx.fail(err)
			return nil
		}
		c.desc = &etcdPage{desc: true, bound: q, kvs: resp.Kvs, more: resp.More}
	}
	kvs := c.desc.kvs // descending
	// The first key before q: keys at or after q come first.
	i, _ := slices.BinarySearchFunc(kvs, q, func(kv *mvccpb.KeyValue, q string) int {
		if string(kv.Key) >= q {
			return -1
		}
		return 1
	})
	if i < len(kvs) {
		return kvs[i]
	}
	return nil
}

// ceil moves to the first key at or after q.
func (c *etcdCursor) ceil(q string) ([]byte, []byte) {
	r := c.remoteAsc(q)
	for r != nil {
		if _, written := c.tx.writes[string(r.Key)]; !written {
			break
		}
		r = c.remoteAsc(string(r.Key) + "\x00")
	}
	// The first written key at or after q that is not deleted.
	var w string
	wok := false
	for i, _ := slices.BinarySearch(c.tx.written, q); i < len(c.tx.written) && c.tx.written[i] < c.high; i++ {
		if k := c.tx.written[i]; c.tx.writes[k] != nil {
			w, wok = k, true
			break
		}
	}
	switch {
	case wok && (r == nil || w < string(r.Key)):
		return c.move(w, c.tx.writes[w])
	case r != nil:
		return c.move(string(r.Key), value(r))
	}
	c.on = false
	return nil, nil
}

// floor moves to the last key before q.
func (c *etcdCursor) floor(q string) ([]byte, []byte) {
	r := c.remoteDesc(q)
	for r != nil {
		if _, written := c.tx.writes[string(r.Key)]; !written {
			break
		}
		r = c.remoteDesc(string(r.Key))
	}
	var w string
	wok := false
	i, _ := slices.BinarySearch(c.tx.written, q)
	for i--; i >= 0 && c.tx.written[i] >= c.low; i-- {
		if k := c.tx.written[i]; c.tx.writes[k] != nil {
			w, wok = k, true
			break
		}
	}
	switch {
	case wok && (r == nil || w > string(r.Key)):
		return c.move(w, c.tx.writes[w])
	case r != nil:
		return c.move(string(r.Key), value(r))
	}
	c.on = false
	return nil, nil
}

func (c *etcdCursor) move(k string, v []byte) ([]byte, []byte) {
	c.cur, c.on = k, true
	return []byte(k[len(c.prefix):]), v
}

func (c *etcdCursor) First() ([]byte, []byte) { return c.ceil(c.prefix) }
func (c *etcdCursor) Last() ([]byte, []byte)  { return c.floor(c.high) }

func (c *etcdCursor) Seek(seek []byte) ([]byte, []byte) { return c.ceil(c.prefix + string(seek)) }

func (c *etcdCursor) Next() ([]byte, []byte) {
	if !c.on {
		return nil, nil
	}
	return c.ceil(c.cur + "\x00")
}

func (c *etcdCursor) Prev() ([]byte, []byte) {
	if !c.on {
		return nil, nil
	}
	return c.floor(c.cur)
}

// etcdBackup writes a bbolt file with the contents of one snapshot of the
// store on etcd to w: the file Open reads, so a backup of a cluster can be
// restored as a single-node store or migrated back with MigrateToEtcd.
func (s *Store) etcdBackup(ctx context.Context, w io.Writer) (int64, error) {
	dir, err := os.MkdirTemp("", "mailack-backup-*")
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", s.path, err)
	}
	// The directory holds only the copy made here.
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := bbolt.Open(filepath.Join(dir, "backup.db"), 0o600, &bbolt.Options{NoSync: true, FreelistType: bbolt.FreelistMapType, PageSize: defaultPageSize})
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", s.path, err)
	}
	// Closing a copy that is about to be removed loses nothing.
	defer func() { _ = db.Close() }()
	err = s.etcd.view(ctx, func(src kvTx) error {
		return db.Update(func(btx *bbolt.Tx) error { return copyBuckets(ctx, src, boltTx{btx}) })
	})
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", s.path, err)
	}
	var n int64
	err = db.View(func(tx *bbolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup %s: %w", s.path, err)
	}
	return n, nil
}

// copyBuckets copies every bucket of src, with its keys and sequence, into
// dst, which must hold none of them.
func copyBuckets(ctx context.Context, src, dst kvTx) error {
	var names [][]byte
	if err := src.ForEachBucket(func(name []byte) error { names = append(names, bytes.Clone(name)); return nil }); err != nil {
		return err
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		from := src.Bucket(name)
		to, err := dst.CreateBucket(name)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
		if err := from.ForEach(func(k, v []byte) error { return to.Put(bytes.Clone(k), bytes.Clone(v)) }); err != nil {
			return fmt.Errorf("copy bucket %s: %w", name, err)
		}
		if err := setSequence(to, sequence(from)); err != nil {
			return fmt.Errorf("copy bucket %s: %w", name, err)
		}
	}
	return nil
}
