package report

import "strings"

// Some mail systems send bounces as HTML only. Their text is read with the
// tags removed.

// stripTags reduces HTML to its text, one line per element: style and
// script elements are dropped, every other tag becomes a line break, and
// the common entities are decoded.
func stripTags(s string) string {
	s = dropStyles(s)
	var b strings.Builder
	b.Grow(len(s))
	closed := true // a '>' may follow
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if !closed {
				break
			}
			if j := strings.IndexByte(s[i+1:], '>'); j >= 0 {
				b.WriteByte('\n')
				i += j + 2
				continue
			}
			closed = false
		case '&':
			if r, n := htmlEntity(s[i:]); n > 0 {
				b.WriteString(r)
				i += n
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// htmlEntities are the entities stripTags decodes.
var htmlEntities = []struct{ name, text string }{
	{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&nbsp;", " "}, {"&quot;", `"`},
}

func htmlEntity(s string) (string, int) {
	for _, e := range htmlEntities {
		if strings.HasPrefix(s, e.name) {
			return e.text, len(e.name)
		}
	}
	return "", 0
}

// dropStyles removes style and script elements from HTML: from the opening
// tag to the first closing tag of either kind.
func dropStyles(s string) string {
	var b strings.Builder
	last := 0
	closeStyle, closeScript := -2, -2 // next closing tags at or after some offset
	for i := 0; ; {
		j := indexFold(s, i, "<s")
		if j < 0 {
			break
		}
		name := 0
		switch {
		case hasPrefixFold(s[j+1:], "style"):
			name = len("style")
		case hasPrefixFold(s[j+1:], "script"):
			name = len("script")
		default:
			i = j + 1
			continue
		}
		k := indexByteFrom(s, j+1+name, '>')
		if k < 0 {
			break
		}
		if closeStyle != -1 && closeStyle <= k {
			closeStyle = indexFold(s, k+1, "</style>")
		}
		if closeScript != -1 && closeScript <= k {
			closeScript = indexFold(s, k+1, "</script>")
		}
		end := -1
		switch {
		case closeStyle >= 0 && (closeScript < 0 || closeStyle < closeScript):
			end = closeStyle + len("</style>")
		case closeScript >= 0:
			end = closeScript + len("</script>")
		default:
			// No element closes after here: nothing more to drop.
		}
		if end < 0 {
			break
		}
		if last == 0 {
			b.Grow(len(s) - (end - j))
		}
		b.WriteString(s[last:j])
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
