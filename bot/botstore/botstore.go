// Package botstore gives the Slack bot its state: it adapts the bbolt
// store (package store) to the interfaces package bot declares, and keeps
// each Slack user's settings in a small JSON file.
//
// The adapter holds no state of its own. It converts between the two
// packages' types, maps store.ErrNotFound to bot.ErrNotFound, and applies a
// chat acknowledgement through store.ApplyReport, which records it as
// evidence and puts the notices it causes in the outbox in one
// transaction.
package botstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
)

// Store is the bot's view of a *store.Store.
type Store struct{ s *store.Store }

// New adapts s for the bot.
func New(s *store.Store) *Store { return &Store{s: s} }

// Deps returns bot.Deps with every store-backed dependency set to st, and
// settings and sent as given.
func (st *Store) Deps(settings bot.Settings, sent bot.SentSearch) bot.Deps {
	return bot.Deps{
		Outbox: st, Mails: st, Cards: st, Users: st, Acks: st, Digests: st,
		Settings: settings, Sent: sent,
	}
}

var (
	_ bot.Outbox       = (*Store)(nil)
	_ bot.Mails        = (*Store)(nil)
	_ bot.Cards        = (*Store)(nil)
	_ bot.UserCache    = (*Store)(nil)
	_ bot.Acknowledger = (*Store)(nil)
	_ bot.Digests      = (*Store)(nil)
)

// notFound turns store.ErrNotFound into bot.ErrNotFound, keeping the
// message.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", bot.ErrNotFound, err)
	}
	return err
}

// Pending implements bot.Outbox.
func (st *Store) Pending(ctx context.Context, now time.Time, after uint64, limit int) ([]bot.OutboxItem, error) {
	items, err := st.s.PendingAfter(ctx, now, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]bot.OutboxItem, len(items))
	for i, it := range items {
		out[i] = bot.OutboxItem{Seq: it.Seq, Notice: it.Notice, Attempts: it.Attempts, NextTry: it.NextTry,
			InFlight: it.InFlight, InFlightAt: it.InFlightAt}
	}
	return out, nil
}

// Ack implements bot.Outbox.
func (st *Store) Ack(ctx context.Context, seq uint64) error {
	return fenced(notFound(st.s.Ack(ctx, seq)))
}

// Retry implements bot.Outbox.
func (st *Store) Retry(ctx context.Context, seq uint64, next time.Time, cause string) error {
	return notFound(st.s.Retry(ctx, seq, next, cause))
}

// MarkInFlight implements bot.Outbox.
func (st *Store) MarkInFlight(ctx context.Context, seqs []uint64, what string, now time.Time) error {
	return fenced(notFound(st.s.MarkInFlight(ctx, seqs, what, now)))
}

// CheckFence implements bot.Outbox.
func (st *Store) CheckFence(ctx context.Context) error { return fenced(st.s.CheckFence(ctx)) }

// fenced turns store.ErrFenced into bot.ErrFenced, keeping the message.
func fenced(err error) error {
	if errors.Is(err, store.ErrFenced) {
		return fmt.Errorf("%w: %w", bot.ErrFenced, err)
	}
	return err
}

// Mail implements bot.Mails.
func (st *Store) Mail(ctx context.Context, id string) (track.Mail, error) {
	m, err := st.s.Mail(ctx, id)
	return m, notFound(err)
}

// SenderMails implements bot.Mails.
func (st *Store) SenderMails(ctx context.Context, sender string, closed bool, limit int) ([]track.Mail, error) {
	var f store.ListFilter
	if closed {
		f.States = []track.State{track.StateOpen, track.StateSnoozed, track.StateDone, track.StateStopped}
	}
	return st.s.ListBySender(ctx, sender, f, limit)
}

// Snooze implements bot.Mails.
func (st *Store) Snooze(ctx context.Context, id string, until, now time.Time) (track.Mail, error) {
	m, err := st.s.Snooze(ctx, id, until, now)
	return m, notFound(err)
}

// CloseMail implements bot.Mails.
func (st *Store) CloseMail(ctx context.Context, id string, state track.State, now time.Time) (track.Mail, error) {
	m, err := st.s.CloseMail(ctx, id, state, now)
	return m, notFound(err)
}

// Reopen implements bot.Mails.
func (st *Store) Reopen(ctx context.Context, id string, due, now time.Time) (track.Mail, error) {
	m, err := st.s.Reopen(ctx, id, due, now)
	return m, notFound(err)
}

// Card implements bot.Cards.
func (st *Store) Card(ctx context.Context, messageID string) (bot.Card, bool, error) {
	ref, err := st.s.SlackRef(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		return bot.Card{}, false, nil
	}
	if err != nil {
		return bot.Card{}, false, err
	}
	return bot.Card{Channel: ref.Channel, TS: ref.TS}, true, nil
}

// PutCard implements bot.Cards.
func (st *Store) PutCard(ctx context.Context, messageID string, c bot.Card) error {
	return notFound(st.s.PutSlackRef(ctx, messageID, store.SlackRef{Channel: c.Channel, TS: c.TS}))
}

// CachedUser implements bot.UserCache.
func (st *Store) CachedUser(ctx context.Context, email string) (bot.CachedUser, bool, error) {
	u, err := st.s.SlackUser(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return bot.CachedUser{}, false, nil
	}
	if err != nil {
		return bot.CachedUser{}, false, err
	}
	return bot.CachedUser{ID: u.ID, FetchedAt: u.FetchedAt}, true, nil
}

// PutCachedUser implements bot.UserCache.
func (st *Store) PutCachedUser(ctx context.Context, email string, u bot.CachedUser) error {
	return st.s.PutSlackUser(ctx, email, store.SlackUser{ID: u.ID, FetchedAt: u.FetchedAt})
}

// Acknowledge implements bot.Acknowledger: the evidence is applied like a
// pixel fetch, and a mail that is not tracked keeps it as an orphan.
func (st *Store) Acknowledge(ctx context.Context, ev track.Evidence, now time.Time) error {
	_, err := st.s.ApplyReport(ctx, store.ApplyInput{Evidence: []track.Evidence{ev}, Now: now})
	return err
}

// Digest implements bot.Digests.
func (st *Store) Digest(ctx context.Context, now time.Time, olderThan time.Duration, limit int) ([]bot.SenderDigest, error) {
	ds, err := st.s.Digest(ctx, now, store.DigestQuery{OlderThan: olderThan, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]bot.SenderDigest, len(ds))
	for i, d := range ds {
		out[i] = bot.SenderDigest{Sender: d.Sender, Mails: make([]bot.DigestMail, len(d.Mails))}
		for j, m := range d.Mails {
			out[i].Mails[j] = bot.DigestMail{MessageID: m.MessageID, Subject: m.Subject, SentAt: m.SentAt, Waiting: m.Waiting}
		}
	}
	return out, nil
}
