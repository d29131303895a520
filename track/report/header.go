package report

import (
	"bytes"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"
)

// field is one header field as written: its name and its raw value, which
// is unfolded each time it is asked for (most fields of a message are never
// read).
type field struct {
	name []byte // without surrounding blanks
	raw  []byte // the value's lines as written
}

// is reports whether the field is named key (lower case).
func (f *field) is(key string) bool {
	if len(f.name) != len(key) {
		return false
	}
	for i, c := range f.name {
		if lowerASCII[c] != key[i] {
			return false
		}
	}
	return true
}

// key returns the field's name in lower case.
func (f *field) key() string {
	return strings.ToLower(string(f.name))
}

// value returns the field's value: its lines without surrounding blanks,
// joined with single spaces.
func (f *field) value() string {
	return unfold(f.raw)
}

func unfold(raw []byte) string {
	first, rest := cutLine(raw)
	if len(rest) == 0 {
		return string(bytes.TrimSpace(first))
	}
	var b strings.Builder
	b.Grow(len(raw))
	writeUnfolded(&b, raw)
	return b.String()
}

// writeUnfolded writes the lines of raw to b without surrounding blanks,
// joined with single spaces.
func writeUnfolded(b *strings.Builder, raw []byte) {
	for i := 0; len(raw) > 0 || i == 0; i++ {
		var line []byte
		line, raw = cutLine(raw)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(bytes.TrimSpace(line))
	}
}

// header is a message or part header in the order the fields were written.
type header []field

// get returns the value of the first field named key (lower case), or "".
func (h header) get(key string) string {
	for i := range h {
		if h[i].is(key) {
			return h[i].value()
		}
	}
	return ""
}

// has reports whether a field named key (lower case) is present.
func (h header) has(key string) bool {
	for i := range h {
		if h[i].is(key) {
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
	var stack [32]field // most headers fit: one allocation of the right size
	h := header(stack[:0])
	rest := b
	value := 0 // offset in b of the last field's value
	end := func() {
		// The last field's value runs to where rest starts.
		if len(h) > 0 {
			h[len(h)-1].raw = b[value : len(b)-len(rest)]
		}
	}
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if len(line) == 0 {
			end()
			return h.clone(), next
		}
		if len(b)-len(next) > maxHeaderBytes {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			rest = next // a folded line
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || !isFieldName(line[:i]) {
			// Not a header line at all. Mailers that fold without
			// indenting (a "boundary=" on its own line) make it a
			// continuation too; before any field (an mbox "From " line)
			// it is skipped.
			rest = next
			continue
		}
		end()
		value = len(b) - len(rest) + i + 1
		h = append(h, field{name: bytes.TrimSpace(line[:i])})
		rest = next
	}
	end()
	return h.clone(), rest
}

// headerBlockLen returns how much of s parseHeader reads as the header
// block: up to and including the blank line that ends it, or the line
// where it gives up.
func headerBlockLen(s string) int {
	for pos := 0; pos < len(s); {
		end := len(s)
		if i := strings.IndexByte(s[pos:], '\n'); i >= 0 {
			end = pos + i + 1
		}
		if line := s[pos:end]; line == "\n" || line == "\r\n" || line == "\r" || end > maxHeaderBytes {
			return end
		}
		pos = end
	}
	return len(s)
}

// clone returns a copy of h that does not share its memory, or nil.
func (h header) clone() header {
	if len(h) == 0 {
		return nil
	}
	return append(header(nil), h...)
}

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
	n := len(b)
	for n > 0 && (b[n-1] == ' ' || b[n-1] == '\t') {
		n--
	}
	if n == 0 || n > 76 {
		return false
	}
	for _, c := range b[:n] {
		if !fieldNameBytes[c] {
			return false
		}
	}
	return true
}

// isFieldNameString is isFieldName for a string.
func isFieldNameString(s string) bool {
	n := len(s)
	for n > 0 && (s[n-1] == ' ' || s[n-1] == '\t') {
		n--
	}
	if n == 0 || n > 76 {
		return false
	}
	for i := 0; i < n; i++ {
		if !fieldNameBytes[s[i]] {
			return false
		}
	}
	return true
}

// fieldNameBytes marks the bytes isFieldName allows.
var fieldNameBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = fieldNameByte(byte(c))
	}
	return t
}()

func fieldNameByte(c byte) bool {
	return c > ' ' && c < 0x7f && c != '=' && c != '"' && c != '<' && c != '>' && c != '(' && c != ')' && c != ','
}

var wordDecoder = &mime.WordDecoder{CharsetReader: wordCharsetReader}

// wordCharsetReader is charset.Reader for encoded words. Its reader writes
// itself out in small pieces: mime.WordDecoder copies it with io.Copy,
// which would otherwise allocate a 32 KiB buffer for every word.
func wordCharsetReader(name string, input io.Reader) (io.Reader, error) {
	r, err := charset.Reader(name, input)
	if err != nil {
		return nil, err
	}
	return smallCopyReader{r}, nil
}

type smallCopyReader struct{ io.Reader }

func (r smallCopyReader) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, 256)
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			k, werr := w.Write(buf[:k])
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

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
	if asciiCharsets[name] && isPlainASCII(b) {
		return string(b)
	}
	r, err := charset.Reader(name, bytes.NewReader(b))
	if err != nil {
		return string(b)
	}
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/2 + 64)
	_, err = out.ReadFrom(io.LimitReader(r, int64(4*len(b)+16)))
	if err != nil && out.Len() == 0 {
		return string(b)
	}
	return out.String()
}

// asciiCharsets are charsets whose decoders leave printable ASCII text as
// it is (charset_test.go checks that they do).
var asciiCharsets = map[string]bool{
	"iso-8859-1": true, "iso-8859-2": true, "iso-8859-3": true, "iso-8859-4": true,
	"iso-8859-5": true, "iso-8859-6": true, "iso-8859-7": true, "iso-8859-8": true,
	"iso-8859-9": true, "iso-8859-10": true, "iso-8859-13": true, "iso-8859-14": true,
	"iso-8859-15": true, "iso-8859-16": true,
	"windows-1250": true, "windows-1251": true, "windows-1252": true, "windows-1253": true,
	"windows-1254": true, "windows-1255": true, "windows-1256": true, "windows-1257": true,
	"windows-1258": true, "koi8-r": true, "koi8-u": true,
	"iso-2022-jp": true, "shift_jis": true, "euc-jp": true, "euc-kr": true,
	"big5": true, "gbk": true, "gb18030": true,
}

// isPlainASCII reports whether b holds only printable ASCII, tabs and line
// breaks.
func isPlainASCII(b []byte) bool {
	for _, c := range b {
		if (c < ' ' || c > '~') && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
