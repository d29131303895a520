package relay

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// maxMIMEDepth bounds how deeply nested multiparts are searched.
const maxMIMEDepth = 20

// htmlPart locates the body of the HTML part a pixel goes into.
type htmlPart struct {
	// start and end delimit the part's body in the message: the bytes
	// after its header's blank line, up to the line break that belongs to
	// the next boundary.
	start, end int
	// encoding is the part's Content-Transfer-Encoding, lower case; empty
	// means 7bit.
	encoding string
}

// findHTML returns the first HTML part of raw, depth first, that a pixel
// can go into: inline, in an ASCII-compatible charset, not inside a
// forwarded message and not under a signature or encryption.
func findHTML(raw []byte) (htmlPart, bool) {
	return walk(raw, 0, len(raw), 0)
}

// walk searches the entity raw[off:end].
func walk(raw []byte, off, end, depth int) (htmlPart, bool) {
	if depth > maxMIMEDepth {
		return htmlPart{}, false
	}
	hdrEnd, bodyStart := splitEntity(raw[off:end])
	h := parseHeader(raw[off : off+hdrEnd])
	if d, _, err := mime.ParseMediaType(h.get("Content-Disposition")); err == nil && d == "attachment" {
		return htmlPart{}, false
	}
	mt, params, err := mime.ParseMediaType(h.get("Content-Type"))
	if err != nil {
		// RFC 2045 section 5.2: no or an unreadable Content-Type is text/plain.
		mt = "text/plain"
	}
	switch {
	case mt == "multipart/signed" || mt == "multipart/encrypted":
		// Changing a signed body breaks the signature.
		return htmlPart{}, false
	case strings.HasPrefix(mt, "multipart/"):
		for _, p := range splitMultipart(raw, off+bodyStart, end, params["boundary"]) {
			if found, ok := walk(raw, p[0], p[1], depth+1); ok {
				return found, true
			}
		}
		return htmlPart{}, false
	case mt == "text/html":
		enc := strings.ToLower(strings.TrimSpace(h.get("Content-Transfer-Encoding")))
		if !asciiCompatible(params["charset"]) || !knownEncoding(enc) {
			return htmlPart{}, false
		}
		return htmlPart{start: off + bodyStart, end: end, encoding: enc}, true
	}
	return htmlPart{}, false
}

// splitMultipart returns the spans of the parts of the multipart body
// raw[start:end]. Per RFC 2046 section 5.1.1 the line break before a
// delimiter line belongs to the delimiter, so it is not part of a span.
// The preamble and the epilogue are not parts.
func splitMultipart(raw []byte, start, end int, boundary string) [][2]int {
	if boundary == "" {
		return nil
	}
	delim := []byte("--" + boundary)
	var spans [][2]int
	partStart := -1
	for i := start; i < end; {
		j := bytes.IndexByte(raw[i:end], '\n')
		next := end
		if j >= 0 {
			next = i + j + 1
		}
		line := bytes.TrimRight(raw[i:next], "\r\n")
		if rest, ok := bytes.CutPrefix(line, delim); ok {
			rest = bytes.TrimRight(rest, " \t")
			closing := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || closing {
				if partStart >= 0 {
					spans = append(spans, [2]int{partStart, trimBreak(raw, partStart, i)})
				}
				if closing {
					return spans
				}
				partStart = next
			}
		}
		i = next
	}
	if partStart >= 0 && partStart < end {
		spans = append(spans, [2]int{partStart, end})
	}
	return spans
}

// trimBreak returns the end of a part that is followed by a delimiter line
// at i: i without the line break before it.
func trimBreak(raw []byte, start, i int) int {
	if i > start && raw[i-1] == '\n' {
		i--
		if i > start && raw[i-1] == '\r' {
			i--
		}
	}
	return i
}

// asciiCompatible reports whether text in charset keeps ASCII bytes as
// ASCII, so that an ASCII element can be inserted before "</body>". The
// stateful ISO-2022-JP qualifies: markup is written in its ASCII mode.
func asciiCompatible(charset string) bool {
	cs := strings.ToLower(charset)
	for _, p := range []string{"utf-16", "utf-32", "utf-7", "ucs-2", "ucs-4", "unicode"} {
		if strings.HasPrefix(cs, p) {
			return false
		}
	}
	return true
}

func knownEncoding(enc string) bool {
	switch enc {
	case "", "7bit", "8bit", "binary", "quoted-printable", "base64":
		return true
	}
	return false
}

