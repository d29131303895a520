package store

import (
	"errors"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// committer groups concurrent writes into shared transactions (group
// commit): the writes that arrive while a transaction commits wait
// together and commit together in the next one, up to max at a time. A
// commit costs the same fsyncs for one write as for a hundred, so with
// many mailboxes delivering at once nearly every write shares them.
//
// bbolt's own DB.Batch groups only the writes that arrive within
// MaxBatchDelay of each other; the groups then queue one behind another
// for the write lock, each with its own commit, so while a commit takes
// longer than the delay most writes commit in small groups.
//
// Each write still commits whole or not at all: when one write function
// fails, the transaction is rolled back, that write is run again alone in
// a transaction of its own (which reports its error to its caller), and
// the others are run again together. A write function may therefore run
// more than once, and must compute its results afresh each time.
type committer struct {
	db  *bbolt.DB
	max int

	mu      sync.Mutex // guards the fields below
	queue   []*write   // waiting for the next transaction
	running bool       // a goroutine is committing the queue
}

// write is one write function waiting for its transaction.
type write struct {
	fn   func(*bbolt.Tx) error
	done chan error // receives the result, once
}

// errAlone tells a write that its function failed in a shared
// transaction, so it must run alone to learn its own result.
var errAlone = errors.New("store: write failed in a shared transaction; run alone")

// do runs fn in a transaction shared with the writes waiting beside it.
func (c *committer) do(fn func(*bbolt.Tx) error) error {
	w := &write{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.drain()
	}
	if err := <-w.done; err != errAlone {
		return err
	}
	return c.db.Update(fn)
}

// drain commits the queue, max writes a transaction, until it is empty.
func (c *committer) drain() {
	for {
		c.mu.Lock()
		n := min(len(c.queue), c.max)
		if n == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		group := c.queue[:n:n]
		c.queue = c.queue[n:]
		c.mu.Unlock()
		c.commit(group)
	}
}

// commit runs group in one transaction; a write whose function fails is
// sent to run alone and the rest run again without it.
func (c *committer) commit(group []*write) {
	for len(group) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bbolt.Tx) error {
			for i, w := range group {
				if err := safelyBolt(w.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			group[failed].done <- errAlone
			group = append(group[:failed:failed], group[failed+1:]...)
			continue
		}
		for _, w := range group {
			w.done <- err
		}
		return
	}
}

// safelyBolt runs fn, turning a panic into an error so that one write cannot
// take the others in its transaction down; run alone, the write panics
// again in its caller's goroutine.
func safelyBolt(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(tx)
}
