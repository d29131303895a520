package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// OpenReadOnly never creates, initialises or migrates a file, and refuses
// what it cannot read with an error that says what to do.
func TestOpenReadOnlyRefuses(t *testing.T) {
	bboltOnly(t)
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	s := openAt(t, newer, Options{NoSync: true})
	mustDo(t, "set schema", func() error {
		return s.update(context.Background(), func(tx kvTx) error { return setSchemaVersion(tx, currentSchema+1) })
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "v3.db")
	copyTestFile(t, fixturePath(3), old)
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(dir, "bare.db")
	db, err := bbolt.Open(bare, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name string
		path string
		want error
		text string
	}{
		{"missing", filepath.Join(dir, "typo.db"), os.ErrNotExist, "typo.db"},
		{"directory", dir, ErrNotStore, "not a regular file"},
		{"empty file", empty, ErrNotStore, "empty"},
		{"bbolt without mailack data", bare, ErrNotStore, "no mailack data"},
		{"older schema", old, ErrOldSchema, "start the daemon (mailack run) once to upgrade it"},
		{"newer schema", newer, ErrNewerSchema, "use a newer mailack"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			s, err := OpenReadOnly(tc.path, Options{LockTimeout: time.Second})
			if err == nil {
				s.Close()
				t.Fatalf("OpenReadOnly(%s) = nil error, want %v", tc.name, tc.want)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("OpenReadOnly(%s) = %v, want %v saying %q", tc.name, err, tc.want, tc.text)
			}
			after, statErr := os.ReadFile(tc.path)
			if tc.want == os.ErrNotExist {
				if !errors.Is(statErr, os.ErrNotExist) {
					t.Errorf("OpenReadOnly created %s", tc.path)
				}
				return
			}
			if !bytes.Equal(before, after) {
				t.Errorf("OpenReadOnly(%s) changed the file", tc.name)
			}
		})
	}
}

// A read-only store reads what Open wrote, refuses writes, leaves the file
// as it was, and cannot open a database another store holds for writing.
func TestOpenReadOnlyReads(t *testing.T) {
	bboltOnly(t)
	path := filepath.Join(t.TempDir(), "mailack.db")
	s := openAt(t, path, Options{NoSync: true})
	register(t, s, newMail(t, "ro@example.com", "alice@example.com", t0, "bob@example.net"), t0)

	if _, err := OpenReadOnly(path, Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("OpenReadOnly while a writer holds the file = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnly(path, Options{})
	if err != nil {
		t.Fatalf("OpenReadOnly() = %v", err)
	}
	// A second reader shares the lock.
	ro2, err := OpenReadOnly(path, Options{LockTimeout: time.Second})
	if err != nil {
		t.Errorf("second OpenReadOnly() = %v, want readers to share the file", err)
	} else {
		ro2.Close()
	}
	m, err := ro.Mail(t.Context(), "ro@example.com")
	if err != nil || m.Sender != "alice@example.com" {
		t.Errorf("Mail() = %+v, %v; want alice's mail", m, err)
	}
	var out bytes.Buffer
	if err := ro.Export(t.Context(), &out); err != nil || !strings.Contains(out.String(), "ro@example.com") {
		t.Errorf("Export() = %v, output %q; want the mail", err, out.String())
	}
	if _, err := ro.Snooze(t.Context(), "ro@example.com", t0.Add(72*time.Hour), t0); !errors.Is(err, berrors.ErrDatabaseReadOnly) {
		t.Errorf("Snooze() on a read-only store = %v, want a read-only error", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the read-only store changed the file")
	}
}

func copyTestFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