// injectPixel returns a copy of raw with snippet inserted into the body of
// p, before the last "</body" (else "</html", else at the end), on a line
// of its own. Bytes outside p's body are unchanged. Quoted-printable
// bodies get the snippet spliced in encoded when "</body" appears
// literally, and are decoded and re-encoded otherwise; base64 bodies are
// decoded and re-encoded.
func injectPixel(raw []byte, p htmlPart, snippet string) ([]byte, error) {
	body := raw[p.start:p.end]
	var nb []byte
	var err error
	switch p.encoding {
	case "quoted-printable":
		nb, err = injectQP(body, snippet)
	case "base64":
		nb, err = injectBase64(body, snippet)
	default:
		nb = insertSnippet(body, snippet, lineBreak(body))
	}
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(raw)-len(body)+len(nb))
	out = append(out, raw[:p.start]...)
	out = append(out, nb...)
	return append(out, raw[p.end:]...), nil
}

// insertSnippet puts snippet, framed by line breaks, before the closing
// body (or html) tag of text, or at its end.
func insertSnippet(text []byte, snippet, nl string) []byte {
	at := insertAt(text)
	out := make([]byte, 0, len(text)+len(snippet)+2*len(nl))
	out = append(out, text[:at]...)
	out = append(out, nl+snippet+nl...)
	return append(out, text[at:]...)
}

// insertAt is where insertSnippet inserts: before the last "</body" or
// "</html" in any case, else at the end less trailing line breaks.
func insertAt(text []byte) int {
	lower := bytes.ToLower(text)
	for _, tag := range []string{"</body", "</html"} {
		if i := bytes.LastIndex(lower, []byte(tag)); i >= 0 {
			return i
		}
	}
	return len(bytes.TrimRight(text, "\r\n"))
}

// injectQP inserts snippet into a quoted-printable body. When every
// occurrence of the closing tag is written literally in the encoded body,
// the encoded snippet is spliced in between hard line breaks and the rest
// of the body stays byte for byte as it was; otherwise the body is decoded
// and encoded again.
func injectQP(body []byte, snippet string) ([]byte, error) {
	nl := lineBreak(body)
	dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	if err != nil {
		return nil, fmt.Errorf("decode quoted-printable html: %w", err)
	}
	lowerDec, lowerEnc := bytes.ToLower(dec), bytes.ToLower(body)
	for _, tag := range [][]byte{[]byte("</body"), []byte("</html")} {
		n := bytes.Count(lowerDec, tag)
		if n == 0 {
			continue
		}
		if bytes.Count(lowerEnc, tag) != n {
			break
		}
		i := bytes.LastIndex(lowerEnc, tag)
		enc, err := encodeQP([]byte(snippet))
		if err != nil {
			return nil, err
		}
		enc = bytes.ReplaceAll(enc, []byte("\r\n"), []byte(nl))
		out := make([]byte, 0, len(body)+len(enc)+2*len(nl))
		out = append(out, body[:i]...)
		out = append(out, nl...)
		out = append(out, enc...)
		out = append(out, nl...)
		return append(out, body[i:]...), nil
	}
	enc, err := encodeQP(insertSnippet(dec, snippet, "\r\n"))
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(enc, []byte("\r\n"), []byte(nl)), nil
}

func encodeQP(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := quotedprintable.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("encode quoted-printable: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode quoted-printable: %w", err)
	}
	return buf.Bytes(), nil
}

// injectBase64 decodes a base64 body, inserts snippet and encodes it again
// in lines of 76 characters, keeping the body's line breaks.
func injectBase64(body []byte, snippet string) ([]byte, error) {
	nl := lineBreak(body)
	compact := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, body)
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(compact)))
	n, err := base64.StdEncoding.Decode(dec, compact)
	if err != nil {
		return nil, fmt.Errorf("decode base64 html: %w", err)
	}
	dec = dec[:n]
	enc := base64.StdEncoding.EncodeToString(insertSnippet(dec, snippet, lineBreak(dec)))
	var out bytes.Buffer
	for len(enc) > 76 {
		out.WriteString(enc[:76] + nl)
		enc = enc[76:]
	}
	out.WriteString(enc)
	if bytes.HasSuffix(body, []byte("\n")) {
		out.WriteString(nl)
	}
	return out.Bytes(), nil
}
