package relay

import (
	"bytes"
	"strings"
)

// field is one header field: its name as written and its value unfolded,
// without the line breaks of folding.
type field struct {
	name, value string
}

// fields is a header in order. Lookups ignore case.
type fields []field

// get returns the value of the first field called name, or "".
func (fs fields) get(name string) string {
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// has reports whether a field called name is present.
func (fs fields) has(name string) bool {
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

// splitEntity finds where the header of the entity b ends: hdrEnd is the
// end of the last header line, bodyStart the first byte after the blank
// line. Without a blank line the whole of b is header and the body is
// empty. A body that starts without a header (b begins with a blank line)
// gives hdrEnd 0.
func splitEntity(b []byte) (hdrEnd, bodyStart int) {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return len(b), len(b)
		}
		line := b[i : i+j]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return i, i + j + 1
		}
		i += j + 1
	}
	return len(b), len(b)
}

// parseHeader reads the fields of a header block. It is lenient where real
// mail is broken: a line without a colon is skipped with its continuation
// lines, not fatal, and continuation lines before any field are ignored.
func parseHeader(b []byte) fields {
	var fs fields
	skipping := true // continuation lines of a skipped line are skipped too
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !skipping {
				fs[len(fs)-1].value += line
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = trimFieldName(name)
		if skipping = !ok || name == "" || strings.ContainsAny(name, " \t"); skipping {
			continue
		}
		fs = append(fs, field{name: name, value: value})
	}
	for i := range fs {
		fs[i].value = strings.TrimSpace(fs[i].value)
	}
	return fs
}

// lineBreak returns the line break b uses: CRLF unless it has only LF.
func lineBreak(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i > 0 && b[i-1] != '\r' {
		return "\n"
	}
	return "\r\n"
}
