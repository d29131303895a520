package report

import (
	"bytes"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrEmpty is returned for input that holds no message at all.
var ErrEmpty = errors.New("report: empty message")

// ErrNotMessage is returned for input that has no header a message could
// have: it is not an RFC 5322 message.
var ErrNotMessage = errors.New("report: no message header")

// Parse reads one raw RFC 5322 message and returns one Report per recipient
// the message reports on. A message that is not a delivery or read report
// yields no reports and no error. A message longer than MaxMessageBytes is
// read as Shrink leaves it: its structure and report parts, and the
// beginning of its other parts.
func Parse(raw []byte) ([]Report, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, ErrEmpty
	}
	raw = normalizeNewlines(raw)
	if len(raw) > MaxMessageBytes {
		// Reading from memory cannot fail.
		raw, _ = Shrink(bytes.NewReader(raw), MaxMessageBytes)
	}
	w := &walker{}
	msg := w.parseEntity(raw, 0, "text/plain")
	if len(msg.hdr) == 0 {
		return nil, ErrNotMessage
	}
	m := &message{root: msg}
	if inner := forwardedReport(msg); inner != nil {
		// A bounce or receipt forwarded by a person or a helpdesk: the
		// wrapper is not the report.
		m = &message{root: inner}
	}
	m.init()
	reports := m.reports()
	for i := range reports {
		m.fill(&reports[i])
	}
	m.suggest(reports)
	return reports, nil
}

// reportPartTypes are the media types of the machine-readable parts of
// reports (RFC 3464, RFC 6533, RFC 8098).
var reportPartTypes = []string{
	"message/delivery-status", "message/global-delivery-status",
	"message/disposition-notification", "message/global-disposition-notification",
}

// forwardedReport returns the report a message forwards as an attachment
// (a message/rfc822 part of a multipart/mixed), or nil. A message that is
// a report itself, or a mail system's bounce returning a bounce, forwards
// nothing: its own report counts.
func forwardedReport(root *entity) *entity {
	if !strings.HasPrefix(root.mediaType, "multipart/") || root.mediaType == "multipart/report" ||
		root.find(reportPartTypes...) != nil {
		return nil
	}
	var found *entity
	root.walk(func(p *entity) bool {
		e := p.embedded
		if e == nil {
			return true
		}
		if e.mediaType == "multipart/report" || e.find(reportPartTypes...) != nil ||
			isDaemonAddress(firstAddress(e.hdr.get("from"))) && e.hdr.has("x-failed-recipients") {
			found = e
			return false
		}
		return true
	})
	if found == nil || !isDaemonAddress(firstAddress(root.hdr.get("from"))) {
		return found
	}
	// A bounce returning a bounce says why in its own text: its own
	// report counts. A mail gateway that re-wraps the report it passes
	// on (the same Message-ID outside and inside, or no text of its own
	// beside it) only carries it.
	id := cleanMessageID(root.hdr.get("message-id"))
	if !hasOwnText(root) || id != "" && id == cleanMessageID(found.hdr.get("message-id")) {
		return found
	}
	return nil
}

// hasOwnText reports whether a message has a text part of its own, outside
// the messages it embeds, that says anything.
func hasOwnText(root *entity) bool {
	found := false
	root.walk(func(p *entity) bool {
		if p.children == nil && p.embedded == nil && strings.HasPrefix(p.mediaType, "text/") &&
			len(bytes.TrimSpace(p.decoded(maxHeaderBytes))) > 0 {
			found = true
		}
		return !found
	})
	return found
}

// normalizeNewlines turns CR-only line endings (old Mac mail) into LF so the
// line-based readers see lines. CRLF and LF are left as they are.
func normalizeNewlines(b []byte) []byte {
	head := b
	if len(head) > 8192 {
		head = head[:8192]
	}
	if bytes.IndexByte(head, '\n') >= 0 || bytes.IndexByte(head, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte{'\r'}, []byte{'\n'})
}

// message holds what all reports of one message share.
type message struct {
	root         *entity
	messageID    string
	date         time.Time
	subject      string
	from         string
	inReplyTo    string
	references   []string
	texts        []string // decoded body texts, filled on first use
	returned     header   // the returned message's header, once returnedDone
	returnedDone bool
	human        *string // the report's own text, filled on first use
	humanLow     *string // human lower-cased, filled on first use
	summary      *string // human summarized, filled on first use
}

func (m *message) init() {
	h := m.root.hdr
	m.messageID = cleanMessageID(h.get("message-id"))
	if d, err := parseDate(h.get("date")); err == nil {
		m.date = d.UTC()
	}
	m.subject = decodeHeaderText(h.get("subject"))
	m.from = firstAddress(h.get("from"))
	m.inReplyTo = cleanMessageID(h.get("in-reply-to"))
	m.references = append(m.references, messageIDList(h.get("references"))...)
}

