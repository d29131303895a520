package report

import (
	"strings"
)

// returnedTypes are the media types of a part that returns the original
// message or its header (RFC 3462, RFC 6533).
var returnedTypes = []string{
	"message/rfc822", "message/global", "text/rfc822-headers",
	"message/rfc822-headers", "message/global-headers", "text/rfc822-header",
}

// returnedHeader returns the header of the returned original message, or nil.
func (m *message) returnedHeader() header {
	if !m.returnedDone {
		m.returned = m.findReturnedHeader()
		m.returnedDone = true
	}
	return m.returned
}

func (m *message) findReturnedHeader() header {
	p := m.root.find(returnedTypes...)
	if p == nil {
		return m.returnedTextHeader()
	}
	if p.embedded != nil {
		return p.embedded.hdr
	}
	h, _ := parseHeader(p.decoded(maxPartBytes))
	return h
}

// returnedTextHeader reads the header of an original message quoted in a
// bounce's text below a separator line, or returns nil.
func (m *message) returnedTextHeader() header {
	var h header
	m.root.walk(func(p *entity) bool {
		if p.children != nil || !strings.HasPrefix(p.mediaType, "text/plain") {
			return true
		}
		t := p.text()
		start := p.returnedAt()
		if start >= len(t) {
			return true
		}
		rest := t[start:]
		if !headerRun(rest) {
			// Skip the separator line and blank lines after it.
			_, rest, _ = strings.Cut(rest, "\n")
			rest = strings.TrimLeft(rest, "\r\n \t")
		}
		if headerRun(rest) {
			h, _ = parseHeader([]byte(rest[:headerBlockLen(rest)]))
			return false
		}
		return true
	})
	return h
}

// originalMessageID returns the Message-ID of the message a report is about:
// from the returned message or header part, else from headers quoted in the
// report's text.
func (m *message) originalMessageID() string {
	if h := m.returnedHeader(); h != nil {
		if id := cleanMessageID(h.get("message-id")); id != "" {
			return id
		}
	}
	return m.quotedMessageID()
}

// quotedMessageID finds the original's Message-ID quoted in the report's
// body, the way text bounces return the original's header: in the header of
// a part that is the returned message without a Content-Type, or in a text.
func (m *message) quotedMessageID() string {
	var id string
	first := true
	m.root.walk(func(p *entity) bool {
		if first {
			first = false
			if p.children == nil {
				// A single-part bounce: only its body can quote.
				id = m.textMessageID(p)
				return false
			}
			return true
		}
		if p.children != nil {
			return true
		}
		if id = cleanMessageID(p.hdr.get("message-id")); id != "" {
			return false
		}
		if p.embedded != nil {
			id = cleanMessageID(p.embedded.hdr.get("message-id"))
		} else if strings.HasPrefix(p.mediaType, "text/") || strings.HasPrefix(p.mediaType, "message/") {
			id = m.textMessageID(p)
		}
		return id == ""
	})
	return id
}

// textMessageID finds a quoted "Message-ID: <...>" line in a part's text.
func (m *message) textMessageID(p *entity) string {
	return quotedMessageIDIn(p.text())
}

// quotedMessageIDIn returns the ID of the first "Message-ID: <ID>" in t
// (any field ending in Message-ID, any case, blanks and line breaks
// allowed around the colon and inside the brackets, the opening bracket
// optional). The ID is addr@domain, or without @ at least 8 characters.
func quotedMessageIDIn(t string) string {
	const name = "message-id"
	names := newFoldSearch(t, name)
	var run idRun
	for from := 0; ; {
		i := names.next(from)
		if i < 0 {
			return ""
		}
		if id := run.idAt(t, i+len(name)); id != "" {
			return id
		}
		from = i + 1
	}
}

// idRun is what idAt found about the last run of ID characters it read.
// Later names may point into the same run ("Message-ID:Message-ID:..."),
// and what it found holds for every ID that starts in it.
type idRun struct {
	start, end int  // the run is t[start:end]
	closed     bool // white space and '>' follow it
	lastAt     int  // the last '@' in t[start:end-1], or -1
	lastAtAll  int  // the last '@' in t[start:end], or -1
}

// idAt reads ": <ID>" at t[i:], or returns "".
func (r *idRun) idAt(t string, i int) string {
	i = skipSpaces(t, i)
	if i >= len(t) || t[i] != ':' {
		return ""
	}
	i = skipSpaces(t, i+1)
	if i < len(t) && t[i] == '<' {
		i = skipSpaces(t, i+1)
	}
	if i >= len(t) || !isIDByte(t[i]) {
		return "" // an empty ID
	}
	if i < r.start || i >= r.end {
		end := i
		for end < len(t) && isIDByte(t[end]) {
			end++
		}
		after := skipSpaces(t, end)
		*r = idRun{
			start:     i,
			end:       end,
			closed:    after < len(t) && t[after] == '>',
			lastAt:    lastIndexFrom(t[:end-1], i, '@'),
			lastAtAll: lastIndexFrom(t[:end], i, '@'),
		}
	}
	if !r.closed {
		return ""
	}
	id := t[i:r.end]
	switch {
	case r.lastAt > i:
		return id // addr@domain
	case r.lastAtAll < i && runesAtLeast(id, 8):
		return id
	}
	return ""
}

// isIDByte reports whether c may be in a quoted Message-ID: not white
// space and not an angle bracket.
func isIDByte(c byte) bool {
	return !isSpaceByte(c) && c != '<' && c != '>'
}

// lastIndexFrom returns the offset of the last c in s at or after from, or
// -1.
func lastIndexFrom(s string, from int, c byte) int {
	if from > len(s) {
		return -1
	}
	if i := strings.LastIndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// runesAtLeast reports whether s holds at least n characters.
func runesAtLeast(s string, n int) bool {
	for range s {
		if n--; n <= 0 {
			return true
		}
	}
	return n <= 0
}

// skipSpaces skips white space (\s) from s[i:].
func skipSpaces(s string, i int) int {
	for i < len(s) && isSpaceByte(s[i]) {
		i++
	}
	return i
}

// bodyTexts returns the decoded text of every text part of the message and
// the raw text of returned parts, in order.
func (m *message) bodyTexts() []string {
	if m.texts != nil {
		return m.texts
	}
	m.root.walk(func(p *entity) bool {
		switch {
		case p.children != nil:
		case strings.HasPrefix(p.mediaType, "text/"), p.mediaType == "message/delivery-status":
			m.texts = append(m.texts, p.text())
		case p.embedded != nil:
			m.texts = append(m.texts, embeddedText(p.embedded))
		}
		return true
	})
	if m.texts == nil {
		m.texts = []string{}
	}
	return m.texts
}

// embeddedText renders the header of an embedded message as text, followed
// by its first text, so quoted Message-IDs and addresses can be found in it.
func embeddedText(e *entity) string {
	n := 0
	for _, f := range e.hdr {
		n += len(f.name) + len(f.raw) + 3
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range e.hdr {
		for _, c := range f.name {
			b.WriteByte(lowerASCII[c])
		}
		b.WriteString(": ")
		writeUnfolded(&b, f.raw)
		b.WriteByte('\n')
	}
	return b.String()
}
