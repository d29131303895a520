package mailwatch

import (
	"context"
	"io"
	"math/rand/v2"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// backoff computes the waits between reconnects of one folder: capped
// exponential backoff with full jitter, each wait drawn uniformly from
// [0, min(max, min·2^failures)). Full jitter spreads the reconnects of
// thousands of folders that lost their server at the same moment over the
// whole window, rather than bunching them at its end as "equal jitter"
// (half fixed, half random) does (AWS Architecture Blog, "Exponential
// Backoff And Jitter", 2015).
type backoff struct {
	min, max time.Duration
	ceiling  time.Duration // the current upper bound of the wait
	rand     func(n int64) int64
}

func newBackoff(lo, hi time.Duration) *backoff {
	return &backoff{min: lo, max: hi, ceiling: lo, rand: rand.Int64N}
}

// next returns the wait before the next attempt and doubles the ceiling
// for the one after, up to max.
func (b *backoff) next() time.Duration {
	wait := time.Duration(b.rand(int64(b.ceiling)) + 1)
	b.ceiling = min(2*b.ceiling, b.max)
	return wait
}

// reset returns to the shortest ceiling, after a session that worked.
func (b *backoff) reset() { b.ceiling = b.min }

// semaphore bounds how many holders run at once; nil means no bound.
type semaphore chan struct{}

func newSemaphore(n int) semaphore {
	if n <= 0 {
		return nil
	}
	return make(semaphore, n)
}

// acquire waits for a free slot or for ctx to end.
func (s semaphore) acquire(ctx context.Context) error {
	if s == nil {
		return ctx.Err()
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s semaphore) release() {
	if s != nil {
		<-s
	}
}

// connect opens a logged-in connection to a's server for as long as the
// caller holds it, within the watcher's caps: it first waits for one of
// the account's connection slots, which it keeps until release is called,
// then for one of the global login slots, which it gives back as soon as
// the login is over.
func (w *Watcher) connect(ctx context.Context, a Account, h *imapclient.UnilateralDataHandler, tap io.Writer) (c *imapclient.Client, release func(), err error) {
	slots := w.perAccount[a.Name]
	if err := slots.acquire(ctx); err != nil {
		return nil, nil, err
	}
	if err := w.logins.acquire(ctx); err != nil {
		slots.release()
		return nil, nil, err
	}
	c, err = dial(ctx, a, w.opts.CommandTimeout, h, &w.bytesRead, tap)
	w.logins.release()
	if err != nil {
		slots.release()
		return nil, nil, err
	}
	w.loginCount.Add(1)
	return c, func() { c.Close(); slots.release() }, nil
}
