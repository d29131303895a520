package report

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"
)

// awayUntil returns the date an out-of-office notice says its sender is
// away until or back on, as midnight UTC of that date, or the zero time
// when the text states none that can be read without guessing. sent is the
// notice's own Date, which gives the year of dates written without one.
//
// It reads the date that follows "until", "till", "through", "back",
// "return" and the like, or precedes まで (until), より, から or 以降 (from
// then on), or ends a range (12/1〜12/3, December 1 - December 3). Numeric
// dates are month first in Japanese text (12/7 is 7 December, as Japan
// writes dates); in other text 12/7 is read only when one of its two
// readings lies within the next two months and the other does not.
func awayUntil(text string, sent time.Time) time.Time {
	text = width.Fold.String(text)
	lower := strings.ToLower(text)
	dates := findDates(lower, isJapaneseText(text))
	var back time.Time
	for i, d := range dates {
		role := dateRole(lower, d, i > 0 && isRangeAfter(lower, dates[i-1], d))
		if role == roleNone {
			continue
		}
		t, ok := d.resolve(sent)
		if !ok {
			continue
		}
		if role == roleUntil {
			return t
		}
		if back.IsZero() {
			back = t
		}
	}
	return back
}

// foundDate is a date written in a text, at text[start:end]; year is 0 when
// the text gives none. alt is the day-first reading of an ambiguous
// numeric date (month and day swapped), zero when there is none.
type foundDate struct {
	start, end int
	year       int
	month, day int
	alt        bool
}

var (
	reYMD     = regexp.MustCompile(`(\d{4})\s*[/.\-年]\s*(\d{1,2})\s*[/.\-月]\s*(\d{1,2})\s*日?`)
	reMDY     = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})/(\d{4})\b`)
	reJaMD    = regexp.MustCompile(`(\d{1,2})\s*月\s*(\d{1,2})\s*日`)
	monthName = `(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?`
	reMonthD  = regexp.MustCompile(`\b` + monthName + `\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?`)
	reDMonth  = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?` + monthName + `(?:,?\s+(\d{4}))?`)
)

var monthIndex = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}

// findDates returns the dates written in s (lower case), in text order,
// overlapping matches dropped.
func findDates(s string, japanese bool) []foundDate {
	var out []foundDate
	num := func(sub string) int { n, _ := strconv.Atoi(sub); return n }
	for _, m := range reYMD.FindAllStringSubmatchIndex(s, -1) {
		out = append(out, foundDate{start: m[0], end: m[1], year: num(s[m[2]:m[3]]), month: num(s[m[4]:m[5]]), day: num(s[m[6]:m[7]])})
	}
	for _, m := range reMDY.FindAllStringSubmatchIndex(s, -1) {
		// HCL Notes writes 12/04/2026 in the United States, 04/12/2026
		// elsewhere.
		a, b := num(s[m[2]:m[3]]), num(s[m[4]:m[5]])
		d := foundDate{start: m[0], end: m[1], year: num(s[m[6]:m[7]]), month: a, day: b}
		switch {
		case a > 12:
			d.month, d.day = b, a
		case b <= 12 && a != b:
			d.alt = true
		}
		out = append(out, d)
	}
	for _, m := range reJaMD.FindAllStringSubmatchIndex(s, -1) {
		out = append(out, foundDate{start: m[0], end: m[1], month: num(s[m[2]:m[3]]), day: num(s[m[4]:m[5]])})
	}
	for _, m := range numericDates(s) {
		a, b := num(s[m[0]:m[1]]), num(s[m[2]:m[3]])
		d := foundDate{start: m[0], end: m[3], month: a, day: b}
		switch {
		case japanese:
		case a > 12:
			d.month, d.day = b, a
		case b <= 12 && a != b:
			d.alt = true
		}
		out = append(out, d)
	}
	for _, m := range reMonthD.FindAllStringSubmatchIndex(s, -1) {
		d := foundDate{start: m[0], end: m[1], month: monthIndex[s[m[2]:m[3]]], day: num(s[m[4]:m[5]])}
		if m[6] >= 0 {
			d.year = num(s[m[6]:m[7]])
		}
		out = append(out, d)
	}
	for _, m := range reDMonth.FindAllStringSubmatchIndex(s, -1) {
		d := foundDate{start: m[0], end: m[1], day: num(s[m[2]:m[3]]), month: monthIndex[s[m[4]:m[5]]]}
		if m[6] >= 0 {
			d.year = num(s[m[6]:m[7]])
		}
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, b foundDate) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return (b.end - b.start) - (a.end - a.start)
	})
	var kept []foundDate
	for _, d := range out {
		if n := len(kept); n > 0 && d.start < kept[n-1].end {
			continue
		}
		kept = append(kept, d)
	}
	return kept
}

