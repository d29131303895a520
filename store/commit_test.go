package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func openCommitter(t *testing.T) *committer {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return &committer{db: db, max: 64}
}

// The writes that arrive while a transaction commits share the next one,
// and each still commits whole or not at all: the write that fails gets
// its own error and leaves nothing behind, the one that panics panics in
// its caller's goroutine, and every other write of the group is stored.
func TestCommitterGroupsWritesAndIsolatesFailures(t *testing.T) {
	c := openCommitter(t)
	release, started := make(chan struct{}), make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	first := make(chan error, 1)
	go func() {
		first <- c.do(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte("b")).Get([]byte("first")) == nil {
				close(started) // once: a rerun finds nothing else to do
			}
			<-release
			return tx.Bucket([]byte("b")).Put([]byte("first"), []byte("v"))
		})
	}()
	<-started
	// While the first holds its transaction open, ten more queue up.
	const queued = 10
	refused := errors.New("refused")
	var wg sync.WaitGroup
	errs := make([]error, queued)
	txIDs := make([]int, queued)
	for i := range queued {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panicked: %v", p)
				}
			}()
			errs[i] = c.do(func(tx *bbolt.Tx) error {
				txIDs[i] = tx.ID()
				if err := tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "w%d", i), []byte("v")); err != nil {
					return err
				}
				switch i {
				case 3:
					return refused
				case 5:
					panic("bad write")
				}
				return nil
			})
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.queue)
		c.mu.Unlock()
		if n == queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued after 10 s, want %d", n, queued)
		}
		runtime.Gosched()
	}
	unblock()
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first write = %v", err)
	}
	if !errors.Is(errs[3], refused) {
		t.Errorf("failed write = %v, want its own error", errs[3])
	}
	if errs[5] == nil {
		t.Error("panicking write = nil, want it to panic in its caller")
	}
	shared := map[int]int{}
	err := c.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := range queued {
			got := b.Get(fmt.Appendf(nil, "w%d", i)) != nil
			if failed := i == 3 || i == 5; got == failed {
				t.Errorf("write %d stored = %v, want %v", i, got, !failed)
			}
			if i != 3 && i != 5 {
				if errs[i] != nil {
					t.Errorf("write %d = %v, want nil", i, errs[i])
				}
				shared[txIDs[i]]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) != 1 {
		t.Errorf("the %d writes that succeeded committed in transactions %v, want one shared", queued-2, shared)
	}
}
