package mailwatch

import (
	"context"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// Checkpoint is how far a folder has been read: every message up to
// LastUID under UIDValidity has been applied.
type Checkpoint struct {
	Account     string
	Folder      string
	UIDValidity uint32
	LastUID     uint32
	ModSeq      uint64
}

// Role says what a folder is watched for.
type Role string

// The folder roles.
const (
	RoleReports Role = "reports" // delivery reports and read receipts arrive here
	RoleSent    Role = "sent"    // the owner's sent mail, to learn what to track
)

// Item is what reading one message found, with the checkpoint that is
// reached once it is applied. An Item with neither Reports, Sent nor
// Quarantine only advances the checkpoint (the messages before it were no
// reports).
type Item struct {
	Checkpoint Checkpoint
	Role       Role
	UID        uint32
	Size       int64
	// Reports is what a report says, one entry per recipient.
	Reports []report.Report
	// Sent is a sent mail to track.
	Sent *track.Mail
	// Quarantine is set when the message could not be processed.
	Quarantine *Quarantined
}

// Quarantined describes a message that could not be processed. It is set
// aside, never retried, and the watcher moves on.
type Quarantined struct {
	Reason string
	// Head is the start of the raw message, for an operator to look at.
	Head []byte
}

// Sink receives what the watcher reads. Apply must store the item's content
// and its checkpoint in one transaction: after a crash either both are
// stored or neither, so no report is lost or applied twice. Applying an
// item whose content was applied before (a rescan after a UIDVALIDITY
// change) must not duplicate anything.
type Sink interface {
	Checkpoint(ctx context.Context, account, folder string) (Checkpoint, error)
	Apply(ctx context.Context, it Item) error
}
