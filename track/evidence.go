package track

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/mailack/mailack/track/report"
)

// EvidenceID derives the ID of the evidence a report gives, from the report's
// own identity: its Message-ID, the recipient it is about, its kind and its
// action or disposition. The same report read twice, or read from two
// mailboxes, yields the same ID. A report without a Message-ID is identified
// by its content instead.
func EvidenceID(r report.Report) string {
	parts := []string{
		string(r.Kind),
		NormalizeMessageID(r.ReportMessageID),
		NormalizeAddress(r.Recipient),
		string(r.Action),
		string(r.Disposition),
	}
	if NormalizeMessageID(r.ReportMessageID) == "" {
		parts = append(parts,
			NormalizeMessageID(r.OriginalMessageID),
			r.EnvelopeID,
			r.Status,
			r.Diagnostic,
			r.Subject,
			stamp(r.Date),
			stamp(r.LastAttempt),
		)
	}
	return hashID(string(sourceOf(r.Kind)), parts...)
}

// PixelEvidenceID derives the ID of a pixel fetch from the fetch's own ID,
// as assigned by the pixel server.
func PixelEvidenceID(hitID string) string {
	return hashID(string(SourcePixel), hitID)
}

// ChatEvidenceID derives the ID of a chat acknowledgement from the chat
// action's own ID.
func ChatEvidenceID(messageID, recipient, actionID string) string {
	return hashID(string(SourceChat), NormalizeMessageID(messageID), NormalizeAddress(recipient), actionID)
}

// hashID joins parts unambiguously and hashes them, so that IDs have a fixed
// length whatever the input; the prefix keeps the source readable.
func hashID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + "-" + hex.EncodeToString(h.Sum(nil)[:16])
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func sourceOf(k report.Kind) Source {
	switch k {
	case report.KindMDN:
		return SourceMDN
	case report.KindReply:
		return SourceReply
	case report.KindAutoReply:
		return SourceAutoReply
	}
	return SourceDSN
}

// Signal returns the status a report implies, and false for reports that
// imply none (kind none, or an unknown action or disposition).
func Signal(r report.Report) (Status, bool) {
	switch r.Kind {
	case report.KindDSN:
		s, ok := dsnSignals[r.Action]
		return s, ok
	case report.KindMDN:
		s, ok := mdnSignals[r.Disposition]
		return s, ok
	case report.KindReply:
		return StatusReplied, true
	case report.KindAutoReply:
		if r.AutoReply == report.AutoReplyAway {
			return StatusAway, true
		}
		return StatusAutoAck, true
	}
	return "", false
}

// dsnSignals maps DSN actions (RFC 3464 section 2.3.3). An expanded
// recipient was handed to a list or alias that reports no further, which is
// what relayed means to the sender.
var dsnSignals = map[report.Action]Status{
	report.ActionFailed:    StatusFailed,
	report.ActionDelayed:   StatusDelayed,
	report.ActionDelivered: StatusDelivered,
	report.ActionRelayed:   StatusRelayed,
	report.ActionExpanded:  StatusRelayed,
}

// mdnSignals maps MDN dispositions (RFC 8098 section 3.2.6.2). Every MDN
// comes from the recipient's own mail program, so the ones that say nothing
// about reading still prove delivery.
var mdnSignals = map[report.Disposition]Status{
	report.DispositionDisplayed:  StatusRead,
	report.DispositionDeleted:    StatusDeletedUnread,
	report.DispositionDenied:     StatusDeclined,
	report.DispositionDispatched: StatusDelivered,
	report.DispositionProcessed:  StatusDelivered,
	report.DispositionFailed:     StatusDelivered,
}

// EvidenceFrom turns a report into evidence about the recipient m matched.
// An unmatched m leaves MessageID empty and Recipient as reported; seen is
// when mailack read the report.
func EvidenceFrom(r report.Report, m Match, seen time.Time) Evidence {
	sig, _ := Signal(r)
	ev := Evidence{
		ID:          EvidenceID(r),
		MessageID:   m.Mail.MessageID,
		Recipient:   m.Recipient,
		Source:      sourceOf(r.Kind),
		Signal:      sig,
		At:          reportTime(r, seen),
		Seen:        seen,
		Action:      r.Action,
		Disposition: r.Disposition,
		StatusCode:  r.Status,
		Reason:      r.Reason,
		Diagnostic:  r.Diagnostic,
		RemoteMTA:   r.RemoteMTA,
		UserAgent:   r.UserAgent,
		Confidence:  m.Confidence,
		Via:         m.Via,
	}
	if IsAnswer(r) {
		ev.ReplyID = NormalizeMessageID(r.ReportMessageID)
		ev.AutoReply = r.AutoReply
		ev.AwayUntil = r.AwayUntil
	}
	reported := NormalizeAddress(r.Recipient)
	if ev.Recipient == "" {
		ev.Recipient = reported
	}
	if reported != ev.Recipient {
		ev.Reported = reported
	}
	return ev
}

// reportTime is when the reported event happened: the last delivery attempt,
// else the report's date, else when it was seen.
func reportTime(r report.Report, seen time.Time) time.Time {
	if !r.LastAttempt.IsZero() {
		return r.LastAttempt
	}
	if !r.Date.IsZero() {
		return r.Date
	}
	return seen
}

// PixelEvidence is a fetch of the tracking pixel of one recipient's copy.
// machine marks a fetch the pixel server attributes to a proxy or scanner.
func PixelEvidence(hitID, messageID, recipient string, at time.Time, machine bool) Evidence {
	sig := StatusOpened
	if machine {
		sig = StatusOpenedMachine
	}
	return Evidence{
		ID:         PixelEvidenceID(hitID),
		MessageID:  NormalizeMessageID(messageID),
		Recipient:  NormalizeAddress(recipient),
		Source:     SourcePixel,
		Signal:     sig,
		At:         at,
		Seen:       at,
		Confidence: ConfidenceExact,
		Machine:    machine,
	}
}

// ChatEvidence is a recipient confirming a mail in chat.
func ChatEvidence(messageID, recipient, actionID string, at time.Time) Evidence {
	return Evidence{
		ID:         ChatEvidenceID(messageID, recipient, actionID),
		MessageID:  NormalizeMessageID(messageID),
		Recipient:  NormalizeAddress(recipient),
		Source:     SourceChat,
		Signal:     StatusAcknowledged,
		At:         at,
		Seen:       at,
		Confidence: ConfidenceExact,
	}
}

// detail is the short text shown next to a status.
func (ev Evidence) detail() string {
	d := ev.Diagnostic
	if d == "" {
		d = ev.UserAgent
	}
	d = strings.Join(strings.Fields(d), " ")
	const limit = 200
	return truncate(d, limit)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !startsRune(s[n]) {
		n--
	}
	return s[:n]
}

func startsRune(b byte) bool { return b&0xC0 != 0x80 }
