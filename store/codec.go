package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// Records are stored as compact JSON with short, fixed field names, so the
// file format does not follow renames in package track; times are Unix
// nanoseconds (0 for the zero time), durations nanoseconds. A key that
// already holds a field (the Message-ID of a mail, the ID of evidence) is
// not repeated in the value.

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return clampNanos(t)
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

type mailRec struct {
	EnvelopeID   string    `json:"env,omitempty"`
	Account      string    `json:"acct,omitempty"`
	Sender       string    `json:"from"`
	SenderName   string    `json:"fromName,omitempty"`
	Subject      string    `json:"subj,omitempty"`
	SentAt       int64     `json:"sent"`
	Recipients   []rcptRec `json:"rcpt"`
	Requested    string    `json:"req,omitempty"` // letters: r read receipt, d DSN, p pixel
	Deadline     int64     `json:"deadline,omitempty"`
	Span         int64     `json:"span,omitempty"`
	State        string    `json:"state"`
	SnoozedUntil int64     `json:"snoozed,omitempty"`
	DueAt        int64     `json:"due,omitempty"`
	CreatedAt    int64     `json:"created,omitempty"`
	UpdatedAt    int64     `json:"updated,omitempty"`
	ClosedAt     int64     `json:"closed,omitempty"`
	RedrawnFor   int64     `json:"redrawn,omitempty"`
}

type rcptRec struct {
	Address       string   `json:"addr"`
	Name          string   `json:"name,omitempty"`
	Field         string   `json:"field,omitempty"`
	Status        string   `json:"status,omitempty"`
	Best          string   `json:"best,omitempty"`
	StatusAt      int64    `json:"at,omitempty"`
	Reason        string   `json:"reason,omitempty"`
	Detail        string   `json:"detail,omitempty"`
	Confidence    string   `json:"conf,omitempty"`
	Notified      []string `json:"notified,omitempty"`
	NoResponseFor int64    `json:"noResponseFor,omitempty"`
	AnsweredBy    string   `json:"by,omitempty"`
	AutoReply     string   `json:"auto,omitempty"`
	AwayUntil     int64    `json:"away,omitempty"`
	BackAt        int64    `json:"back,omitempty"`
	DueAt         int64    `json:"due,omitempty"`
}

func encodeRequested(r track.Requested) string {
	var b strings.Builder
	for _, f := range []struct {
		on bool
		c  byte
	}{{r.ReadReceipt, 'r'}, {r.DSN, 'd'}, {r.Pixel, 'p'}} {
		if f.on {
			b.WriteByte(f.c)
		}
	}
	return b.String()
}

func decodeRequested(s string) track.Requested {
	return track.Requested{
		ReadReceipt: strings.IndexByte(s, 'r') >= 0,
		DSN:         strings.IndexByte(s, 'd') >= 0,
		Pixel:       strings.IndexByte(s, 'p') >= 0,
	}
}

func encodeMail(m *track.Mail) ([]byte, error) {
	r := mailRec{
		EnvelopeID:   m.EnvelopeID,
		Account:      m.Account,
		Sender:       m.Sender,
		SenderName:   m.SenderName,
		Subject:      m.Subject,
		SentAt:       nanos(m.SentAt),
		Requested:    encodeRequested(m.Requested),
		Deadline:     int64(m.Deadline),
		Span:         int64(m.Span),
		State:        string(m.State),
		SnoozedUntil: nanos(m.SnoozedUntil),
		DueAt:        nanos(m.DueAt),
		CreatedAt:    nanos(m.CreatedAt),
		UpdatedAt:    nanos(m.UpdatedAt),
		ClosedAt:     nanos(m.ClosedAt),
		RedrawnFor:   nanos(m.RedrawnFor),
		Recipients:   make([]rcptRec, len(m.Recipients)),
	}
	for i, x := range m.Recipients {
		r.Recipients[i] = rcptRec{
			Address:       x.Address,
			Name:          x.Name,
			Field:         string(x.Field),
			Status:        string(x.Status),
			Best:          string(x.Best),
			StatusAt:      nanos(x.StatusAt),
			Reason:        string(x.Reason),
			Detail:        x.Detail,
			Confidence:    string(x.Confidence),
			NoResponseFor: nanos(x.NoResponseFor),
			AnsweredBy:    x.AnsweredBy,
			AutoReply:     string(x.AutoReply),
			AwayUntil:     nanos(x.AwayUntil),
			BackAt:        nanos(x.BackAt),
			DueAt:         nanos(x.DueAt),
		}
		for _, s := range x.Notified {
			r.Recipients[i].Notified = append(r.Recipients[i].Notified, string(s))
		}
	}
	return json.Marshal(r)
}

