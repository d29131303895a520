package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/mailack/mailack/track"
)

// Errors callers branch on.
var (
	// ErrNotFound means the mail, item or entry asked for is not stored.
	ErrNotFound = errors.New("store: not found")
	// ErrNewerSchema means the database was written by a newer mailack; see
	// SchemaError for the versions.
	ErrNewerSchema = errors.New("store: database schema is newer than this program")
	// ErrNotStore means the file is a bbolt database but not a mailack one.
	ErrNotStore = errors.New("store: not a mailack database")
	// ErrLocked means another process holds the database open.
	ErrLocked = errors.New("store: database is locked by another process")
	// ErrInvalid means an argument cannot be stored as given, such as a key
	// holding a NUL byte.
	ErrInvalid = errors.New("store: invalid argument")
)

// SchemaError reports a database whose schema version this program cannot
// use. It matches ErrNewerSchema with errors.Is.
type SchemaError struct {
	Path      string
	Found     int // the version in the file
	Supported int // the newest version this program knows
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d, newer than version %d which this mailack supports: use a newer mailack or restore a backup",
		e.Path, e.Found, e.Supported)
}

// Unwrap makes the error match ErrNewerSchema.
func (e *SchemaError) Unwrap() error { return ErrNewerSchema }

// Options tune Open. The zero value gives the defaults.
type Options struct {
	// LockTimeout bounds the wait for the file lock another process holds;
	// default 5 s. Open then fails with ErrLocked.
	LockTimeout time.Duration
	// InitialMmapSize is the size mapped at open, default 1 GiB. Writers
	// block while a read transaction (a backup, an export) is open only
	// when the file outgrows the mapping, so a generous size keeps them
	// moving; it costs address space, not memory.
	InitialMmapSize int
	// PageSize is the size in bytes of the pages of a new file; default
	// 16 KiB. A file keeps the size it was created with. A report rewrites
	// its mail's page and the branch page above it at a random place in
	// the file, and a disk writes a scattered 16 KiB page in about the
	// time it takes for 4 KiB, while four times wider branch pages are
	// shared by more of the reports committed together: at a million
	// tracked mails, 2.5 pages written per report instead of 3.7 (README,
	// "Benchmarks"). Larger pages cost more to rewrite than they save.
	PageSize int
	// MaxBatchSize bounds how many concurrent writes share one
	// transaction; default 256. A write with no other write in flight
	// commits alone at once; writes that arrive while a transaction
	// commits share the next one (see committer).
	MaxBatchSize int
	// NoSync skips fsync on commit: a crash of the machine, not only of the
	// process, may then lose or corrupt data. For tests and benchmarks.
	NoSync bool
	// NoFreelistSync leaves bbolt's list of free pages out of each commit.
	// Commits get cheaper when many pages are free (after a large Purge),
	// but every Open then reads the whole file to rebuild the list.
	NoFreelistSync bool
	// CorrelationWindow is how long before a report a mail matched only by
	// subject and recipient may have been sent; default 14 days. Negative
	// disables matching by subject.
	CorrelationWindow time.Duration
	// QuarantineHead is how many bytes of a quarantined message are kept;
	// default 64 KiB.
	QuarantineHead int
	// NoOutbox keeps notices out of the outbox, for a deployment where
	// nothing delivers them (chat turned off). Results still list the
	// notices that would have been queued. Notices already in the outbox
	// stay there.
	NoOutbox bool
	// MappedLimit bounds the pages of the file mapped into the process,
	// in bytes; default 128 MiB, negative for no bound. bbolt reads the
	// file through a shared mapping, and the kernel maps a page's cached
	// neighbours with it, so pages read stay mapped and count in the
	// process's resident set until the kernel reclaims them. When, after
	// a transaction, the process's resident file pages exceed the limit,
	// the store unmaps the file; its pages stay in the page cache, so
	// reading them again reads no disk. Linux only.
	MappedLimit int
	// Calendar counts the working time of the deadlines an out-of-office
	// notice moves (track.AnswerDeadline); nil counts wall-clock time.
	Calendar *track.Calendar
}

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = 5 * time.Second
	}
	if o.InitialMmapSize <= 0 {
		o.InitialMmapSize = 1 << 30
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = 256
	}
	if o.PageSize <= 0 {
		o.PageSize = defaultPageSize
	}
	if o.CorrelationWindow == 0 {
		o.CorrelationWindow = 14 * 24 * time.Hour
	}
	if o.QuarantineHead <= 0 {
		o.QuarantineHead = 64 << 10
	}
	if o.MappedLimit == 0 {
		o.MappedLimit = 128 << 20
	}
	return o
}