// numericDates returns the bounds of the two numbers of each date written
// n/n (one or two digits each) that is not part of a longer number or of a
// date with a year.
func numericDates(s string) [][4]int {
	var out [][4]int
	for i := 0; i < len(s); i++ {
		if s[i] != '/' {
			continue
		}
		a := i
		for a > 0 && i-a < 2 && isDigit(s[a-1]) {
			a--
		}
		b := i + 1
		for b < len(s) && b-i-1 < 2 && isDigit(s[b]) {
			b++
		}
		if a == i || b == i+1 {
			continue
		}
		if a > 0 && (isDigit(s[a-1]) || s[a-1] == '/' || s[a-1] == '.') || b < len(s) && (isDigit(s[b]) || s[b] == '/') {
			continue
		}
		out = append(out, [4]int{a, i, i + 1, b})
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// resolve returns the date, its year taken from sent when the text gave
// none: the first such date not more than a month before sent. A date
// that does not exist, or lies before sent, more than a year after it (half
// a year for a date written without its year), is no answer.
func (d foundDate) resolve(sent time.Time) (time.Time, bool) {
	if d.alt {
		a, aok := foundDate{year: d.year, month: d.month, day: d.day}.resolveOne(sent, 62*24*time.Hour)
		b, bok := foundDate{year: d.year, month: d.day, day: d.month}.resolveOne(sent, 62*24*time.Hour)
		if aok == bok {
			return time.Time{}, false
		}
		if aok {
			return a, true
		}
		return b, true
	}
	return d.resolveOne(sent, 370*24*time.Hour)
}

func (d foundDate) resolveOne(sent time.Time, horizon time.Duration) (time.Time, bool) {
	if d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysIn(time.Month(d.month), max(d.year, 2000)) {
		return time.Time{}, false
	}
	if sent.IsZero() && d.year == 0 {
		return time.Time{}, false
	}
	day := time.Date(sent.Year(), sent.Month(), sent.Day(), 0, 0, 0, 0, time.UTC)
	y := d.year
	if y == 0 {
		y = day.Year()
		if time.Date(y, time.Month(d.month), d.day, 0, 0, 0, 0, time.UTC).Before(day.AddDate(0, -1, 0)) {
			y++
		}
	}
	t := time.Date(y, time.Month(d.month), d.day, 0, 0, 0, 0, time.UTC)
	if t.Day() != d.day {
		return time.Time{}, false // 29 February of a year without one
	}
	if d.year == 0 {
		// A date without a year more than half a year ahead is more
		// likely a date in the past than a long absence.
		horizon = min(horizon, 183*24*time.Hour)
	}
	if !sent.IsZero() && (t.Before(day.AddDate(0, 0, -1)) || t.Sub(day) > horizon) {
		return time.Time{}, false
	}
	return t, true
}

type dateRoleKind int

const (
	roleNone  dateRoleKind = iota
	roleUntil              // the last day away
	roleBack               // the day back
)

// untilBefore are the words before a date it is the end of an absence;
// backBefore those before the day someone is back.
var (
	untilBefore = []string{"until", "till", "through", "thru", "up to"}
	backBefore  = []string{"back", "return", "returning", "resume", "in the office on", "reachable"}
	untilAfter  = []string{"まで", "迄"}
	backAfter   = []string{"より", "から", "以降", "に出社", "に戻", "に帰", "出社"}
)

// dateRole says what the date at d means by the words around it; inRange
// marks a date that ends a range.
func dateRole(s string, d foundDate, inRange bool) dateRoleKind {
	after := skipWeekday(s[d.end:])
	for _, w := range untilAfter {
		if strings.HasPrefix(after, w) {
			return roleUntil
		}
	}
	if inRange {
		return roleUntil
	}
	for _, w := range backAfter {
		if strings.HasPrefix(after, w) {
			return roleBack
		}
	}
	before := s[max(0, d.start-48):d.start]
	if i := strings.LastIndexAny(before, ".!?\n。"); i >= 0 {
		before = before[i+1:]
	}
	before = strings.TrimRight(before, " ,(")
	for _, w := range untilBefore {
		if lastWordNear(before, w) {
			return roleUntil
		}
	}
	for _, w := range backBefore {
		if strings.Contains(before, w) {
			return roleBack
		}
	}
	return roleNone
}

// lastWordNear reports whether w occurs in the last 24 bytes of before, so
// that an "until" governs the date that follows it rather than one further
// on in the sentence.
func lastWordNear(before, w string) bool {
	tail := before[max(0, len(before)-24):] + " "
	return strings.Contains(tail, w)
}

// skipWeekday skips blanks and a weekday in brackets after a date:
// 12月7日(月), 12/7 (Mon).
func skipWeekday(s string) string {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "(") {
		if i := strings.IndexByte(s, ')'); i > 0 && i <= 12 {
			s = strings.TrimLeft(s[i+1:], " ")
		}
	}
	return s
}

// isRangeAfter reports whether only a range sign separates b from a: 12/1〜12/3,
// 1 December - 3 December, 12/1から12/3.
func isRangeAfter(s string, a, b foundDate) bool {
	if a.end > b.start {
		return false
	}
	mid := strings.TrimSpace(skipWeekday(s[a.end:b.start]))
	switch mid {
	case "〜", "~", "-", "–", "—", "to", "から", "より", "till", "until", "through", "thru":
		return true
	}
	return false
}

// isJapaneseText reports whether s holds kana or kanji.
func isJapaneseText(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}
