package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestUserSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.UserSettings(ctx, "U1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UserSettings(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.PutUserSettings(ctx, "U1", []byte(`{"lang":"ja"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUserSettings(ctx, "", []byte(`{}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("PutUserSettings(no user) = %v, want ErrInvalid", err)
	}
	s.Close()
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.UserSettings(ctx, "U1")
	if err != nil || string(got) != `{"lang":"ja"}` {
		t.Errorf("UserSettings after reopen = %q, %v", got, err)
	}
}

// SettingsUsers lists every user with settings, for the morning
// summaries.
func TestSettingsUsers(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if got, err := s.SettingsUsers(ctx); err != nil || len(got) != 0 {
		t.Errorf("SettingsUsers(empty) = %v, %v", got, err)
	}
	for _, u := range []string{"U2", "U1"} {
		if err := s.PutUserSettings(ctx, u, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.SettingsUsers(ctx); err != nil || len(got) != 2 || got[0] != "U1" || got[1] != "U2" {
		t.Errorf("SettingsUsers = %v, %v; want [U1 U2]", got, err)
	}
}