// reports finds the reports the message carries, trying the standard MIME
// report parts first and the formats of particular mail systems after.
func (m *message) reports() []Report {
	if rs := m.dsnReports(); rs != nil {
		return rs
	}
	if rs := m.mdnReports(); rs != nil {
		return rs
	}
	if m.isNotReport() {
		return m.autoReplyOnly()
	}
	if rs := m.sesReports(); rs != nil {
		return rs
	}
	if rs := m.textMDNReports(); rs != nil {
		return rs
	}
	if rs := m.tnefReports(); rs != nil {
		return rs
	}
	if rs := m.bounceReports(); rs != nil {
		return rs
	}
	return m.answerReports()
}

// suggest sets the address each bounce report suggests instead of its
// recipient: from the recipient's own diagnostic, else, when the report
// is about one recipient, from the report's text.
func (m *message) suggest(reports []Report) {
	for i := range reports {
		r := &reports[i]
		if r.Kind != KindDSN || r.Recipient == "" {
			continue
		}
		r.SuggestedAddress = suggestedAddress(r.Diagnostic, r.Recipient)
		if r.SuggestedAddress == "" && len(reports) == 1 {
			r.SuggestedAddress = suggestedAddress(m.humanText(), r.Recipient)
		}
	}
}

// fill sets the message-level fields of r.
func (m *message) fill(r *Report) {
	r.ReportMessageID = m.messageID
	if r.Date.IsZero() {
		// A time the report states inside (a TNEF receipt's reading
		// time) is kept; otherwise the report's Date header.
		r.Date = m.date
	}
	r.Subject = m.subject
	r.InReplyTo = m.inReplyTo
	r.References = m.references
	r.Recipient = strings.ToLower(r.Recipient)
	r.OriginalRecipient = strings.ToLower(r.OriginalRecipient)
	if r.OriginalRecipient == r.Recipient {
		r.OriginalRecipient = ""
	}
}

// cleanMessageID returns the first message ID in v without angle brackets.
func cleanMessageID(v string) string {
	ids := messageIDList(v)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// messageIDList returns the message IDs in v, without angle brackets. A value
// without brackets is taken whole, as some mailers write it bare.
func messageIDList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			break
		}
		end := i + j
		// A stray '<' before the ID ("<a<b@c>") is not part of it.
		i = strings.LastIndexByte(v[:end], '<')
		id := v[i+1 : end]
		if hasSpaceOrNonASCII(id) {
			id = strings.Join(strings.Fields(id), "")
		}
		if id != "" {
			ids = append(ids, id)
		}
		v = v[end+1:]
	}
	if ids == nil {
		f := strings.Fields(v)
		if len(f) > 0 && strings.Contains(f[0], "@") || len(f) == 1 {
			// A bare ID; one with an angle bracket inside is malformed.
			if id := strings.Trim(f[0], "<>;,\"'"); !strings.ContainsAny(id, "<>") {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// firstAddress returns the first e-mail address in an address header value,
// lower-cased, or "".
func firstAddress(v string) string {
	if v == "" {
		return ""
	}
	if a, ok := simpleAddress(v); ok {
		return strings.ToLower(a)
	}
	if a, err := mail.ParseAddress(decodeHeaderText(v)); err == nil {
		return strings.ToLower(a.Address)
	}
	if as := findAddresses(v); len(as) > 0 {
		return as[0]
	}
	return ""
}

// simpleAddress returns the address of v as mail.ParseAddress reads it,
// when v has one of the forms nearly all mailers write: a bare
// local@domain, or one after a plain or quoted display name in angle
// brackets. Otherwise it reports false.
func simpleAddress(v string) (string, bool) {
	if strings.Contains(v, "=?") || strings.IndexByte(v, 0x1b) >= 0 {
		return "", false // encoded words need decoding first
	}
	s := strings.Trim(v, " \t")
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if !strings.HasSuffix(s, ">") || !isSimplePhrase(s[:i]) {
			return "", false
		}
		s = s[i+1 : len(s)-1]
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || !isDotAtom(local) || !isDotAtom(domain) {
		return "", false
	}
	return s, true
}

// isSimplePhrase reports whether s is a display name of ASCII atoms and
// quoted strings without escapes, separated by blanks.
func isSimplePhrase(s string) bool {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return false
			}
			for _, q := range []byte(s[i+1 : i+1+end]) {
				if q == '\\' || q != '\t' && (q < ' ' || q > '~') {
					return false
				}
			}
			i += end + 2
		case isAtextByte(c) || c == '.':
			i++
		default:
			return false
		}
	}
	return true
}

// isDotAtom reports whether s is ASCII atoms joined by single dots.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAtextByte(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// isAtextByte reports whether c is an ASCII atext character (RFC 5322).
func isAtextByte(c byte) bool {
	return atextBytes[c]
}

var atextBytes = func() (t [256]bool) {
	for c := byte('!'); c <= '~'; c++ {
		t[c] = strings.IndexByte(`()<>[]:;@\,".`, c) < 0
	}
	return t
}()

// hasSpaceOrNonASCII reports whether s holds ASCII white space or any
// byte that is not ASCII.
func hasSpaceOrNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || asciiSpace(c) {
			return true
		}
	}
	return false
}
