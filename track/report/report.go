// Package report reads delivery status notifications (RFC 3464, RFC 6533),
// message disposition notifications (RFC 8098) and the non-standard bounce
// and read-receipt formats real mail systems send.
//
// The package is pure: Parse takes the raw bytes of one RFC 5322 message and
// returns values. It does no I/O and never logs. Every part it reads is capped
// (see Limits), so memory stays bounded and time stays linear in the size of
// the input, whatever the input is. Bad input yields an error or a message of
// kind none; it never panics.
package report

import "time"

// Kind says what a report is about.
type Kind string

// The kinds of report.
const (
	KindNone Kind = "none" // not a delivery or read report
	KindDSN  Kind = "dsn"  // delivery status notification or bounce
	KindMDN  Kind = "mdn"  // message disposition notification (read receipt)
	// KindReply is a person's answer to the mail (see reply.go).
	KindReply Kind = "reply"
	// KindAutoReply is an automatic answer: an out-of-office notice, a
	// helpdesk acknowledgement (see reply.go).
	KindAutoReply Kind = "autoreply"
)

// Action is a DSN recipient action (RFC 3464 section 2.3.3).
type Action string

// The DSN actions.
const (
	ActionFailed    Action = "failed"
	ActionDelayed   Action = "delayed"
	ActionDelivered Action = "delivered"
	ActionRelayed   Action = "relayed"
	ActionExpanded  Action = "expanded"
)

// Disposition is an MDN disposition type (RFC 8098 section 3.2.6.2).
type Disposition string

// The MDN disposition types.
const (
	DispositionDisplayed  Disposition = "displayed"
	DispositionDeleted    Disposition = "deleted"
	DispositionDispatched Disposition = "dispatched"
	DispositionProcessed  Disposition = "processed"
	DispositionDenied     Disposition = "denied"
	DispositionFailed     Disposition = "failed"
)

// Mode is an MDN action or sending mode (RFC 8098 section 3.2.6.1).
type Mode string

// The MDN modes.
const (
	ModeManual    Mode = "manual"
	ModeAutomatic Mode = "automatic"
)

// Report is what one report message says about one recipient of one
// original message. A message that reports on several recipients yields
// several Reports that share the message-level fields.
type Report struct {
	Kind Kind

	// OriginalMessageID is the Message-ID of the mail the report is about,
	// without angle brackets, as written. Empty when the report carries none.
	OriginalMessageID string
	// EnvelopeID is the original envelope ID (ENVID, RFC 3461) when present.
	EnvelopeID string
	// Recipient is the recipient the report is about, lower-cased: a DSN's
	// Final-Recipient, the failed address of a text bounce, an MDN's
	// Final-Recipient (or the receipt's sender when it has none).
	Recipient string
	// OriginalRecipient is the Original-Recipient address when it differs.
	OriginalRecipient string
	// SuggestedAddress is an address a bounce suggests instead of the
	// failed one, lower-cased: "551 User not local; please try <x>" (RFC
	// 5321 section 3.4), "has moved to x", "did you mean x". Empty when
	// the bounce suggests none.
	SuggestedAddress string

	// DSN fields.
	Action      Action
	Status      string // RFC 3463 enhanced status code, e.g. "5.1.1"
	ReplyCode   string // SMTP reply code, e.g. "550"
	RemoteMTA   string
	Diagnostic  string
	LastAttempt time.Time
	Reason      Reason

	// MDN fields.
	Disposition Disposition
	ActionMode  Mode // who caused the disposition: manual or automatic
	SendingMode Mode // how the MDN was sent: manual or automatic
	UserAgent   string

	// Reply and automatic reply fields. For both kinds Recipient is the
	// address that answered (From) and OriginalMessageID the message
	// answered (In-Reply-To, else the last References entry).
	AutoReply AutoReply // what an automatic reply is
	// AwayUntil is the date an out-of-office notice says its sender is
	// away until or back on, at midnight UTC; zero when it says none.
	AwayUntil time.Time

	// ReportMessageID is the report's own Message-ID, without angle brackets.
	ReportMessageID string
	// Date is the report's own Date header (zero when absent or
	// unreadable); for an Outlook receipt wrapped in TNEF, the time the
	// TNEF says the receipt was generated, when it says one.
	Date time.Time
	// Subject is the report's decoded subject.
	Subject string
	// InReplyTo and References are the report's own threading headers,
	// without angle brackets, for correlation when no original Message-ID
	// is quoted.
	InReplyTo  string
	References []string
}

// impliedDetail is the RFC 3463 subject and detail a reason stands for,
// for the reasons that name one condition of the registry: a text bounce
// that says "user unknown" means what "X.1.1 Bad destination mailbox
// address" means (RFC 3463 section 3; IANA "Enumerated Status Codes").
var impliedDetail = map[Reason]string{
	ReasonUserUnknown: "1.1",
	ReasonHostUnknown: "1.2",
	ReasonHasMoved:    "1.6",
	ReasonSuspend:     "2.1",
	ReasonMailboxFull: "2.2",
	ReasonExceedLimit: "2.3",
	ReasonSystemFull:  "3.1",
	ReasonMesgTooBig:  "3.4",
	ReasonExpired:     "4.7",
}

// ImpliedStatus returns r's status code, or for a delivery report that
// carries none, the code its wording stands for: the class from the SMTP
// reply code or the action (a delay or an expiry is 4, a failure 5), the
// subject and detail from a reason that names one condition, else X.0.0
// when a reply code gives the class. It returns "" when nothing says.
func (r Report) ImpliedStatus() string {
	if r.Status != "" || r.Kind != KindDSN {
		return r.Status
	}
	class := ""
	switch {
	case len(r.ReplyCode) == 3 && (r.ReplyCode[0] == '4' || r.ReplyCode[0] == '5'):
		class = r.ReplyCode[:1]
	case r.Action == ActionDelayed || r.Reason == ReasonExpired:
		class = "4"
	case r.Action == ActionFailed:
		class = "5"
	default:
		return ""
	}
	if d, ok := impliedDetail[r.Reason]; ok {
		return class + "." + d
	}
	if r.ReplyCode != "" {
		return class + ".0.0"
	}
	return ""
}