// decodeMail decodes a mail record; id is its key. The result shares no
// memory with b.
func decodeMail(id string, b []byte) (track.Mail, error) {
	var r mailRec
	if err := json.Unmarshal(b, &r); err != nil {
		return track.Mail{}, fmt.Errorf("decode mail %s: %w", id, err)
	}
	m := track.Mail{
		MessageID:    id,
		EnvelopeID:   r.EnvelopeID,
		Account:      r.Account,
		Sender:       r.Sender,
		SenderName:   r.SenderName,
		Subject:      r.Subject,
		SentAt:       fromNanos(r.SentAt),
		Requested:    decodeRequested(r.Requested),
		Deadline:     time.Duration(r.Deadline),
		Span:         time.Duration(r.Span),
		State:        track.State(r.State),
		SnoozedUntil: fromNanos(r.SnoozedUntil),
		DueAt:        fromNanos(r.DueAt),
		CreatedAt:    fromNanos(r.CreatedAt),
		UpdatedAt:    fromNanos(r.UpdatedAt),
		ClosedAt:     fromNanos(r.ClosedAt),
		RedrawnFor:   fromNanos(r.RedrawnFor),
		Recipients:   make([]track.Recipient, len(r.Recipients)),
	}
	for i, x := range r.Recipients {
		m.Recipients[i] = track.Recipient{
			Address:       x.Address,
			Name:          x.Name,
			Field:         track.Field(x.Field),
			Status:        track.Status(x.Status),
			Best:          track.Status(x.Best),
			StatusAt:      fromNanos(x.StatusAt),
			Reason:        report.Reason(x.Reason),
			Detail:        x.Detail,
			Confidence:    track.Confidence(x.Confidence),
			NoResponseFor: fromNanos(x.NoResponseFor),
			AnsweredBy:    x.AnsweredBy,
			AutoReply:     report.AutoReply(x.AutoReply),
			AwayUntil:     fromNanos(x.AwayUntil),
			BackAt:        fromNanos(x.BackAt),
			DueAt:         fromNanos(x.DueAt),
		}
		for _, s := range x.Notified {
			m.Recipients[i].Notified = append(m.Recipients[i].Notified, track.Status(s))
		}
	}
	return m, nil
}

