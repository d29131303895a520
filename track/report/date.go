package report

import (
	"errors"
	"net/mail"
	"strings"
	"time"
)

// parseDate reads an RFC 5322 date-time as mail.ParseDate does, and returns
// the same instant. Dates in the form nearly every mailer writes
// ("Mon, 2 Jan 2006 15:04:05 -0700", optionally without the day of the
// week or the seconds, optionally followed by a comment) are read directly;
// anything else is left to mail.ParseDate, which tries dozens of layouts.
func parseDate(s string) (time.Time, error) {
	if t, ok := parseCommonDate(s); ok {
		return t, nil
	}
	if strings.TrimSpace(s) == "" {
		return time.Time{}, errNoDate
	}
	return mail.ParseDate(s)
}

var errNoDate = errors.New("report: no date")

var (
	dayNames   = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)

// parseCommonDate reads s in the common form, in UTC, or reports false.
func parseCommonDate(s string) (time.Time, bool) {
	if strings.IndexByte(s, '\r') >= 0 {
		return time.Time{}, false
	}
	d := dateReader{s: strings.TrimLeft(s, " \t"), ok: true}
	if len(d.s) > 4 && d.s[3] == ',' {
		if nameIndex(dayNames, d.take(3)) < 0 {
			return time.Time{}, false
		}
		d.byte(',')
		d.spaces()
	}
	day := d.number(1, 2)
	d.spaces()
	month := nameIndex(monthNames, d.take(3)) + 1
	d.spaces()
	year := d.number(4, 4)
	d.spaces()
	hour := d.number(2, 2)
	d.byte(':')
	minute := d.number(2, 2)
	sec := 0
	if d.ok && d.peek() == ':' {
		d.byte(':')
		sec = d.number(2, 2)
	}
	d.spaces()
	sign := d.peek()
	d.take(1)
	zh := d.digits(2)
	zm := d.digits(2)
	if !d.ok || sign != '+' && sign != '-' || month < 1 || !trailingComment(d.s) ||
		hour > 23 || minute > 59 || sec > 59 || zh > 23 || zm > 59 ||
		day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	offset := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if sign == '-' {
		offset = -offset
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Add(-offset), true
}

// dateReader reads the fields of a date; ok turns false at the first
// field that is not there.
type dateReader struct {
	s  string
	ok bool
}

func (d *dateReader) peek() byte {
	if len(d.s) == 0 {
		return 0
	}
	return d.s[0]
}

// number reads min to max digits, and no more digits follow.
func (d *dateReader) number(min, max int) int {
	n, v := 0, 0
	for n < len(d.s) && n <= max && isASCIIDigit(d.s[n]) {
		v = v*10 + int(d.s[n]-'0')
		n++
	}
	if n < min || n > max {
		d.ok = false
	}
	d.s = d.s[n:]
	return v
}

// digits reads exactly n digits.
func (d *dateReader) digits(n int) int {
	v := 0
	for _, c := range []byte(d.take(n)) {
		if !isASCIIDigit(c) {
			d.ok = false
		}
		v = v*10 + int(c-'0')
	}
	return v
}

func (d *dateReader) byte(c byte) {
	if d.peek() != c {
		d.ok = false
		return
	}
	d.s = d.s[1:]
}

// spaces reads one or more spaces, as a space in a time.Parse layout does.
func (d *dateReader) spaces() {
	d.byte(' ')
	d.s = strings.TrimLeft(d.s, " ")
}

func (d *dateReader) take(n int) string {
	if len(d.s) < n {
		d.ok = false
		return ""
	}
	t := d.s[:n]
	d.s = d.s[n:]
	return t
}

// nameIndex returns the index of the three-letter name s in names, any
// case, or -1.
func nameIndex(names []string, s string) int {
	for i, n := range names {
		if len(s) == len(n) && hasPrefixFold(s, n) {
			return i
		}
	}
	return -1
}

// trailingComment reports whether what follows a date's zone is what
// mail.ParseDate accepts without a doubt: nothing, or text that does not
// start with a parenthesis, or one simple comment.
func trailingComment(s string) bool {
	s = strings.TrimLeft(s, " \t")
	if s == "" || s[0] != '(' {
		return true
	}
	end := strings.IndexAny(s[1:], "()\\")
	if end < 0 || s[1+end] != ')' {
		return false
	}
	s = strings.TrimLeft(s[end+2:], " \t")
	return s == "" || s[0] != '('
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
