package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestLastWriteFailure: a write refused for its content is not a failure
// of the store; a write that cannot be committed is, until one commits.
func TestLastWriteFailure(t *testing.T) {
	bboltOnly(t)
	s, err := Open(filepath.Join(t.TempDir(), "mailack.db"), Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snooze(t.Context(), "nosuch@example.com", t0.Add(time.Hour), t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Snooze(unknown) = %v, want ErrNotFound", err)
	}
	if f, failed := s.LastWriteFailure(); failed {
		t.Errorf("after a refused write: failure %+v, want none", f)
	}
	if err := s.PutUserSettings(t.Context(), "U1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err = s.PutUserSettings(t.Context(), "U1", []byte(`{}`))
	if err == nil {
		t.Fatal("write to a closed store succeeded")
	}
	f, failed := s.LastWriteFailure()
	if !failed || f.Err == nil || f.At.IsZero() {
		t.Errorf("after a failed commit: %+v %v, want the failure", f, failed)
	}
}
