package track

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailack/mailack/track/report"
)

// clockSkew is how far after a report's date its mail may claim to have
// been sent, since sender and reporter clocks disagree.
const clockSkew = 15 * time.Minute

// Lookup finds tracked mails. The store implements it.
type Lookup interface {
	// MailByMessageID returns the mail with the normalised Message-ID id.
	MailByMessageID(id string) (Mail, bool, error)
	// MailByEnvelopeID returns the mail submitted with envelope ID id.
	MailByEnvelopeID(id string) (Mail, bool, error)
	// MailsBySubject returns the mails sent within [from, to] to a
	// recipient whose BaseAddress is recipient, and whose subject
	// NormalizeSubject makes subject. It may return more, such as every
	// mail to that recipient in the window, as Correlate checks each one.
	MailsBySubject(recipient, subject string, from, to time.Time) ([]Mail, error)
}

// Match is a report's mail and recipient. The zero Match means no mail
// was found.
type Match struct {
	Mail       Mail
	Recipient  string // the matched recipient's address on Mail
	Via        Via
	Confidence Confidence
}

// Found reports whether a mail was found.
func (m Match) Found() bool { return m.Mail.MessageID != "" }

// Correlate finds the tracked mail and recipient a report is about. It
// tries, in order, the original Message-ID, the envelope ID, the report's
// In-Reply-To and last References entry, and, when window is positive and
// the report quotes neither a Message-ID nor an envelope ID, the subject,
// recipient and window of time before the report; the last is marked
// ConfidenceLow and used only when exactly one mail fits. A report quoting an ID no tracked
// mail has is an orphan, not a subject match, because its mail may be
// registered later.
//
// Finding no mail yields the zero Match and a nil error. Finding the mail
// but none of its recipients yields the Match without Recipient and an
// error wrapping ErrUnknownRecipient. now stands in for a missing report
// date.
func Correlate(r report.Report, l Lookup, now time.Time, window time.Duration) (Match, error) {
	k := ReportKeys(r, now)
	m, via, err := findByID(k, l)
	if err != nil {
		return Match{}, err
	}
	if via != "" {
		return bind(m, k, via, ConfidenceExact)
	}
	if k.MessageID != "" || k.EnvelopeID != "" || window <= 0 {
		return Match{}, nil
	}
	return bySubject(k, l, window)
}

// ReportKeys extracts what a report offers for correlation; seen stands in
// for a missing report date.
func ReportKeys(r report.Report, seen time.Time) Keys {
	k := Keys{
		MessageID:         NormalizeMessageID(r.OriginalMessageID),
		EnvelopeID:        strings.TrimSpace(r.EnvelopeID),
		Subject:           r.Subject,
		Recipient:         NormalizeAddress(r.Recipient),
		OriginalRecipient: NormalizeAddress(r.OriginalRecipient),
		Date:              r.Date,
	}
	if k.Date.IsZero() {
		k.Date = seen
	}
	// In-Reply-To names the parent directly; of References only the last
	// entry is the parent; earlier ones may be other tracked mails of the
	// same thread.
	refs := []string{r.InReplyTo}
	if n := len(r.References); n > 0 {
		refs = append(refs, r.References[n-1])
	}
	for _, id := range refs {
		if id = NormalizeMessageID(id); id != "" && !contains(k.Thread, id) {
			k.Thread = append(k.Thread, id)
		}
	}
	return k
}

// findByID tries the exact keys in order.
func findByID(k Keys, l Lookup) (Mail, Via, error) {
	if k.MessageID != "" {
		m, ok, err := l.MailByMessageID(k.MessageID)
		if err != nil {
			return Mail{}, "", fmt.Errorf("look up message-id %s: %w", k.MessageID, err)
		}
		if ok {
			return m, ViaMessageID, nil
		}
	}
	if k.EnvelopeID != "" {
		m, ok, err := l.MailByEnvelopeID(k.EnvelopeID)
		if err != nil {
			return Mail{}, "", fmt.Errorf("look up envelope id %s: %w", k.EnvelopeID, err)
		}
		if ok {
			return m, ViaEnvelopeID, nil
		}
	}
	for _, id := range k.Thread {
		m, ok, err := l.MailByMessageID(id)
		if err != nil {
			return Mail{}, "", fmt.Errorf("look up in-reply-to %s: %w", id, err)
		}
		if ok {
			return m, ViaThread, nil
		}
	}
	return Mail{}, "", nil
}

func bind(m Mail, k Keys, via Via, c Confidence) (Match, error) {
	mt := Match{Mail: m, Via: via, Confidence: c}
	addr, ok := MatchRecipient(m, k.Recipient, k.OriginalRecipient)
	if !ok {
		return mt, fmt.Errorf("correlate %s with mail %s: %w", k.Recipient, m.MessageID, ErrUnknownRecipient)
	}
	mt.Recipient = addr
	return mt, nil
}

