package report

import (
	"strings"
	"unicode/utf8"
)

// A report's human text names its recipients, and the lines after a
// recipient's first mention say what happened to it. mentions finds those
// mentions for all the recipients of a report together, so that a bounce
// naming thousands of recipients still costs time linear in its size.

// maxContextBytes caps the text taken from the lines after a mention.
const maxContextBytes = 4096

// fewRecipients is how many recipients are looked for one by one; more
// are looked for all at once.
const fewRecipients = 4

// mentions locates the recipients of a report in its human text.
type mentions struct {
	all      []string
	hasEmpty bool // all holds "", which every line mentions

	// With more than fewRecipients recipients:
	phrases []string          // the distinct non-empty recipients
	set     *phraseSet        // phrases
	id      map[string]int    // recipient → its number in phrases
	first   []int             // by number: where the first mention starts, or -1
	lines   map[int]lineNames // line start → the recipients the line names
}

// lineNames says which recipients a line names: none, one (number p) or
// more than one.
type lineNames struct {
	n int // 0, 1, or 2 for two or more
	p int
}

// mentionsOf prepares to look for the recipients all in m's human text.
func (m *message) mentionsOf(all []string) *mentions {
	return m.newMentions(all, len(all) > fewRecipients)
}

// newMentions prepares to look for the recipients all in m's human text,
// all at once when indexed is set, else one by one.
func (m *message) newMentions(all []string, indexed bool) *mentions {
	mt := &mentions{all: all}
	for _, a := range all {
		if a == "" {
			mt.hasEmpty = true
		}
	}
	if !indexed {
		return mt
	}
	mt.id = map[string]int{}
	for _, a := range all {
		if _, ok := mt.id[a]; !ok && a != "" {
			mt.id[a] = len(mt.phrases)
			mt.phrases = append(mt.phrases, a)
		}
	}
	mt.set = newPhraseSet(mt.phrases)
	mt.first = make([]int, len(mt.phrases))
	for i := range mt.first {
		mt.first[i] = -1
	}
	mt.set.scan(m.humanLower(), func(p, end int) bool {
		if mt.first[p] < 0 {
			mt.first[p] = end - mt.set.lens[p]
		}
		return true
	})
	mt.lines = map[int]lineNames{}
	return mt
}

// firstMention returns where addr is first mentioned in the human text,
// or -1.
func (m *message) firstMention(addr string, mt *mentions) int {
	switch {
	case addr == "":
		return 0
	case mt.set != nil:
		return mt.first[mt.id[addr]]
	case isASCII(addr):
		return indexFold(m.humanText(), 0, addr)
	default:
		return strings.Index(m.humanLower(), addr)
	}
}

// mentionsOther reports whether the line at [start:end] of the human text
// (without surrounding blanks) names a recipient other than addr.
func (m *message) mentionsOther(start, end int, addr string, mt *mentions) bool {
	if mt.hasEmpty && addr != "" {
		return true
	}
	if mt.set == nil {
		line := lowerText(m.humanText()[start:end])
		for _, a := range mt.all {
			if a != addr && strings.Contains(line, a) {
				return true
			}
		}
		return false
	}
	names, ok := mt.lines[start]
	if !ok {
		mt.set.scan(m.humanLower()[start:end], func(p, _ int) bool {
			if names.n == 0 || names.p != p {
				names.n++
				names.p = p
			}
			return names.n < 2
		})
		mt.lines[start] = names
	}
	return names.n > 1 || names.n == 1 && mt.phrases[names.p] != addr
}

// diagnosticFor returns the error lines that follow the first mention of
// addr in the report's human text: the line itself and the lines after it,
// up to a blank line or a line naming another of the report's recipients,
// at most about maxContextBytes of them.
func (m *message) diagnosticFor(addr string, mt *mentions) string {
	text := m.humanText()
	i := m.firstMention(addr, mt)
	if i < 0 {
		return ""
	}
	var lines []string
	size := 0
	for rest := strings.LastIndexByte(text[:i], '\n') + 1; rest >= 0; {
		start, end := rest, len(text)
		if j := strings.IndexByte(text[start:], '\n'); j >= 0 {
			end = start + j
			rest = end + 1
		} else {
			rest = -1
		}
		line := strings.TrimSpace(text[start:end])
		if line == "" {
			if len(lines) > 1 {
				break
			}
			continue
		}
		start += strings.Index(text[start:end], line)
		if len(lines) > 0 && m.mentionsOther(start, start+len(line), addr, mt) {
			break
		}
		lines = append(lines, line)
		if size += len(line) + 1; len(lines) >= 8 || size > maxContextBytes {
			break
		}
	}
	return truncate(strings.Join(lines, " "), maxContextBytes)
}

// humanLower returns humanText lower-cased, each byte at the same offset,
// where an address that is not all ASCII is looked for.
func (m *message) humanLower() string {
	if m.humanLow == nil {
		s := lowerText(m.humanText())
		m.humanLow = &s
	}
	return *m.humanLow
}

// diagnosticFromText finds the error text for addr in a report's human
// part, for reports whose delivery-status block has no Diagnostic-Code.
// When the text does not put the error next to the address, the whole
// text (shortened) is the diagnostic: it still says what went wrong.
func (m *message) diagnosticFromText(addr string, mt *mentions) string {
	if d := m.diagnosticFor(addr, mt); d != "" && d != addr && d != "<"+addr+">" {
		return d
	}
	return m.textSummary()
}

// maxDiagnosticBytes caps a diagnostic taken from a whole text.
const maxDiagnosticBytes = 1000

// summarize collapses runs of white space in s and cuts it to at most n
// bytes at a character boundary.
func summarize(s string, n int) string {
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
