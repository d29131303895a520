package store

import (
	"errors"
	"fmt"
	"os"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrOldSchema means the database was written by an older mailack and
// needs a migration, which only Open (the daemon) makes; see
// OldSchemaError for the versions.
var ErrOldSchema = errors.New("store: database schema is older than this program")

// OldSchemaError reports a database OpenReadOnly cannot read until Open
// has migrated it. It matches ErrOldSchema with errors.Is.
type OldSchemaError struct {
	Path    string
	Found   int // the version in the file
	Current int // the version this program writes
}

func (e *OldSchemaError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d, older than version %d which this mailack uses: "+
		"start the daemon (mailack run) once to upgrade it, or use the mailack that wrote it", e.Path, e.Found, e.Current)
}

// Unwrap makes the error match ErrOldSchema.
func (e *OldSchemaError) Unwrap() error { return ErrOldSchema }

// OpenReadOnly opens an existing database for reading only: it never
// creates, initialises or migrates the file, and it shares the file lock
// with other readers, so it fails with ErrLocked while a process holds the
// database open for writing. A missing file fails with an error matching
// os.ErrNotExist; a database of another schema version with an
// *OldSchemaError or a *SchemaError. Writes on the store fail.
func OpenReadOnly(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: not a regular file: %w", path, ErrNotStore)
	}
	// bbolt would try to initialise an empty file, which it cannot write.
	if fi.Size() == 0 {
		return nil, fmt.Errorf("open %s: the file is empty: %w", path, ErrNotStore)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		ReadOnly:        true,
		Timeout:         opts.LockTimeout,
		InitialMmapSize: opts.InitialMmapSize,
		FreelistType:    bbolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w: %w", path, ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.View(func(tx *bbolt.Tx) error { return checkSchema(boltTx{tx}, path) }); err != nil {
		// Nothing was written: closing a file opened read-only loses
		// nothing.
		_ = db.Close()
		return nil, err
	}
	s := &Store{db: db, path: path, opts: opts}
	s.mapped = newMapping(opts.MappedLimit)
	s.mapped.settle(db)
	return s, nil
}

// checkSchema checks, without writing, that the database has the current
// schema.
func checkSchema(tx kvTx, path string) error {
	have, err := schemaVersion(tx)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	switch {
	case have == 0:
		return fmt.Errorf("open %s: no mailack data in it: %w", path, ErrNotStore)
	case have > currentSchema:
		return &SchemaError{Path: path, Found: have, Supported: currentSchema}
	case have < currentSchema:
		return &OldSchemaError{Path: path, Found: have, Current: currentSchema}
	}
	if err := checkBuckets(tx); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	return nil
}
