package track

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mailack/mailack/track/report"
)

// Answers (replies and automatic replies, report.KindReply and
// report.KindAutoReply) are evidence like reports, with three differences:
//
//   - They are tied to a mail by the message they answer (In-Reply-To and
//     References, nearest first), or without threading headers by subject,
//     sender and time window (ConfidenceLow); an answer quoting IDs of
//     which none is tracked belongs to no tracked mail.
//   - A reply from an address on the mail answers for that recipient; one
//     from a colleague of the same domain (not a public mailbox provider
//     such as gmail.com or docomo.ne.jp) answers for every recipient of
//     that domain (a Cc answering with reply-all, an assistant answering
//     for their manager), and the card names who answered. An automatic
//     reply from an address not on the mail stands only for the single
//     recipient of its domain. The sender's own mail (a follow-up, a copy
//     from another device) never counts.
//   - An out-of-office notice that says when the person is back moves that
//     recipient's deadline to Mail.Span of working time after the end of
//     that day (Recipient.DueAt), so nobody is reminded about a partner on
//     holiday; without a date, and for acknowledgements, the deadline
//     stays.

// IsAnswer reports whether r is a reply or an automatic reply.
func IsAnswer(r report.Report) bool {
	return r.Kind == report.KindReply || r.Kind == report.KindAutoReply
}

// CorrelateAnswer finds the tracked mail an answer is about. It returns the
// zero Match when none is found; Match.Recipient is left empty, as an
// answer may stand for several recipients (see Answerers).
func CorrelateAnswer(r report.Report, l Lookup, now time.Time, window time.Duration) (Match, error) {
	ids := AnswerRefs(r)
	for i, id := range ids {
		m, ok, err := l.MailByMessageID(id)
		if err != nil {
			return Match{}, fmt.Errorf("look up answered message %s: %w", id, err)
		}
		if ok {
			via := ViaThread
			if i == 0 && id == NormalizeMessageID(r.OriginalMessageID) {
				via = ViaMessageID
			}
			return Match{Mail: m, Via: via, Confidence: ConfidenceExact}, nil
		}
	}
	if len(ids) > 0 || window <= 0 {
		return Match{}, nil
	}
	k := ReportKeys(r, now)
	k.Subject = answerSubject(k.Subject)
	mt, err := bySubject(k, l, window)
	if err != nil || !mt.Found() {
		return Match{}, err
	}
	mt.Recipient = ""
	return mt, nil
}

// autoReplyPrefixes are the words automatic replies put before the
// subject they answer, lower-cased, without the colon: Exchange's
// out-of-office assistant ("Automatic reply:", 「自動応答:」), Sieve
// vacation's default "Auto:" (RFC 5230 section 4.5) and the notices of
// vacation programs and Japanese groupware. NormalizeSubject leaves them,
// as a sent mail's own subject may start with them.
var autoReplyPrefixes = []string{
	"automatic reply", "autoreply", "auto reply", "auto", "out of office", "abwesend", "réponse automatique",
	"自動応答", "自動返信", "不在通知", "不在のお知らせ",
}

// answerSubject removes the automatic-reply prefixes from an answer's
// subject.
func answerSubject(s string) string {
	s = strings.TrimSpace(s)
	for {
		cut := false
		for _, p := range autoReplyPrefixes {
			if len(s) < len(p) || !strings.EqualFold(s[:len(p)], p) {
				continue
			}
			rest := strings.TrimLeft(s[len(p):], " ")
			if r, size := utf8.DecodeRuneInString(rest); r == ':' || r == '：' {
				s, cut = strings.TrimSpace(rest[size:]), true
				break
			}
		}
		if !cut {
			return s
		}
	}
}

// MaxAnswerRefs is the most Message-IDs AnswerRefs returns. A References
// field is the mail's ancestors, and a mail reader may shorten it keeping
// the first and the nearest ones (RFC 5322 section 3.6.4 leaves its length
// open; RFC 5537 section 3.4.4 has news readers trim it so, keeping the
// first and the last three). A hostile answer can name a hundred thousand
// IDs within the reader's header limit; each would cost a lookup and,
// while the answer waits as an orphan, an index entry.
const MaxAnswerRefs = 50

