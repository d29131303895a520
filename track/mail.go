package track

import (
	"errors"
	"time"

	"github.com/mailack/mailack/track/report"
)

// Errors callers branch on.
var (
	// ErrUnknownRecipient means a report or event names a mail that is
	// tracked but no recipient of it could be matched.
	ErrUnknownRecipient = errors.New("track: recipient not on mail")
	// ErrWrongMail means evidence for one Message-ID was applied to another mail.
	ErrWrongMail = errors.New("track: evidence is for another mail")
	// ErrInvalidEvidence means evidence carries a signal Apply cannot use.
	ErrInvalidEvidence = errors.New("track: invalid evidence")
	// ErrInvalidMail means a mail lacks what tracking needs (a Message-ID,
	// a sender, a recipient).
	ErrInvalidMail = errors.New("track: invalid mail")
	// ErrClosed means the mail is done or stopped.
	ErrClosed = errors.New("track: mail is closed")
	// ErrInvalidState means a state change asked for a state it cannot set.
	ErrInvalidState = errors.New("track: invalid state")
	// ErrNotFuture means a time that must lie ahead does not.
	ErrNotFuture = errors.New("track: time is not in the future")
	// ErrOtherSender means a Message-ID is tracked already for another
	// sender; the registration that met it changed nothing (see OwnedBy).
	ErrOtherSender = errors.New("track: message-id is tracked for another sender")
)

// State is the sender's view of a tracked mail.
type State string

// The mail states. Done and stopped are closed: no deadlines and no notices.
const (
	StateOpen    State = "open"    // waiting for answers; deadline armed
	StateSnoozed State = "snoozed" // the sender asked to be reminded at SnoozedUntil
	StateDone    State = "done"    // the sender considers it answered
	StateStopped State = "stopped" // the sender stopped tracking it
)

// Field is the header a recipient was addressed in.
type Field string

// The address fields.
const (
	FieldTo  Field = "to"
	FieldCc  Field = "cc"
	FieldBcc Field = "bcc"
)

// Requested records which confirmations the sent mail asked for.
type Requested struct {
	ReadReceipt bool // Disposition-Notification-To was set
	DSN         bool // NOTIFY=SUCCESS,DELAY,FAILURE was requested
	Pixel       bool // a tracking pixel was embedded
}

// Mail is one tracked sent mail.
type Mail struct {
	// MessageID is the Message-ID, normalised by NormalizeMessageID.
	MessageID string
	// EnvelopeID is the ENVID given at submission (RFC 3461); may be empty.
	EnvelopeID string
	// Account is the name of the mailbox the mail was seen in.
	Account    string
	Sender     string // lower-cased address
	SenderName string
	Subject    string // decoded
	SentAt     time.Time
	Recipients []Recipient
	Requested  Requested
	// Deadline overrides the default "no response after" interval; 0 uses
	// the default, a negative value disables the deadline.
	Deadline time.Duration
	// Span is the interval the first deadline was armed with (Deadline or
	// the default); an out-of-office notice moves a recipient's deadline
	// to Span after the person is back.
	Span time.Duration

	State        State
	SnoozedUntil time.Time
	// DueAt is the next deadline, zero when none is armed.
	DueAt     time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  time.Time
	// RedrawnFor is the latest instant a recipient came back from being
	// away (Recipient.BackAt) that a NoticeRedraw was issued for; see
	// Redraw.
	RedrawnFor time.Time
}

// Closed reports whether the mail is done or stopped.
func (m Mail) Closed() bool {
	return m.State == StateDone || m.State == StateStopped
}

// Clone returns a deep copy, so that changing the copy's recipients leaves m
// untouched.
func (m Mail) Clone() Mail {
	rs := make([]Recipient, len(m.Recipients))
	for i, r := range m.Recipients {
		r.Notified = append([]Status(nil), r.Notified...)
		rs[i] = r
	}
	m.Recipients = rs
	return m
}

