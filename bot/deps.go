package bot

import (
	"context"
	"errors"
	"time"

	"github.com/mailack/mailack/track"
)

// ErrNotFound is what the interfaces below return for a mail, card or
// outbox item that does not exist.
var ErrNotFound = errors.New("bot: not found")

// ErrFenced is what Outbox returns once the deliverer no longer leads (in
// cluster mode another node delivers): it must not send or acknowledge
// anything more.
var ErrFenced = errors.New("bot: no longer the deliverer")

// OutboxItem is a notice waiting to be delivered to Slack.
type OutboxItem struct {
	// Seq names the item for Ack and Retry.
	Seq    uint64
	Notice track.Notice
	// Attempts counts the failed deliveries so far; NextTry is when the
	// item is due.
	Attempts int
	NextTry  time.Time
	// InFlight is what was about to be sent for the item when a deliverer
	// last marked it (flightCard, flightReply), at InFlightAt; empty when
	// nothing was.
	InFlight   string
	InFlightAt time.Time
}

// Outbox is the queue of notices owed to senders.
type Outbox interface {
	// Pending returns up to limit items due at now, oldest first, of
	// those queued after the item numbered after (0 for all).
	Pending(ctx context.Context, now time.Time, after uint64, limit int) ([]OutboxItem, error)
	// Ack removes a delivered item.
	Ack(ctx context.Context, seq uint64) error
	// Retry keeps an item that could not be delivered until next.
	Retry(ctx context.Context, seq uint64, next time.Time, cause string) error
	// MarkInFlight records that what is about to be sent for the items,
	// at now, before it is sent: the next deliverer, if this one stops
	// before Ack, looks for it in Slack instead of sending it again. It
	// fails with ErrFenced once this deliverer no longer leads.
	MarkInFlight(ctx context.Context, seqs []uint64, what string, now time.Time) error
	// CheckFence returns ErrFenced once this deliverer no longer leads.
	CheckFence(ctx context.Context) error
}

// Mails reads and changes tracked mails.
type Mails interface {
	// Mail returns the mail with a Message-ID, or ErrNotFound.
	Mail(ctx context.Context, id string) (track.Mail, error)
	// SenderMails returns up to limit of a sender's mails, newest first:
	// the open and snoozed ones, and with closed also those done or
	// stopped.
	SenderMails(ctx context.Context, sender string, closed bool, limit int) ([]track.Mail, error)
	// Snooze moves a mail's deadline (track.Snooze).
	Snooze(ctx context.Context, id string, until, now time.Time) (track.Mail, error)
	// CloseMail marks a mail done or stopped (track.Close).
	CloseMail(ctx context.Context, id string, state track.State, now time.Time) (track.Mail, error)
	// Reopen tracks a closed mail again with its deadline at due
	// (track.Reopen).
	Reopen(ctx context.Context, id string, due, now time.Time) (track.Mail, error)
}

// Card is the Slack message that shows a mail's status.
type Card struct {
	Channel string
	TS      string
}

// Cards remembers each mail's status card.
type Cards interface {
	// Card returns the card of a mail; ok is false when it has none.
	Card(ctx context.Context, messageID string) (c Card, ok bool, err error)
	PutCard(ctx context.Context, messageID string, c Card) error
}

// CachedUser is a remembered answer to "which Slack user has this
// address"; an empty ID records that none has.
type CachedUser struct {
	ID        string
	FetchedAt time.Time
}

// UserCache remembers users.lookupByEmail answers across restarts.
type UserCache interface {
	CachedUser(ctx context.Context, email string) (u CachedUser, ok bool, err error)
	PutCachedUser(ctx context.Context, email string, u CachedUser) error
}

// Acknowledger records evidence that arises in chat: a recipient pressing
// "Seen it". The notices it causes reach the outbox like any other.
type Acknowledger interface {
	Acknowledge(ctx context.Context, ev track.Evidence, now time.Time) error
}

// DigestMail is a mail still waiting for an answer.
type DigestMail struct {
	MessageID string
	Subject   string
	SentAt    time.Time
	Waiting   []string // recipients without an answer
}

// SenderDigest is one sender's waiting mails, oldest first.
type SenderDigest struct {
	Sender string
	Mails  []DigestMail
}

// Digests lists the mails a channel digest shows.
type Digests interface {
	// Digest returns the open mails sent at least olderThan before now that
	// a recipient has not answered, grouped by sender; at most limit mails.
	Digest(ctx context.Context, now time.Time, olderThan time.Duration, limit int) ([]SenderDigest, error)
}

// Settings keeps each user's preferences.
type Settings interface {
	// Settings returns a user's settings; the zero value when none are
	// stored.
	Settings(ctx context.Context, userID string) (UserSettings, error)
	PutSettings(ctx context.Context, userID string, s UserSettings) error
}

// SentMail is a mail found in a sender's Sent folder.
type SentMail struct {
	MessageID string
	Subject   string
	SentAt    time.Time
	To        []string
}

// SentSearch finds sent mail to start tracking on request (/track).
type SentSearch interface {
	// FindSent searches the Sent folder of sender's mailbox for query, a
	// Message-ID or words of the subject, and returns up to limit mails,
	// newest first.
	FindSent(ctx context.Context, sender, query string, limit int) ([]SentMail, error)
	// TrackSent starts tracking the mail with the Message-ID, which must
	// be in sender's Sent folder (ErrNotFound otherwise), and returns it
	// as stored. A Message-ID already tracked for another sender fails
	// with an error wrapping track.ErrOtherSender and returns nothing of
	// that mail. A positive deadline overrides the default deadline and a
	// negative one disables it.
	TrackSent(ctx context.Context, sender, messageID string, deadline time.Duration) (track.Mail, error)
}

// Deps are the bot's collaborators. Sent may be nil: /track then says that
// starting to track by hand is not available.
type Deps struct {
	Outbox   Outbox
	Mails    Mails
	Cards    Cards
	Users    UserCache
	Acks     Acknowledger
	Digests  Digests
	Settings Settings
	Sent     SentSearch
}

func (d Deps) validate() error {
	var errs []error
	for name, missing := range map[string]bool{
		"Outbox": d.Outbox == nil, "Mails": d.Mails == nil, "Cards": d.Cards == nil,
		"Users": d.Users == nil, "Acks": d.Acks == nil, "Digests": d.Digests == nil,
		"Settings": d.Settings == nil,
	} {
		if missing {
			errs = append(errs, errors.New("bot: no "+name))
		}
	}
	return errors.Join(errs...)
}
