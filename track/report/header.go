package report

import (
	"bytes"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"
)

// field is one header field: its lower-cased name and its unfolded value.
type field struct {
	key   string
	value string
}

// header is a message or part header in the order the fields were written.
type header []field

// get returns the value of the first field named key (lower case), or "".
func (h header) get(key string) string {
	for _, f := range h {
		if f.key == key {
			return f.value
		}
	}
	return ""
}

// has reports whether a field named key (lower case) is present.
func (h header) has(key string) bool {
	for _, f := range h {
		if f.key == key {
			return true
		}
	}
	return false
}

// maxHeaderBytes caps how much of a header block is read; the rest of an
// endless header is treated as body.
const maxHeaderBytes = 1 << 20

// parseHeader reads a header block from b and returns it with the body that
// follows the blank line. It is tolerant where go-message is not: a line
// without a colon is skipped rather than fatal, a leading mbox "From " line
// is ignored, and folded lines are joined. Lines end in "\n"; a "\r" before
// it is dropped.
func parseHeader(b []byte) (header, []byte) {
	var (
		h     header
		lines [][]byte // the current field's lines, joined when it ends
	)
	flush := func() {
		if len(lines) > 0 {
			h[len(h)-1].value = joinLines(lines)
			lines = lines[:0]
		}
	}
	rest := b
	read := 0
	for len(rest) > 0 {
		line, next := cutLine(rest)
		read += len(rest) - len(next)
		if len(line) == 0 {
			flush()
			return h, next
		}
		if read > maxHeaderBytes {
			break
		}
		rest = next
		i := bytes.IndexByte(line, ':')
		switch {
		case line[0] == ' ' || line[0] == '\t', i <= 0 || !isFieldName(line[:i]):
			// A folded line, or not a header line at all. Mailers that
			// fold without indenting (a "boundary=" on its own line) make
			// the latter a continuation too; before any field (an mbox
			// "From " line) it is skipped.
			if len(h) > 0 {
				lines = append(lines, bytes.TrimSpace(line))
			}
		default:
			flush()
			h = append(h, field{key: fieldKey(line[:i])})
			lines = append(lines, bytes.TrimSpace(line[i+1:]))
		}
	}
	flush()
	return h, rest
}

// joinLines joins the lines of a folded field with single spaces.
func joinLines(lines [][]byte) string {
	if len(lines) == 1 {
		return string(lines[0])
	}
	n := len(lines) - 1
	for _, l := range lines {
		n += len(l)
	}
	var b strings.Builder
	b.Grow(n)
	for i, l := range lines {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(l)
	}
	return b.String()
}

// fieldKey returns the lower-cased field name b, which isFieldName
// accepted (so it is ASCII), sharing the string of a common name.
func fieldKey(b []byte) string {
	b = bytes.TrimSpace(b)
	var buf [32]byte
	if len(b) > len(buf) {
		return strings.ToLower(string(b))
	}
	key := buf[:len(b)]
	for i, c := range b {
		key[i] = lowerASCII[c]
	}
	if k, ok := commonFieldKeys[string(key)]; ok {
		return k
	}
	return string(key)
}

// commonFieldKeys holds the names of the fields most reports have.
var commonFieldKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"received", "from", "to", "cc", "subject", "date", "message-id",
		"content-type", "content-transfer-encoding", "content-disposition",
		"content-description", "content-id", "content-language", "mime-version",
		"return-path", "reply-to", "sender", "in-reply-to", "references",
		"delivered-to", "x-original-to", "x-mailer", "user-agent",
		"dkim-signature", "authentication-results", "received-spf",
		"arc-seal", "arc-message-signature", "arc-authentication-results",
		"x-failed-recipients", "auto-submitted", "precedence", "errors-to",
		"thread-topic", "thread-index", "accept-language", "x-ms-has-attach",
		"x-priority", "x-msmail-priority", "importance", "list-unsubscribe",
		"reporting-mta", "received-from-mta", "arrival-date", "original-envelope-id",
		"final-recipient", "original-recipient", "action", "status",
		"diagnostic-code", "remote-mta", "last-attempt-date", "will-retry-until",
		"x-postfix-queue-id", "x-postfix-sender", "x-actual-recipient",
		"reporting-ua", "disposition", "original-message-id", "mdn-gateway",
		"disposition-notification-to", "return-receipt-to",
	} {
		m[k] = k
	}
	return m
}()

// cutLine returns the first line of b without its line ending, and the rest.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		line, rest = b, nil
	} else {
		line, rest = b[:i], b[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// isFieldName reports whether b is an RFC 5322 field name, allowing the
// trailing blanks some mailers write before the colon.
func isFieldName(b []byte) bool {
	b = bytes.TrimRight(b, " \t")
	if len(b) == 0 || len(b) > 76 {
		return false
	}
	for _, c := range b {
		if !fieldNameByte(c) {
			return false
		}
	}
	return true
}

// isFieldNameString is isFieldName for a string.
func isFieldNameString(s string) bool {
	s = strings.TrimRight(s, " \t")
	if len(s) == 0 || len(s) > 76 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !fieldNameByte(s[i]) {
			return false
		}
	}
	return true
}

func fieldNameByte(c byte) bool {
	return c > ' ' && c < 0x7f && c != '=' && c != '"' && c != '<' && c != '>' && c != '(' && c != ')' && c != ','
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decodeHeaderText decodes RFC 2047 encoded words and raw ISO-2022-JP, as
// Japanese mailers often write it unencoded in headers.
func decodeHeaderText(s string) string {
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		}
	}
	if strings.Contains(s, "\x1b$") {
		s = decodeCharset([]byte(s), "iso-2022-jp")
	}
	return s
}

// decodeCharset converts b from the named charset to UTF-8. Unknown
// charsets and decoding errors keep the bytes as they are: a report is still
// readable when only its human text is garbled.
func decodeCharset(b []byte, name string) string {
	name = strings.ToLower(strings.Trim(name, `"' `))
	if name == "" || name == "us-ascii" || name == "ascii" || name == "utf-8" || name == "utf8" {
		if bytes.Contains(b, []byte("\x1b$")) {
			name = "iso-2022-jp" // undeclared JIS, common in Japanese bounces
		} else {
			return string(b)
		}
	}
	r, err := charset.Reader(name, bytes.NewReader(b))
	if err != nil {
		return string(b)
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(4*len(b)+16)))
	if err != nil && len(out) == 0 {
		return string(b)
	}
	return string(out)
}