// bySubject is the last resort: the one mail to the reported recipient,
// sent within the window before the report, whose subject matches.
func bySubject(k Keys, l Lookup, window time.Duration) (Match, error) {
	subject := NormalizeSubject(k.Subject)
	if subject == "" {
		return Match{}, nil
	}
	from, to := k.Date.Add(-window), k.Date.Add(clockSkew)
	var found []Match
	for _, addr := range subjectAddresses(k) {
		mails, err := l.MailsBySubject(addr, subject, from, to)
		if err != nil {
			return Match{}, fmt.Errorf("look up subject for %s: %w", addr, err)
		}
		for _, m := range mails {
			if mt, ok := subjectFit(m, k, subject, from, to); ok && !hasMail(found, m.MessageID) {
				found = append(found, mt)
			}
		}
	}
	if len(found) != 1 {
		return Match{}, nil
	}
	return found[0], nil
}

func subjectFit(m Mail, k Keys, subject string, from, to time.Time) (Match, bool) {
	if NormalizeSubject(m.Subject) != subject || m.SentAt.Before(from) || m.SentAt.After(to) {
		return Match{}, false
	}
	// Without an ID, an alias guess would tie any single-recipient mail
	// with the same subject to the report.
	addr, ok := matchAddress(m, k.Recipient, k.OriginalRecipient)
	if !ok {
		return Match{}, false
	}
	return Match{Mail: m, Recipient: addr, Via: ViaSubject, Confidence: ConfidenceLow}, true
}

// subjectAddresses are the base addresses a subject lookup asks for.
func subjectAddresses(k Keys) []string {
	var out []string
	for _, a := range []string{BaseAddress(k.Recipient), BaseAddress(k.OriginalRecipient)} {
		if a != "" && !contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func hasMail(ms []Match, id string) bool {
	for _, m := range ms {
		if m.Mail.MessageID == id {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// MatchRecipient finds the recipient of m a report or event is about. addr
// is the reported (final) recipient and original the Original-Recipient;
// either may be empty. It matches regardless of case and plus-addressing
// (local+tag@domain), and when nothing matches and m has a single
// recipient, it takes that one: the reporter named an alias. The sender's
// own address matches itself, so the sender's own opens and receipts can be
// recognised and ignored.
func MatchRecipient(m Mail, addr, original string) (string, bool) {
	if a, ok := matchAddress(m, addr, original); ok {
		return a, true
	}
	sender := NormalizeAddress(m.Sender)
	var others []string
	for _, r := range m.Recipients {
		if a := NormalizeAddress(r.Address); a != sender {
			others = append(others, a)
		}
	}
	if len(others) == 1 {
		return others[0], true
	}
	return "", false
}

// matchAddress matches exactly, then by plus-address base when that is
// unambiguous.
func matchAddress(m Mail, addr, original string) (string, bool) {
	cands := []string{NormalizeAddress(addr), NormalizeAddress(original)}
	sender := NormalizeAddress(m.Sender)
	for _, c := range cands {
		if c == "" {
			continue
		}
		if c == sender {
			return sender, true
		}
		for _, r := range m.Recipients {
			if NormalizeAddress(r.Address) == c {
				return NormalizeAddress(r.Address), true
			}
		}
	}
	for _, c := range cands {
		if a, ok := matchBase(m, BaseAddress(c)); ok {
			return a, true
		}
	}
	return "", false
}

func matchBase(m Mail, base string) (string, bool) {
	if base == "" {
		return "", false
	}
	var hit string
	for _, r := range m.Recipients {
		a := NormalizeAddress(r.Address)
		if BaseAddress(a) != base || a == hit {
			continue
		}
		if hit != "" {
			return "", false
		}
		hit = a
	}
	return hit, hit != ""
}

// BaseAddress returns addr normalised and without a +tag in its local
// part: bob+news@example.org becomes bob@example.org. It is empty for
// something that is not an address.
func BaseAddress(addr string) string {
	addr = NormalizeAddress(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return ""
	}
	local, domain := addr[:at], addr[at:]
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + domain
}

// NormalizeAddress returns a bare lower-cased address from the forms
// reports use: "Name <a@b>", "rfc822;a@b", "mailto:a@b", "<a@b>".
func NormalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[i+1:] // address type, RFC 3464 section 2.3.2
	}
	s = strings.TrimPrefix(s, "mailto:")
	return strings.Trim(s, `<>"',;()[]`)
}

// NormalizeMessageID returns a Message-ID as mail is keyed by: without angle
// brackets, whitespace, a mailto: or mid: prefix or trailing punctuation,
// with the part after the last @ lower-cased since it names a domain.
func NormalizeMessageID(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	s = strings.Join(strings.Fields(s), "")
	for _, p := range []string{"mailto:", "mid:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			s = s[len(p):]
		}
	}
	s = strings.TrimRight(strings.Trim(s, `<>"',;()[]`), ".")
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		s = s[:at] + strings.ToLower(s[at:])
	}
	return s
}
