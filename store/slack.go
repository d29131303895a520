package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mailack/mailack/track"
)

// SlackRef names the chat message that shows a mail's status, so that it
// can be updated in place and replied to in its thread.
type SlackRef struct {
	Channel string
	TS      string // the message's timestamp, Slack's message ID
}

type slackRefRec struct {
	Channel string `json:"ch"`
	TS      string `json:"ts"`
}

// PutSlackRef records the chat message of a tracked mail; an unknown mail
// fails with ErrNotFound.
func (s *Store) PutSlackRef(ctx context.Context, messageID string, ref SlackRef) error {
	id := []byte(track.NormalizeMessageID(messageID))
	err := s.update(ctx, func(tx kvTx) error {
		if tx.Bucket(bucketMails).Get(id) == nil {
			return ErrNotFound
		}
		v, err := json.Marshal(slackRefRec(ref))
		if err != nil {
			return err
		}
		return tx.Bucket(bucketSlackRefs).Put(id, v)
	})
	if err != nil {
		return fmt.Errorf("put slack ref of %s: %w", messageID, err)
	}
	return nil
}

// SlackRef returns the chat message of a mail, or ErrNotFound.
func (s *Store) SlackRef(ctx context.Context, messageID string) (SlackRef, error) {
	var r slackRefRec
	err := s.view(ctx, func(tx kvTx) error {
		v := tx.Bucket(bucketSlackRefs).Get([]byte(track.NormalizeMessageID(messageID)))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return SlackRef{}, fmt.Errorf("slack ref of %s: %w", messageID, err)
	}
	return SlackRef(r), nil
}

// SlackUser is the cached answer to "which chat user has this e-mail
// address".
type SlackUser struct {
	// ID is the chat user's ID; empty records that no user has the address.
	ID        string
	FetchedAt time.Time
}

type slackUserRec struct {
	ID        string `json:"id,omitempty"`
	FetchedAt int64  `json:"at"`
}

// PutSlackUser caches the chat user of an address. Addresses are compared
// as track.NormalizeAddress leaves them.
func (s *Store) PutSlackUser(ctx context.Context, email string, u SlackUser) error {
	k := []byte(track.NormalizeAddress(email))
	if len(k) == 0 {
		return fmt.Errorf("put slack user: empty address: %w", ErrInvalid)
	}
	err := s.update(ctx, func(tx kvTx) error {
		v, err := json.Marshal(slackUserRec{ID: u.ID, FetchedAt: nanos(u.FetchedAt)})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketSlackUsers).Put(k, v)
	})
	if err != nil {
		return fmt.Errorf("put slack user of %s: %w", email, err)
	}
	return nil
}

// SlackUser returns the cached chat user of an address, or ErrNotFound
// when nothing is cached. The caller decides when FetchedAt is too old.
func (s *Store) SlackUser(ctx context.Context, email string) (SlackUser, error) {
	var r slackUserRec
	err := s.view(ctx, func(tx kvTx) error {
		v := tx.Bucket(bucketSlackUsers).Get([]byte(track.NormalizeAddress(email)))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return SlackUser{}, fmt.Errorf("slack user of %s: %w", email, err)
	}
	return SlackUser{ID: r.ID, FetchedAt: fromNanos(r.FetchedAt)}, nil
}

// PutUserSettings stores a chat user's settings, an opaque value the chat
// side encodes (JSON), at most 64 KiB.
func (s *Store) PutUserSettings(ctx context.Context, userID string, v []byte) error {
	if userID == "" || len(v) > 64<<10 {
		return fmt.Errorf("put settings of %q: %w", userID, ErrInvalid)
	}
	err := s.update(ctx, func(tx kvTx) error {
		return tx.Bucket(bucketSettings).Put([]byte(userID), v)
	})
	if err != nil {
		return fmt.Errorf("put settings of %s: %w", userID, err)
	}
	return nil
}

// UserSettings returns a chat user's settings as stored, or ErrNotFound.
func (s *Store) UserSettings(ctx context.Context, userID string) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(tx kvTx) error {
		v := tx.Bucket(bucketSettings).Get([]byte(userID))
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("settings of %s: %w", userID, err)
	}
	return out, nil
}

// SettingsUsers returns the chat users that have settings stored.
func (s *Store) SettingsUsers(ctx context.Context) ([]string, error) {
	var out []string
	err := s.view(ctx, func(tx kvTx) error {
		return tx.Bucket(bucketSettings).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list settings: %w", err)
	}
	return out, nil
}
