package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// batchCall is one call of update in TestEtcdBatch.
type batchCall struct {
	ctx   context.Context
	key   string
	fail  bool // fn writes its key, then refuses
	panic bool // fn writes its key, then panics
}

// runBatched holds the store's write lock while the calls queue up, so
// that they all wait for the same transaction, then lets them run; it
// returns each call's error and how many commits were made meanwhile
// (each adds one revision; nothing else writes).
func runBatched(t *testing.T, s *Store, calls []batchCall) ([]error, int64) {
	t.Helper()
	e := s.etcd
	name := []byte("batch")
	rev := func() int64 {
		resp, err := testEtcd.Get(t.Context(), e.commitKey())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	before := rev()
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	e.mu.Lock()
	for i, c := range calls {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					errs[i] = fmt.Errorf("panicked: %v", v)
				}
			}()
			errs[i] = s.update(c.ctx, func(tx kvTx) error {
				b, err := tx.CreateBucketIfNotExists(name)
				if err != nil {
					return err
				}
				if err := b.Put([]byte(c.key), []byte("v")); err != nil {
					return err
				}
				if c.panic {
					panic("boom")
				}
				if c.fail {
					return errBoom
				}
				return nil
			})
		})
	}
	// Wait until every call is queued.
	deadline := time.Now().Add(time.Minute)
	for {
		e.pmu.Lock()
		n := len(e.pending)
		e.pmu.Unlock()
		if n == len(calls) {
			break
		}
		if time.Now().After(deadline) {
			e.mu.Unlock()
			t.Fatalf("%d of %d calls queued after a minute", n, len(calls))
		}
		runtime.Gosched()
	}
	e.mu.Unlock()
	wg.Wait()
	return errs, rev() - before
}

// TestEtcdBatch: concurrent writes share one etcd transaction; a write
// that fails leaves nothing and does not fail the others; one that panics
// panics in its caller's goroutine; a write whose fence no longer holds is
// refused alone.
func TestEtcdBatch(t *testing.T) {
	if testEtcd == nil {
		t.Skip("the batching of the etcd engine")
	}
	ctx := t.Context()
	prefix := "test" + filepath.ToSlash(t.TempDir()) + "/" // fresh in each run of the test
	s, err := OpenEtcd(testEtcd, EtcdOptions{Prefix: prefix + "store/"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stored := func(key string) bool {
		var ok bool
		err := s.view(ctx, func(tx kvTx) error {
			b := tx.Bucket([]byte("batch"))
			ok = b != nil && b.Get([]byte(key)) != nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	var calls []batchCall
	for i := range 6 {
		calls = append(calls, batchCall{ctx: ctx, key: fmt.Sprintf("k%d", i), fail: i == 2 || i == 4, panic: i == 5})
	}
	errs, revs := runBatched(t, s, calls)
	for i, c := range calls {
		switch {
		case c.panic:
			if errs[i] == nil || errs[i].Error() != "panicked: boom" {
				t.Errorf("call %d (panics) = %v, want a panic in its goroutine", i, errs[i])
			}
		case c.fail != errors.Is(errs[i], errBoom) || !c.fail && errs[i] != nil:
			t.Errorf("call %d (fails: %t) = %v", i, c.fail, errs[i])
		}
		if bad := c.fail || c.panic; stored(c.key) == bad {
			t.Errorf("call %d (fails: %t, panics: %t): key stored %t", i, c.fail, c.panic, !bad)
		}
	}
	if revs != 1 {
		t.Errorf("the 3 writes that succeeded made %d commits, want 1", revs)
	}

	owner := prefix + "owner"
	if _, err := testEtcd.Put(ctx, owner, "node-b"); err != nil {
		t.Fatal(err)
	}
	lost := WithFence(ctx, clientv3.Compare(clientv3.Value(owner), "=", "node-a"))
	held := WithFence(ctx, clientv3.Compare(clientv3.Value(owner), "=", "node-b"))
	calls = []batchCall{{ctx: lost, key: "f0"}, {ctx: held, key: "f1"}, {ctx: ctx, key: "f2"}, {ctx: lost, key: "f3"}}
	errs, revs = runBatched(t, s, calls)
	for i, c := range calls {
		fenced := c.ctx == lost
		if fenced != errors.Is(errs[i], ErrFenced) || !fenced && errs[i] != nil {
			t.Errorf("call %d (fence lost: %t) = %v", i, fenced, errs[i])
		}
		if stored(c.key) == fenced {
			t.Errorf("call %d (fence lost: %t): key stored %t", i, fenced, !fenced)
		}
	}
	if revs != 2 {
		t.Errorf("after the shared transaction was fenced, the 2 writes that hold made %d commits, want 2 (one each)", revs)
	}
}
