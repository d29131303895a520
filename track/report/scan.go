package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The scanners here find addresses and status codes in a text in one pass,
// so that reading a report costs time linear in its size with a small
// constant. Each one finds what the regular expression in its comment
// finds; scan_test.go checks that on the samples and under fuzzing.

// isWordByte reports whether c is an ASCII word character (\w).
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isSpaceByte reports whether c is white space as \s means it: [\t\n\f\r ].
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// hasPrefixFold reports whether s starts with prefix, ASCII letters in
// either case; prefix is lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII[s[i]] != prefix[i] {
			return false
		}
	}
	return true
}

// indexFold returns the offset of the first occurrence of sub in s at or
// after from, ASCII letters in either case, or -1. sub is lower case.
func indexFold(s string, from int, sub string) int {
	f := newFoldSearch(s, sub)
	return f.next(from)
}

// foldSearch finds the occurrences of a lower-case string in a text one
// after the other, ASCII letters in either case. It remembers where the
// next candidates are, so that finding all of them reads the text once.
type foldSearch struct {
	s, sub string
	lo, up byte // the first byte of sub in either case
	nl, nu int  // the next offsets of lo and up, -1 when there are none left, -2 before the first search
}

func newFoldSearch(s, sub string) foldSearch {
	f := foldSearch{s: s, sub: sub, nl: -2, nu: -2}
	if sub != "" {
		f.lo, f.up = sub[0], sub[0]
		if 'a' <= f.lo && f.lo <= 'z' {
			f.up = f.lo - 'a' + 'A'
		}
	}
	return f
}

// next returns the offset of the first occurrence at or after from, or -1.
// from must not be less than in the call before.
func (f *foldSearch) next(from int) int {
	if f.sub == "" {
		return from
	}
	for i := from; i+len(f.sub) <= len(f.s); {
		if f.nl != -1 && f.nl < i {
			f.nl = indexByteFrom(f.s, i, f.lo)
		}
		if f.up != f.lo && f.nu != -1 && f.nu < i {
			f.nu = indexByteFrom(f.s, i, f.up)
		}
		j := f.nl
		if f.up != f.lo && f.nu >= 0 && (j < 0 || f.nu < j) {
			j = f.nu
		}
		if j < 0 || j+len(f.sub) > len(f.s) {
			return -1
		}
		if hasPrefixFold(f.s[j:], f.sub) {
			return j
		}
		i = j + 1
	}
	return -1
}

func indexByteFrom(s string, from int, c byte) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerText lower-cases s without changing the offset of any byte: ASCII
// letters always, other letters only where the lower-case form has the
// same length. It returns s itself when nothing changes.
func lowerText(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			break
		}
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			b[i] = lowerASCII[c]
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if l := unicode.ToLower(r); l != r && r != utf8.RuneError && utf8.RuneLen(l) == n {
			utf8.EncodeRune(b[i:], l)
		}
		i += n
	}
	return string(b)
}

// Addresses.
//
//	[A-Za-z0-9!#$%&'*+/=?^_{|}~.\-\p{So}]+@
//	[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+

// localByte marks the ASCII bytes allowed in the local part of an address.
var localByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = isAlnum(byte(c)) || strings.IndexByte("!#$%&'*+/=?^_{|}~.-", byte(c)) >= 0
	}
	return t
}()

// isLocalRune reports whether a non-ASCII rune may be in a local part: other
// symbols (emoji and the like). An invalid byte reads as U+FFFD, which is one.
func isLocalRune(r rune) bool {
	return unicode.Is(unicode.So, r)
}

// nextAddress returns the bounds of the first address in s at or after
// from, or -1, -1.
func nextAddress(s string, from int) (start, end int) {
	for from < len(s) {
		at := indexByteFrom(s, from, '@')
		if at < 0 {
			break
		}
		start := localStart(s, from, at)
		if start < at {
			if end := domainEnd(s, at+1); end > 0 {
				return start, end
			}
		}
		from = at + 1
	}
	return -1, -1
}

// localStart returns where the run of local-part characters that ends at
// at begins, not before from.
func localStart(s string, from, at int) int {
	i := at
	for i > from {
		c := s[i-1]
		if c < utf8.RuneSelf {
			if !localByte[c] {
				break
			}
			i--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s[from:i])
		if !isLocalRune(r) {
			break
		}
		i -= n
	}
	return i
}

// localEnd returns where the run of local-part characters that starts at i
// ends.
func localEnd(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !localByte[c] {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isLocalRune(r) {
			break
		}
		i += n
	}
	return i
}

// domainEnd returns the end of the domain of two or more labels that starts
// at i, or -1.
func domainEnd(s string, i int) int {
	end := labelEnd(s, i)
	if end < 0 {
		return -1
	}
	labels := 1
	for end+1 < len(s) && s[end] == '.' {
		next := labelEnd(s, end+1)
		if next < 0 {
			break
		}
		end = next
		labels++
	}
	if labels < 2 {
		return -1
	}
	return end
}

// labelEnd returns the end of the domain label that starts at i: letters,
// digits and inner hyphens. It returns -1 when no label starts there.
func labelEnd(s string, i int) int {
	if i >= len(s) || !isAlnum(s[i]) {
		return -1
	}
	end := i + 1
	for j := i + 1; j < len(s) && (isAlnum(s[j]) || s[j] == '-'); j++ {
		if s[j] != '-' {
			end = j + 1
		}
	}
	return end
}

// addressAt returns the end of the address that starts exactly at i, or -1.
func addressAt(s string, i int) int {
	at := localEnd(s, i)
	if at == i || at >= len(s) || s[at] != '@' {
		return -1
	}
	return domainEnd(s, at+1)
}

