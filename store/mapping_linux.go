package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"sync/atomic"

	"go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// mapping keeps the pages of the database file that are mapped into the
// process under a limit; see Options.MappedLimit. A nil *mapping keeps
// none.
type mapping struct {
	statm *os.File // /proc/self/statm, read from offset 0 each time
	limit int64    // in pages

	busy  atomic.Bool  // an unmapping is in progress
	trims atomic.Int64 // unmappings done
}

// newMapping returns a mapping that keeps the process's resident file
// pages under limit bytes, or nil for a limit of zero or less or where
// the process cannot measure them.
func newMapping(limit int) *mapping {
	if limit <= 0 {
		return nil
	}
	fh, err := os.Open("/proc/self/statm")
	if err != nil {
		// Without /proc the store cannot tell how much is mapped, and
		// leaving every page mapped costs reclaimable memory only.
		return nil
	}
	return &mapping{statm: fh, limit: int64(limit / os.Getpagesize())}
}

// settle unmaps the file from the process when its resident file pages
// exceed the limit. One caller unmaps at a time; the others go on.
func (m *mapping) settle(db *bbolt.DB) {
	if m == nil || m.resident() <= m.limit || !m.busy.CompareAndSwap(false, true) {
		return
	}
	defer m.busy.Store(false)
	// A failed unmapping leaves the pages mapped, which wastes only
	// reclaimable memory; the next settle tries again.
	_ = m.trim(db)
}

// resident returns the pages of files mapped into the process that are
// resident: the third figure in statm, file and shared memory pages,
// nearly all of them the database's.
func (m *mapping) resident() int64 {
	var buf [160]byte
	n, err := m.statm.ReadAt(buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0
	}
	f := bytes.Fields(buf[:n])
	if len(f) < 3 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return 0
	}
	return pages
}

// trim unmaps the file's pages from the process (MADV_DONTNEED). The
// mapping is shared and read-only, so the pages stay in the page cache and
// the next read maps them again with the same contents; readers in other
// transactions see no difference.
func (m *mapping) trim(db *bbolt.DB) error {
	return db.View(func(tx *bbolt.Tx) error {
		// bbolt remaps only with no read transaction open, so during this
		// one the mapping starts at Data and covers the tx.Size() bytes of
		// the file this transaction reads.
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, db.Info().Data, uintptr(tx.Size()), unix.MADV_DONTNEED)
		if errno != 0 {
			return errno
		}
		m.trims.Add(1)
		return nil
	})
}

func (m *mapping) close() error {
	if m == nil {
		return nil
	}
	return m.statm.Close()
}
