package report

import (
	"bytes"
	"encoding/base64"
	"mime"
	"strings"
)

// Limits bound the work Parse does on one message.
const (
	// MaxMessageBytes is how much of a message Parse looks at; the rest is
	// ignored (reports put what matters first).
	MaxMessageBytes = 32 << 20
	// maxPartBytes caps how much of one part is decoded.
	maxPartBytes = 1 << 20
	// maxTextBytes caps how much of a report's own text is read: a bounce
	// that lists thousands of recipients with their errors is read whole.
	maxTextBytes = 8 << 20
	// maxParts caps the number of MIME parts examined in one message.
	maxParts = 200
	// maxDepth caps the nesting of multiparts and embedded messages.
	maxDepth = 6
	// maxRecipients caps the recipients one report is read for. It is
	// ten times the most recipients the large mail systems accept on one
	// message (Exchange Online and Postfix's smtpd_recipient_limit: 1,000;
	// RFC 5321 section 4.5.3.1.8 asks for at least 100), so no real report
	// reaches it; it bounds what a hostile one costs.
	maxRecipients = 10000
)

// entity is one MIME entity: a message, a part, or a message embedded in a
// message/rfc822 part.
type entity struct {
	hdr       header
	mediaType string      // lower case, "text/plain" when absent
	params    mediaParams // Content-Type parameters
	body      []byte      // raw body, transfer encoding not removed
	children  []*entity   // parts of a multipart
	embedded  *entity     // the message inside message/rfc822 or message/global
	txt       *string     // the decoded text, once text has been called
	cut       int         // 1 + where a returned message starts in txt, once returnedAt has been called
}

// walker parses entities and counts parts against the limits.
type walker struct {
	parts int
}

// parseEntity parses raw as an entity nested depth levels deep.
func (w *walker) parseEntity(raw []byte, depth int, defaultType string) *entity {
	w.parts++
	h, body := parseHeader(raw)
	e := &entity{hdr: h, body: body}
	e.mediaType, e.params = parseContentType(h.get("content-type"), defaultType)
	if depth >= maxDepth || w.parts > maxParts {
		return e
	}
	switch {
	case strings.HasPrefix(e.mediaType, "multipart/"):
		boundary := e.params.get("boundary")
		sub := "text/plain"
		if e.mediaType == "multipart/digest" {
			sub = "message/rfc822"
		}
		// The parts beyond the limit on parts are never read.
		limit := maxParts - w.parts + 1
		parts := splitMultipart(body, boundary, limit)
		if len(parts) == 0 {
			parts = splitMultipart(body, guessBoundary(body), limit)
		}
		if len(parts) == 0 {
			// No delimiter at all: read the body as text.
			e.mediaType = "text/plain"
			return e
		}
		for _, p := range parts {
			if w.parts > maxParts {
				break
			}
			e.children = append(e.children, w.parseEntity(p, depth+1, sub))
		}
	case e.mediaType == "message/rfc822" || e.mediaType == "message/global":
		inner := decodeTransfer(body, h.get("content-transfer-encoding"), MaxMessageBytes)
		inner = bytes.TrimLeft(inner, "\r\n")
		e.embedded = w.parseEntity(inner, depth+1, "text/plain")
	}
	return e
}

// mediaParams are the parameters of a Content-Type, names in lower case.
type mediaParams []mediaParam

type mediaParam struct{ name, value string }

// get returns the value of the parameter name (lower case), or "".
func (ps mediaParams) get(name string) string {
	for _, p := range ps {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

// parseContentType parses a Content-Type value, falling back to a lenient
// reading when the value is not valid (unquoted specials, stray semicolons).
func parseContentType(v, def string) (string, mediaParams) {
	if v == "" {
		return def, nil
	}
	if mt, params, ok := parseSimpleMediaType(v); ok {
		return mt, params
	}
	mt, m, err := mime.ParseMediaType(v)
	if err == nil {
		var params mediaParams
		for k, val := range m {
			params = append(params, mediaParam{k, val})
		}
		return strings.ToLower(mt), params
	}
	m = map[string]string{}
	parts := strings.Split(v, ";")
	mt = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		m[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), `"`)
	}
	if !strings.Contains(mt, "/") {
		mt = def
	}
	var params mediaParams
	for k, val := range m {
		params = append(params, mediaParam{k, val})
	}
	return mt, params
}

// parseSimpleMediaType reads a Content-Type value as mime.ParseMediaType
// does, when it has the form nearly all have: type/subtype and
// parameters whose values are tokens or quoted strings without escapes.
// Otherwise it reports false.
func parseSimpleMediaType(v string) (string, mediaParams, bool) {
	base, _, _ := strings.Cut(v, ";")
	mt := strings.Trim(base, " \t")
	slash := strings.IndexByte(mt, '/')
	if slash < 0 || !isToken(mt[:slash]) || !isToken(mt[slash+1:]) {
		return "", nil, false
	}
	var params mediaParams
	for v = v[len(base):]; ; {
		v = strings.TrimLeft(v, " \t")
		if v == "" {
			break
		}
		if v[0] != ';' {
			return "", nil, false
		}
		v = strings.TrimLeft(v[1:], " \t")
		if v == "" {
			break // a trailing semicolon
		}
		key := tokenPrefix(v)
		if key == "" || strings.IndexByte(key, '*') >= 0 {
			return "", nil, false
		}
		v = strings.TrimLeft(v[len(key):], " \t")
		if v == "" || v[0] != '=' {
			return "", nil, false
		}
		v = strings.TrimLeft(v[1:], " \t")
		var value string
		if v != "" && v[0] == '"' {
			end := strings.IndexAny(v[1:], "\"\\\r\n")
			if end < 0 || v[1+end] != '"' {
				return "", nil, false
			}
			value, v = v[1:1+end], v[2+end:]
		} else {
			value = tokenPrefix(v)
			v = v[len(value):]
			if value == "" {
				return "", nil, false
			}
		}
		key = lowerASCIIString(key)
		for _, p := range params {
			if p.name == key {
				return "", nil, false
			}
		}
		params = append(params, mediaParam{key, value})
	}
	return lowerASCIIString(mt), params, true
}