// findAddresses returns the e-mail addresses in s, lower-cased, in order of
// appearance, without duplicates.
func findAddresses(s string) []string {
	var out []string
	var seen map[string]bool
	for from := 0; ; {
		start, end := nextAddress(s, from)
		if start < 0 {
			return out
		}
		from = end
		out, seen = appendAddress(out, seen, s[start:end])
	}
}

// appendAddress appends a to out, cleaned and lower-cased, unless seen
// holds it.
//
// Quotes around an address ('user@example.uk') are not part of it, nor is
// the "SMTP=" of an X.400-style "dda:SMTP=user@example.com" (Exchange and
// Notes gateways write foreign addresses so).
func appendAddress(out []string, seen map[string]bool, a string) ([]string, map[string]bool) {
	a = strings.ToLower(strings.Trim(a, ".-'`"))
	if rest, ok := strings.CutPrefix(a, "smtp="); ok && strings.IndexByte(rest, '@') > 0 {
		a = rest
	}
	if seen == nil {
		seen = map[string]bool{}
	}
	if !seen[a] {
		seen[a] = true
		out = append(out, a)
	}
	return out, seen
}

// prominentAddresses returns the addresses in text that stand where bounces
// name failed recipients, lower-cased and without duplicates: at the start
// of a line (optionally bracketed, quoted, bulleted or after a reply code)
// or after "RCPT TO:".
//
//	(?im)(?:^[ \t]*(?:[*\-][ \t]*|[245]\d\d[ \-])?["<(]?|rcpt to:[ \t]*<?)(ADDRESS)
func prominentAddresses(text string) []string {
	var out []string
	var seen map[string]bool
	rcpt := -2 // the next "rcpt to:" at or after pos, once looked for
	rcpts := newFoldSearch(text, "rcpt to:")
	for pos := 0; pos < len(text); {
		line := pos
		if pos > 0 && text[pos-1] != '\n' {
			line = indexByteFrom(text, pos, '\n')
			if line >= 0 {
				line++
			}
		}
		if rcpt != -1 && rcpt < pos {
			rcpt = rcpts.next(pos)
		}
		at := line
		if at < 0 || rcpt >= 0 && rcpt < at {
			at = rcpt
		}
		if at < 0 || at >= len(text) {
			break
		}
		start, end := -1, -1
		if at == line {
			start, end = lineAddress(text, at)
		}
		if end < 0 && at == rcpt {
			start = skipBlanks(text, at+len("rcpt to:"))
			if start < len(text) && text[start] == '<' {
				start++
			}
			end = addressAt(text, start)
		}
		if end < 0 {
			pos = at + 1
			continue
		}
		out, seen = appendAddress(out, seen, text[start:end])
		pos = end
	}
	return out
}

// lineAddress reads an address at the start of the line at i, after
// blanks, a bullet or a reply code and an opening bracket or quote.
func lineAddress(text string, i int) (start, end int) {
	i = skipBlanks(text, i)
	switch {
	case i < len(text) && (text[i] == '*' || text[i] == '-'):
		if s, e := quotedAddressAt(text, skipBlanks(text, i+1)); e >= 0 {
			return s, e
		}
	case i+3 < len(text) && (text[i] == '2' || text[i] == '4' || text[i] == '5') &&
		isASCIIDigit(text[i+1]) && isASCIIDigit(text[i+2]) && (text[i+3] == ' ' || text[i+3] == '-'):
		if s, e := quotedAddressAt(text, i+4); e >= 0 {
			return s, e
		}
	}
	return quotedAddressAt(text, i)
}

// quotedAddressAt reads an address at i, after an optional opening bracket
// or quote.
func quotedAddressAt(text string, i int) (start, end int) {
	if i < len(text) && (text[i] == '"' || text[i] == '<' || text[i] == '(') {
		i++
	}
	return i, addressAt(text, i)
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// Status codes.

// enhancedCodes calls f with each RFC 3463 code in s, in order, until f
// returns false.
//
//	\b([245])\.([0-7])\.(\d{1,3})\b
func enhancedCodes(s string, f func(code string) bool) {
	for i := 0; i+5 <= len(s); {
		d := strings.IndexByte(s[i+1:], '.')
		if d < 0 {
			return
		}
		start := i + d // the class digit before the first dot
		if n := enhancedCodeAt(s, start); n > 0 {
			if !f(s[start : start+n]) {
				return
			}
			i = start + n
			continue
		}
		i = start + 1
	}
}

// enhancedCodeAt returns the length of the code at s[i:], or 0.
func enhancedCodeAt(s string, i int) int {
	if i+5 > len(s) || i > 0 && isWordByte(s[i-1]) {
		return 0
	}
	if c := s[i]; c != '2' && c != '4' && c != '5' || s[i+1] != '.' || s[i+2] < '0' || s[i+2] > '7' || s[i+3] != '.' {
		return 0
	}
	j := i + 4
	for j < len(s) && j < i+8 && isASCIIDigit(s[j]) {
		j++
	}
	if n := j - i - 4; n == 0 || n > 3 || j < len(s) && isWordByte(s[j]) {
		return 0
	}
	return j - i
}

// findReplyCode returns the first SMTP reply code in s, or "".
//
//	(?:^|[^\d.])([245][0-9][0-9])(?:[ \-]|$)
func findReplyCode(s string) string {
	for i := 0; i+3 <= len(s); i++ {
		if c := s[i]; c != '2' && c != '4' && c != '5' {
			continue
		}
		if i > 0 && (isASCIIDigit(s[i-1]) || s[i-1] == '.') {
			continue
		}
		if !isASCIIDigit(s[i+1]) || !isASCIIDigit(s[i+2]) {
			continue
		}
		if i+3 == len(s) || s[i+3] == ' ' || s[i+3] == '-' {
			return s[i : i+3]
		}
	}
	return ""
}