// defaultPageSize is Options.PageSize's default.
const defaultPageSize = 16 << 10

// Store is mailack's database. It is safe for concurrent use.
type Store struct {
	db   *bbolt.DB   // nil when the store is on etcd
	etcd *etcdEngine // nil when the store is a bbolt file
	path string
	opts Options

	writers atomic.Int32 // write calls in flight; see update
	commit  *committer   // groups concurrent writes; nil on etcd
	mapped  *mapping     // nil when the mapping is not kept small
	// writeFailure is the last write that failed to commit, nil once a
	// write has committed since (see WriteFailure).
	writeFailure atomic.Pointer[WriteFailure]
}

// WriteFailure is a write transaction that could not be committed: the
// disk is full, the file cannot be written or grown.
type WriteFailure struct {
	Err error
	At  time.Time
}

// LastWriteFailure returns the last write that failed to commit, if no
// write has committed since. A write refused for its content (ErrNotFound,
// ErrInvalid and the like) is not a failure of the store.
func (s *Store) LastWriteFailure() (WriteFailure, bool) {
	if f := s.writeFailure.Load(); f != nil {
		return *f, true
	}
	return WriteFailure{}, false
}

// Open opens or creates the database at path and migrates it to the
// current schema in one transaction. A database written by a newer
// mailack is refused with a *SchemaError.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         opts.LockTimeout,
		InitialMmapSize: opts.InitialMmapSize,
		// bbolt's array freelist hands out the lowest free pages first,
		// so the pages of one commit land near each other, and the old
		// places of pages written together are free together for the next
		// commit; its map freelist hands out free pages in map order,
		// scattering every commit over the file. At a million tracked
		// mails, 4,000 receipts from 100 mailboxes on mails spread over
		// the index were applied 1.3 to 2.5 times as fast as with the map
		// freelist in alternate runs, and 60,000 on mails picked at random
		// as fast (3,145 and 3,234 a second). Its costs grow with the free
		// pages: a sort and merge per commit.
		FreelistType:   bbolt.FreelistArrayType,
		NoFreelistSync: opts.NoFreelistSync,
		NoSync:         opts.NoSync,
		PageSize:       opts.PageSize,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w: %w", path, ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, opts: opts, commit: &committer{db: db, max: opts.MaxBatchSize}}
	if err := db.Update(func(tx *bbolt.Tx) error { return migrate(boltTx{tx}, path) }); err != nil {
		// The migration error is what matters; closing a file we only read
		// cannot lose anything.
		_ = db.Close()
		return nil, err
	}
	s.mapped = newMapping(opts.MappedLimit)
	s.mapped.settle(db)
	return s, nil
}

// Close closes the database. Pending writes finish first.
func (s *Store) Close() error {
	if s.etcd != nil {
		s.etcd.close()
		return nil
	}
	err := s.db.Close()
	// statm was only read.
	_ = s.mapped.close()
	if err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// update runs fn in a write transaction. A write with no other write in
// flight gets its own transaction at once; concurrent writes share one
// through the committer (on etcd, etcdEngine.update), which may run fn
// more than once, so fn must set its results afresh on every run. ctx is checked before the transaction
// starts; a transaction once started runs to its end. Afterwards the file
// is unmapped if too much of it is mapped (Options.MappedLimit).
func (s *Store) update(ctx context.Context, fn func(tx kvTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.etcd != nil {
		return s.etcd.update(ctx, fn)
	}
	defer s.mapped.settle(s.db)
	n := s.writers.Add(1)
	defer s.writers.Add(-1)
	// fnErr tells fn's own refusals from failures to commit. The
	// committer runs fn on another goroutine but returns only after it
	// has finished.
	var fnErr error
	run := func(tx *bbolt.Tx) error { fnErr = fn(boltTx{tx}); return fnErr }
	var err error
	if n == 1 {
		err = s.db.Update(run)
	} else {
		err = s.commit.do(run)
	}
	switch {
	case err == nil:
		s.writeFailure.Store(nil)
	case err != fnErr: // identity, not errors.Is: was it fn's own error?
		s.writeFailure.Store(&WriteFailure{Err: err, At: time.Now()})
	}
	return err
}

// view runs fn in a read transaction after checking ctx, and then unmaps
// the file like update.
func (s *Store) view(ctx context.Context, fn func(tx kvTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.etcd != nil {
		return s.etcd.view(ctx, fn)
	}
	defer s.mapped.settle(s.db)
	return s.db.View(func(tx *bbolt.Tx) error { return fn(boltTx{tx}) })
}
