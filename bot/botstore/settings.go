package botstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mailack/mailack/bot"
)

// Settings keeps each Slack user's settings in a JSON file. Every change
// rewrites the file through a temporary file and a rename, so a crash
// leaves the old or the new version, never a torn one. It is safe for
// concurrent use within one process.
type Settings struct {
	path string

	mu    sync.Mutex // guards users and the file
	users map[string]bot.UserSettings
}

var _ bot.Settings = (*Settings)(nil)

// OpenSettings reads the settings file at path; a missing file means no
// settings yet.
func OpenSettings(path string) (*Settings, error) {
	s := &Settings{path: path, users: map[string]bot.UserSettings{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if err := json.Unmarshal(b, &s.users); err != nil {
		return nil, fmt.Errorf("read settings %s: %w", path, err)
	}
	return s, nil
}

// Settings implements bot.Settings.
func (s *Settings) Settings(_ context.Context, userID string) (bot.UserSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[userID], nil
}

// PutSettings implements bot.Settings.
func (s *Settings) PutSettings(ctx context.Context, userID string, set bot.UserSettings) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.users[userID]
	s.users[userID] = set
	if err := s.save(); err != nil {
		if had {
			s.users[userID] = old
		} else {
			delete(s.users, userID)
		}
		return err
	}
	return nil
}

// save writes the file; s.mu is held.
func (s *Settings) save() error {
	b, err := json.MarshalIndent(s.users, "", "  ")
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".settings-*")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone already after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// SettingsUsers lists the users with settings, for their morning
// summaries.
func (s *Settings) SettingsUsers(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.users))
	for id := range s.users {
		out = append(out, id)
	}
	return out, nil
}