// AnswerRefs returns the Message-IDs an answer refers to, normalised,
// nearest first: the one answered, then References from last to first;
// of a longer list, the nearest MaxAnswerRefs-1 and the thread's first.
func AnswerRefs(r report.Report) []string {
	var ids []string
	add := func(id string) {
		if id = NormalizeMessageID(id); id != "" && !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(r.OriginalMessageID)
	add(r.InReplyTo)
	for i := len(r.References) - 1; i >= 0 && len(ids) < MaxAnswerRefs-1; i-- {
		add(r.References[i])
	}
	if n := len(r.References); n > 0 {
		add(r.References[0])
	}
	return ids
}

// Answerers returns the recipients of m an answer from the address from
// stands for (see the rules above). It returns none and a nil error for the
// sender's own mail, and ErrUnknownRecipient when the answer stands for
// nobody on m.
func Answerers(m Mail, from string, kind report.Kind) ([]string, error) {
	from = NormalizeAddress(from)
	sender := NormalizeAddress(m.Sender)
	if from == "" {
		return nil, fmt.Errorf("answer without a sender to %s: %w", m.MessageID, ErrUnknownRecipient)
	}
	if from == sender || BaseAddress(from) == BaseAddress(sender) {
		return nil, nil
	}
	if a, ok := matchAddress(m, from, ""); ok {
		return []string{a}, nil
	}
	domain := domainOf(from)
	if publicMailDomains[domain] {
		return nil, fmt.Errorf("answer from %s to %s: %w", from, m.MessageID, ErrUnknownRecipient)
	}
	var same []string
	for _, r := range m.Recipients {
		if a := NormalizeAddress(r.Address); a != sender && domainOf(a) == domain {
			same = append(same, a)
		}
	}
	if len(same) == 0 || kind == report.KindAutoReply && len(same) > 1 {
		return nil, fmt.Errorf("answer from %s to %s: %w", from, m.MessageID, ErrUnknownRecipient)
	}
	return same, nil
}

// publicMailDomains are mailbox providers open to anyone, including the
// Japanese mobile carriers' mail: two of their users are no colleagues,
// so the same-domain rule does not apply to them.
var publicMailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "outlook.jp": true, "hotmail.com": true,
	"hotmail.co.jp": true, "live.com": true, "live.jp": true, "msn.com": true, "yahoo.com": true,
	"yahoo.co.jp": true, "ymail.com": true, "icloud.com": true, "me.com": true, "mac.com": true, "aol.com": true,
	"gmx.de": true, "gmx.net": true, "web.de": true, "mail.ru": true, "qq.com": true, "163.com": true,
	"naver.com": true, "proton.me": true, "protonmail.com": true, "zoho.com": true,
	"docomo.ne.jp": true, "ezweb.ne.jp": true, "au.com": true, "softbank.ne.jp": true, "i.softbank.jp": true,
	"ymobile.ne.jp": true, "rakuten.jp": true, "nifty.com": true, "biglobe.ne.jp": true, "ocn.ne.jp": true,
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// AnswerEvidence turns an answer into evidence about each recipient of
// mt.Mail it stands for, seen at seen. The first piece has the answer's own
// EvidenceID; a colleague's answer for further recipients gets one ID per
// recipient derived from it, so reading the answer again yields the same
// IDs. It returns nothing for the sender's own mail and
// ErrUnknownRecipient, with the evidence to keep unapplied, when the answer
// stands for no recipient.
func AnswerEvidence(r report.Report, mt Match, seen time.Time) ([]Evidence, error) {
	base := EvidenceFrom(r, Match{Mail: mt.Mail, Via: mt.Via, Confidence: mt.Confidence}, seen)
	return spreadAnswer(base, mt.Mail, r.Recipient, r.Kind)
}

// spreadAnswer turns base, an answer from the address from bound to m,
// into one piece of evidence for each recipient it stands for (see
// AnswerEvidence).
func spreadAnswer(base Evidence, m Mail, from string, kind report.Kind) ([]Evidence, error) {
	addrs, err := Answerers(m, from, kind)
	if err != nil {
		return []Evidence{base}, err
	}
	from = NormalizeAddress(from)
	out := make([]Evidence, 0, len(addrs))
	for i, a := range addrs {
		ev := base
		ev.Recipient = a
		ev.Reported = ""
		if a != from {
			ev.Reported = from
		}
		if i > 0 {
			ev.ID = hashID(string(ev.Source), base.ID, a)
		}
		out = append(out, ev)
	}
	return out, nil
}

// absorbAway records an automatic answer's type and date on recipient i of
// m and moves its deadline, and reports whether anything changed. The
// latest date wins; an out-of-office notice outranks an acknowledgement.
func absorbAway(m *Mail, i int, ev Evidence, cal *Calendar) bool {
	if ev.Signal != StatusAway && ev.Signal != StatusAutoAck {
		return false
	}
	r := &m.Recipients[i]
	changed := false
	if t := ev.AutoReply; t != "" && t != r.AutoReply && r.AutoReply != report.AutoReplyAway {
		r.AutoReply, changed = t, true
	}
	if ev.Signal != StatusAway || !ev.AwayUntil.After(r.AwayUntil) {
		return changed
	}
	r.AwayUntil = ev.AwayUntil
	r.BackAt = BackAt(ev.AwayUntil, cal)
	if due := AnswerDeadline(*m, ev.AwayUntil, cal); !m.Closed() && !due.IsZero() && due.After(m.DueAt) && due.After(r.DueAt) {
		r.DueAt = due
	}
	if s := effective(*r, m.Requested); s != r.Status {
		r.Status = s
		r.StatusAt = ev.At
	}
	return true
}

// AnswerDeadline returns the deadline of a recipient who is away until the
// date back (midnight UTC of that day): m's Span of working time after the
// end of that day in cal's zone. It is zero when m has no deadline span.
func AnswerDeadline(m Mail, back time.Time, cal *Calendar) time.Time {
	span := m.Span
	if span <= 0 {
		span = m.Deadline
	}
	if span <= 0 || back.IsZero() {
		return time.Time{}
	}
	return cal.Add(BackAt(back, cal), span)
}

// BackAt returns when a recipient away until the date back (midnight UTC
// of that day) is back at work: the start of the first working time after
// the end of that day in cal's zone, such as 09:00 in Tokyo on the next
// working day. A nil Calendar counts plain days in UTC: the next midnight
// UTC. It is zero when back is.
func BackAt(back time.Time, cal *Calendar) time.Time {
	if back.IsZero() {
		return time.Time{}
	}
	loc := time.UTC
	if cal != nil {
		loc = cal.loc
	}
	y, mo, d := back.UTC().Date()
	return cal.Next(time.Date(y, mo, d+1, 0, 0, 0, 0, loc))
}

// NextDue returns when m's next deadline falls for a recipient who still
// owes an answer: the mail's own deadline, or a recipient's own later one
// (moved by an out-of-office notice). It is zero when m is closed or
// nobody still waits for a no-response notice; a snoozed mail keeps its
// snooze time, so that it is opened again then.
func NextDue(m Mail) time.Time {
	if m.Closed() {
		return time.Time{}
	}
	var next time.Time
	for _, r := range m.Recipients {
		due := recipientDue(m, r)
		if due.IsZero() || !owesNoResponse(m, r, due) {
			continue
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	if next.IsZero() && m.State == StateSnoozed {
		return m.DueAt
	}
	return next
}

// recipientDue is when r's deadline falls: the mail's, unless r's own is
// later.
func recipientDue(m Mail, r Recipient) time.Time {
	if m.DueAt.IsZero() || r.DueAt.After(m.DueAt) {
		return r.DueAt
	}
	return m.DueAt
}