// Recipient is one addressee of a tracked mail and what is known about it.
type Recipient struct {
	Address string // lower-cased
	Name    string
	Field   Field

	// Status is what the sender is shown: Best, or StatusNoResponse while
	// the no-response overlay applies (see the package documentation).
	Status Status
	// Best is the highest-ranked status implied by the evidence so far.
	Best Status
	// StatusAt is when Status was reached, per the evidence.
	StatusAt time.Time
	// Reason classifies a failure or delay.
	Reason report.Reason
	// Detail is short plain text backing Status, such as an SMTP diagnostic
	// or the receipt's user agent.
	Detail string
	// Confidence is how surely the evidence behind Best belongs to this mail.
	Confidence Confidence
	// Notified lists the statuses a notice has been issued for, so that each
	// state is announced at most once.
	Notified []Status
	// NoResponseFor is the deadline the last no-response notice was issued
	// for; zero when none was.
	NoResponseFor time.Time

	// AnsweredBy is who replied for the recipient when it was not the
	// recipient: a colleague of the same domain.
	AnsweredBy string
	// AutoReply is the latest automatic answer's type; AwayUntil the date
	// an out-of-office notice gave (midnight UTC), zero when none did.
	AutoReply report.AutoReply
	AwayUntil time.Time
	// BackAt is when the recipient is back at work by AwayUntil (see
	// BackAt), counted in the working calendar; zero when AwayUntil is.
	BackAt time.Time
	// DueAt is the recipient's own deadline, later than the mail's, set
	// when an out-of-office notice moved it; zero otherwise.
	DueAt time.Time
}

// Status is a recipient's delivery and reading status.
type Status string

// The statuses, in rank order. A recipient's Best status only ever moves to
// a higher rank; StatusNoResponse is an overlay, not a rank.
const (
	StatusPending       Status = "pending"           // nothing known yet
	StatusDelayed       Status = "delayed"           // DSN delayed: still trying
	StatusRelayed       Status = "relayed"           // DSN relayed/expanded: handed to a system that reports no further
	StatusFailed        Status = "failed"            // DSN failed or a bounce
	StatusDelivered     Status = "delivered"         // DSN delivered, or any MDN that shows the mail arrived
	StatusAutoAck       Status = "auto_acknowledged" // an automatic acknowledgement: a system answered, no person yet
	StatusAway          Status = "away"              // an out-of-office notice answered
	StatusOpenedMachine Status = "opened_machine"    // pixel fetched, possibly by a mail proxy
	StatusOpened        Status = "opened"            // pixel fetched by a person
	StatusDeletedUnread Status = "deleted_unread"    // MDN deleted: discarded without display (weak)
	StatusRead          Status = "read"              // MDN displayed
	StatusDeclined      Status = "declined"          // MDN denied: the recipient refused a receipt
	StatusAcknowledged  Status = "acknowledged"      // confirmed by the recipient in chat
	StatusReplied       Status = "replied"           // answered by e-mail, by the recipient or a colleague
	StatusNoResponse    Status = "no_response"       // overlay: deadline passed without an answer
)

// ranks orders the statuses evidence can establish.
var ranks = map[Status]int{
	StatusPending:       0,
	StatusDelayed:       10,
	StatusRelayed:       20,
	StatusFailed:        30,
	StatusDelivered:     40,
	StatusAutoAck:       42,
	StatusAway:          45,
	StatusOpenedMachine: 50,
	StatusOpened:        60,
	StatusDeletedUnread: 70,
	StatusRead:          80,
	StatusDeclined:      90,
	StatusAcknowledged:  100,
	StatusReplied:       110,
}

// Rank returns the status's position in the lattice, or -1 for
// StatusNoResponse and unknown values, which evidence cannot establish.
func (s Status) Rank() int {
	r, ok := ranks[s]
	if !ok {
		return -1
	}
	return r
}

// Source is where a piece of evidence came from.
type Source string

// The evidence sources.
const (
	SourceDSN       Source = "dsn"       // delivery status notification or bounce
	SourceMDN       Source = "mdn"       // read receipt
	SourcePixel     Source = "pixel"     // tracking pixel fetch
	SourceChat      Source = "chat"      // the recipient confirmed in chat
	SourceReply     Source = "reply"     // a reply by e-mail
	SourceAutoReply Source = "autoreply" // an automatic reply
	SourceDeadline  Source = "deadline"  // a deadline passed
	SourceManual    Source = "manual"    // the sender set it by hand
)