// isToken reports whether s is a non-empty RFC 2045 token.
func isToken(s string) bool {
	return s != "" && tokenPrefix(s) == s
}

// tokenPrefix returns the longest prefix of s made of token characters.
func tokenPrefix(s string) string {
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return s[:i]
		}
	}
	return s
}

// tokenByte marks the bytes allowed in an RFC 2045 token.
var tokenByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = strings.IndexByte(`()<>@,;:\"/[]?=`, byte(c)) < 0
	}
	return t
}()

func lowerASCIIString(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// splitMultipart returns the body parts between boundary delimiter lines,
// at most limit of them. A missing closing delimiter ends the last part at
// the end of the body.
func splitMultipart(body []byte, boundary string, limit int) [][]byte {
	if boundary == "" {
		return nil
	}
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	pos := 0
	for pos < len(body) {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		at := pos + i
		pos = at + len(delim)
		if at > 0 && body[at-1] != '\n' {
			continue // the boundary string inside a line is not a delimiter
		}
		if start >= 0 {
			end := at
			// The line break before the delimiter belongs to it.
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			parts = append(parts, body[start:end])
			if len(parts) >= limit {
				return parts
			}
		}
		closing := bytes.HasPrefix(body[pos:], []byte("--"))
		_, rest := cutLine(body[pos:])
		start = len(body) - len(rest)
		pos = start
		if closing {
			return parts
		}
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts
}

// guessBoundary finds the boundary of a multipart whose declared boundary
// does not occur in its body (mangled by a rewriting gateway): the first
// "--token" line among the first 1000 lines whose "\n--token" occurs again
// later. It returns "" when there is none. The candidates are all looked
// for in one pass over the body.
func guessBoundary(body []byte) string {
	var (
		tokens []string // "\n--" and the token of each candidate line
		after  []int    // where the text after each candidate line starts
	)
	rest := body
	for i := 0; len(rest) > 0 && i < 1000; i++ {
		var line []byte
		line, rest = cutLine(rest)
		if len(line) < 4 || line[0] != '-' || line[1] != '-' || bytes.ContainsAny(line, " \t") {
			continue
		}
		tokens = append(tokens, "\n--"+string(bytes.TrimSuffix(line[2:], []byte("--"))))
		after = append(after, len(body)-len(rest))
	}
	if len(tokens) == 0 {
		return ""
	}
	// Equal tokens are reported as the first of them, the one that
	// counts: it comes before the others and has the most text after it.
	first := len(tokens)
	newExactPhraseSet(tokens).scanBytes(body, func(k, end int) bool {
		if end-len(tokens[k]) >= after[k] && k < first {
			first = k
		}
		return first > 0
	})
	if first == len(tokens) {
		return ""
	}
	return tokens[first][len("\n--"):]
}

// decoded returns the body with its transfer encoding removed, at most limit
// bytes of it.
func (e *entity) decoded(limit int) []byte {
	return decodeTransfer(e.body, e.hdr.get("content-transfer-encoding"), limit)
}

// text returns the body as UTF-8 text, at most about maxTextBytes of it.
func (e *entity) text() string {
	if e.txt == nil {
		t := decodeCharset(e.decoded(maxTextBytes), e.params.get("charset"))
		e.txt = &t
	}
	return *e.txt
}

// returnedAt returns where the returned message starts in the part's text,
// its length when there is none (see cutReturned).
func (e *entity) returnedAt() int {
	if e.cut == 0 {
		e.cut = 1 + len(cutReturned(e.text()))
	}
	return e.cut - 1
}

// decodeTransfer removes a Content-Transfer-Encoding leniently: invalid
// quoted-printable escapes are kept as written and non-alphabet characters in
// base64 are skipped.
func decodeTransfer(b []byte, enc string, limit int) []byte {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		if len(b) > limit*4/3+1024 {
			b = b[:limit*4/3+1024]
		}
		return decodeBase64(b)
	case "quoted-printable":
		if len(b) > limit*3 {
			b = b[:limit*3]
		}
		return decodeQP(b, limit)
	}
	if len(b) > limit {
		b = b[:limit]
	}
	return b
}

func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		}
	}
	// Padding was dropped above; a lone sextet at the end carries no byte.
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	// Decode cannot fail on alphabet-only input of a valid length.
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

func decodeQP(b []byte, limit int) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b) && len(out) < limit; i++ {
		// Copy up to the next '=' at once.
		j := bytes.IndexByte(b[i:], '=')
		if j < 0 {
			j = len(b) - i
		}
		n := min(j, limit-len(out))
		out = append(out, b[i:i+n]...)
		i += n
		if i >= len(b) || len(out) >= limit {
			break
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			i++
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			i += 2
		case i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, '=')
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// walk calls f for e and every part below it, depth first, without entering
// embedded messages (a returned original is not part of the report).
func (e *entity) walk(f func(*entity) bool) bool {
	if !f(e) {
		return false
	}
	for _, c := range e.children {
		if !c.walk(f) {
			return false
		}
	}
	return true
}

// find returns the first part (not inside an embedded message) whose media
// type is one of types.
func (e *entity) find(types ...string) *entity {
	var found *entity
	e.walk(func(p *entity) bool {
		for _, t := range types {
			if p.mediaType == t {
				found = p
				return false
			}
		}
		return true
	})
	return found
}