type evidenceRec struct {
	ID          string `json:"id,omitempty"`  // only where the key does not hold it
	MessageID   string `json:"mid,omitempty"` // likewise
	Recipient   string `json:"rcpt,omitempty"`
	Source      string `json:"src,omitempty"`
	Signal      string `json:"sig,omitempty"`
	At          int64  `json:"at,omitempty"`
	Seen        int64  `json:"seen,omitempty"`
	Action      string `json:"action,omitempty"`
	Disposition string `json:"disp,omitempty"`
	StatusCode  string `json:"code,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Diagnostic  string `json:"diag,omitempty"`
	RemoteMTA   string `json:"mta,omitempty"`
	UserAgent   string `json:"ua,omitempty"`
	Reported    string `json:"reported,omitempty"`
	Confidence  string `json:"conf,omitempty"`
	Via         string `json:"via,omitempty"`
	Machine     bool   `json:"machine,omitempty"`
	ReplyID     string `json:"replyId,omitempty"`
	AutoReply   string `json:"auto,omitempty"`
	AwayUntil   int64  `json:"away,omitempty"`
}

func toEvidenceRec(ev *track.Evidence) evidenceRec {
	return evidenceRec{
		ID:          ev.ID,
		MessageID:   ev.MessageID,
		Recipient:   ev.Recipient,
		Source:      string(ev.Source),
		Signal:      string(ev.Signal),
		At:          nanos(ev.At),
		Seen:        nanos(ev.Seen),
		Action:      string(ev.Action),
		Disposition: string(ev.Disposition),
		StatusCode:  ev.StatusCode,
		Reason:      string(ev.Reason),
		Diagnostic:  ev.Diagnostic,
		RemoteMTA:   ev.RemoteMTA,
		UserAgent:   ev.UserAgent,
		Reported:    ev.Reported,
		Confidence:  string(ev.Confidence),
		Via:         string(ev.Via),
		Machine:     ev.Machine,
		ReplyID:     ev.ReplyID,
		AutoReply:   string(ev.AutoReply),
		AwayUntil:   nanos(ev.AwayUntil),
	}
}

func (r *evidenceRec) evidence() track.Evidence {
	return track.Evidence{
		ID:          r.ID,
		MessageID:   r.MessageID,
		Recipient:   r.Recipient,
		Source:      track.Source(r.Source),
		Signal:      track.Status(r.Signal),
		At:          fromNanos(r.At),
		Seen:        fromNanos(r.Seen),
		Action:      report.Action(r.Action),
		Disposition: report.Disposition(r.Disposition),
		StatusCode:  r.StatusCode,
		Reason:      report.Reason(r.Reason),
		Diagnostic:  r.Diagnostic,
		RemoteMTA:   r.RemoteMTA,
		UserAgent:   r.UserAgent,
		Reported:    r.Reported,
		Confidence:  track.Confidence(r.Confidence),
		Via:         track.Via(r.Via),
		Machine:     r.Machine,
		ReplyID:     r.ReplyID,
		AutoReply:   report.AutoReply(r.AutoReply),
		AwayUntil:   fromNanos(r.AwayUntil),
	}
}

// encodeEvidence encodes evidence kept under the key messageID\x00ID.
func encodeEvidence(ev *track.Evidence) ([]byte, error) {
	r := toEvidenceRec(ev)
	r.ID, r.MessageID = "", ""
	return json.Marshal(r)
}

func decodeEvidence(messageID, id string, b []byte) (track.Evidence, error) {
	var r evidenceRec
	if err := json.Unmarshal(b, &r); err != nil {
		return track.Evidence{}, fmt.Errorf("decode evidence %s of %s: %w", id, messageID, err)
	}
	r.ID, r.MessageID = id, messageID
	return r.evidence(), nil
}

type keysRec struct {
	MessageID         string   `json:"mid,omitempty"`
	EnvelopeID        string   `json:"env,omitempty"`
	Thread            []string `json:"thread,omitempty"`
	Subject           string   `json:"subj,omitempty"`
	Recipient         string   `json:"rcpt,omitempty"`
	OriginalRecipient string   `json:"orcpt,omitempty"`
	Date              int64    `json:"date,omitempty"`
}

type orphanRec struct {
	Evidence evidenceRec `json:"ev"`
	Keys     keysRec     `json:"keys"`
	Received int64       `json:"recv"`
	// Scope is the mailbox the report was read from; absent for evidence
	// from no mailbox and for orphans stored before mailboxes were scoped,
	// which any mail may adopt.
	Scope *scopeRec `json:"scope,omitempty"`
}

type scopeRec struct {
	Account string   `json:"acct,omitempty"`
	Senders []string `json:"senders"`
}

// encodeOrphan encodes an orphan kept under the key of its evidence ID.
func encodeOrphan(o *track.Orphan) ([]byte, error) {
	r := orphanRec{
		Evidence: toEvidenceRec(&o.Evidence),
		Keys: keysRec{
			MessageID:         o.Keys.MessageID,
			EnvelopeID:        o.Keys.EnvelopeID,
			Thread:            o.Keys.Thread,
			Subject:           o.Keys.Subject,
			Recipient:         o.Keys.Recipient,
			OriginalRecipient: o.Keys.OriginalRecipient,
			Date:              nanos(o.Keys.Date),
		},
		Received: nanos(o.Received),
	}
	if o.Scope != nil {
		r.Scope = &scopeRec{Account: o.Scope.Account, Senders: o.Scope.Senders}
	}
	r.Evidence.ID = ""
	return json.Marshal(r)
}

func decodeOrphan(id string, b []byte) (track.Orphan, error) {
	var r orphanRec
	if err := json.Unmarshal(b, &r); err != nil {
		return track.Orphan{}, fmt.Errorf("decode orphan %s: %w", id, err)
	}
	r.Evidence.ID = id
	var scope *track.ReportScope
	if r.Scope != nil {
		scope = &track.ReportScope{Account: r.Scope.Account, Senders: r.Scope.Senders}
	}
	return track.Orphan{
		Scope:    scope,
		Evidence: r.Evidence.evidence(),
		Keys: track.Keys{
			MessageID:         r.Keys.MessageID,
			EnvelopeID:        r.Keys.EnvelopeID,
			Thread:            r.Keys.Thread,
			Subject:           r.Keys.Subject,
			Recipient:         r.Keys.Recipient,
			OriginalRecipient: r.Keys.OriginalRecipient,
			Date:              fromNanos(r.Keys.Date),
		},
		Received: fromNanos(r.Received),
	}, nil
}

type noticeRec struct {
	Key        string `json:"key"`
	Kind       string `json:"kind,omitempty"`
	MessageID  string `json:"mid,omitempty"`
	Sender     string `json:"from,omitempty"`
	Recipient  string `json:"rcpt,omitempty"`
	From       string `json:"was,omitempty"`
	To         string `json:"now,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Detail     string `json:"detail,omitempty"`
	Confidence string `json:"conf,omitempty"`
	Due        int64  `json:"due,omitempty"`
	At         int64  `json:"at,omitempty"`
}

func toNoticeRec(n *track.Notice) noticeRec {
	return noticeRec{
		Key:        n.Key,
		Kind:       string(n.Kind),
		MessageID:  n.MessageID,
		Sender:     n.Sender,
		Recipient:  n.Recipient,
		From:       string(n.From),
		To:         string(n.To),
		Reason:     string(n.Reason),
		Detail:     n.Detail,
		Confidence: string(n.Confidence),
		Due:        nanos(n.Due),
		At:         nanos(n.At),
	}
}

func (r *noticeRec) notice() track.Notice {
	return track.Notice{
		Key:        r.Key,
		Kind:       track.NoticeKind(r.Kind),
		MessageID:  r.MessageID,
		Sender:     r.Sender,
		Recipient:  r.Recipient,
		From:       track.Status(r.From),
		To:         track.Status(r.To),
		Reason:     report.Reason(r.Reason),
		Detail:     r.Detail,
		Confidence: track.Confidence(r.Confidence),
		Due:        fromNanos(r.Due),
		At:         fromNanos(r.At),
	}
}