// Confidence says how surely evidence belongs to the mail it was applied to.
type Confidence string

// The confidence levels.
const (
	ConfidenceExact Confidence = "exact" // matched by Message-ID, envelope ID or threading headers
	ConfidenceLow   Confidence = "low"   // matched by subject, recipient and time window
)

// Via says how a report was correlated with a mail.
type Via string

// The correlation methods, tried in this order.
const (
	ViaMessageID  Via = "message_id"  // the report quotes the original Message-ID
	ViaEnvelopeID Via = "envelope_id" // the report quotes the original ENVID
	ViaThread     Via = "thread"      // the report's In-Reply-To or References
	ViaSubject    Via = "subject"     // subject, recipient and time window
)

// Evidence is one observation about one recipient of one mail. The store
// keeps every piece, keyed by ID; statuses are derived from them.
type Evidence struct {
	// ID identifies the observation itself, so that reading the same report
	// twice yields the same ID. See EvidenceID.
	ID string
	// MessageID is the tracked mail's Message-ID; empty while unmatched.
	MessageID string
	// Recipient is the tracked recipient's address; while unmatched, the
	// address as reported.
	Recipient string
	Source    Source
	// Signal is the status the evidence implies.
	Signal Status
	// At is when it happened per the evidence; Seen is when mailack saw it.
	At   time.Time
	Seen time.Time

	// Report details, when Source is dsn or mdn.
	Action      report.Action
	Disposition report.Disposition
	StatusCode  string // RFC 3463 enhanced status code
	Reason      report.Reason
	Diagnostic  string
	RemoteMTA   string
	UserAgent   string
	// Reported is the recipient address the report named, when it differs
	// from Recipient (alias, plus-address, Original-Recipient).
	Reported string

	Confidence Confidence
	Via        Via
	// Machine marks a pixel fetch made by a proxy or scanner, not a person.
	Machine bool

	// Answer details, when Source is reply or autoreply: the answer's own
	// Message-ID, the automatic reply's type and the date it says the
	// person is back (midnight UTC).
	ReplyID   string
	AutoReply report.AutoReply
	AwayUntil time.Time
}

// NoticeKind tells the chat side what a notice is about.
type NoticeKind string

// The notice kinds.
const (
	NoticeBounced    NoticeKind = "bounced"     // the recipient failed
	NoticeDelayed    NoticeKind = "delayed"     // delivery is delayed
	NoticeRead       NoticeKind = "read"        // read, opened by a person or acknowledged
	NoticeNoResponse NoticeKind = "no_response" // a deadline passed without an answer
	NoticeReplied    NoticeKind = "replied"     // answered by e-mail
	NoticeAway       NoticeKind = "away"        // an automatic reply: away, or a system acknowledged
	NoticeStatus     NoticeKind = "status"      // any other status change
	// NoticeRedraw tells nothing new: the card is to be drawn again,
	// because a recipient who was away is back (and may be nudged again).
	NoticeRedraw NoticeKind = "redraw"
)

// Notice is a decision to tell the sender something. The chat side renders
// notices; it does not decide them.
type Notice struct {
	// Key identifies the notice so an outbox can drop duplicates.
	Key        string
	Kind       NoticeKind
	MessageID  string
	Sender     string
	Recipient  string
	From       Status
	To         Status
	Reason     report.Reason
	Detail     string
	Confidence Confidence
	// Due is the deadline a no-response notice is for.
	Due time.Time
	At  time.Time
}

// Keys are what a report offers for correlation.
type Keys struct {
	MessageID         string   // the original Message-ID, normalised
	EnvelopeID        string   // the original ENVID
	Thread            []string // the report's In-Reply-To and References, normalised
	Subject           string   // the report's subject, as sent
	Recipient         string   // the address the report is about
	OriginalRecipient string
	Date              time.Time // the report's date, or when it was seen
}

// Orphan is a report for a mail that is not tracked yet.
type Orphan struct {
	Evidence Evidence
	Keys     Keys
	Received time.Time
	// Scope, when set, is the mailbox the report was read from: it may be
	// adopted only by mail that mailbox may report on. Evidence from no
	// mailbox (pixel fetches, chat) has none.
	Scope *ReportScope
}
