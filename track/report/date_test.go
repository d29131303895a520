package report

import (
	"net/mail"
	"strings"
	"testing"
)

// checkDate compares parseDate with mail.ParseDate on s: the same instant,
// or both an error.
func checkDate(t *testing.T, s string) {
	t.Helper()
	got, gerr := parseDate(s)
	want, werr := mail.ParseDate(s)
	if (gerr != nil) != (werr != nil) || !got.Equal(want) {
		t.Errorf("parseDate(%q) = %v, %v, want %v, %v", s, got, gerr, want, werr)
	}
}

var dateCases = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 02 Jan 2006 15:04:05 +0000 (UTC)",
	"2 Jan 2006 15:04 +0900", "  Tue, 29 Feb 2000 23:59:59 -1200", "Wed, 29 Feb 2001 10:00:00 +0000",
	"Thu, 31 Apr 2020 10:00:00 +0000", "Fri, 1 Jan 2021 24:00:00 +0000", "Sat, 1 Jan 2021 10:60:00 +0000",
	"Sun, 1 Jan 2021 10:00:60 +0000", "Mon, 1 Jan 2021 10:00:00 +2400", "Mon, 1 Jan 2021 10:00:00 +0060",
	"mon, 1 JAN 2021 10:00:00 +0100", "Xyz, 1 Jan 2021 10:00:00 +0100", "Mon,  1 Jan 2021 10:00:00 +0100",
	"Mon, 1 Jan 21 10:00:00 +0100", "Mon, 1 Jan 2021 1:00:00 +0100", "Mon, 1 Jan 2021 10:00:00.5 +0100",
	"Mon, 1 Jan 2021 10:00:00 GMT", "Mon, 1 Jan 2021 10:00:00 +0100 (a) (b)", "Mon, 1 Jan 2021 10:00:00 +0100 (a",
	"Mon, 1 Jan 2021 10:00:00 +0100 (a\\) b)", "Mon, 1 Jan 2021 10:00:00 +01000", "Mon, 1 Jan 2021 10:00:00 +0100 x",
	"Mon, 1 Jan 20210 10:00:00 +0100", "Mon, 001 Jan 2021 10:00:00 +0100", "Mon, 1 Jan 2021 10:00:00 +01",
	"Mon, 1 Jan 2021 10:00:00 -0000", "1 Jan 2021 10:00:00 +0100\r", "Mon, 1 Jan 2021 10:00:00\t+0100",
	"Fri,  5 Aug 2022 05:22:50 +0900 (JST)", "Thu,29 Apr 2012 23:34:45 +0900", "Thu 29 Apr 2010 23:34:45 +0900",
	"Thu,  29  Apr  2016  23:34:45  +0900", "Thu , 1 Apr 2016 23:34:45 +0900", " 1 Apr 2016 23:34:45 +0900",
	"", "Mon, 1 Jan 2021", "Mon, 1 Jan 0000 00:00:00 +0000", "Mon, 31 Dec 9999 23:59:59 -2359",
}

func TestParseDateMatchesMail(t *testing.T) {
	for _, s := range dateCases {
		checkDate(t, s)
	}
	for name, raw := range sampleMessages(t) {
		w := &walker{}
		e := w.parseEntity(normalizeNewlines(raw), 0, "text/plain")
		var dates []string
		var visit func(e *entity)
		visit = func(e *entity) {
			for i := range e.hdr {
				if f := &e.hdr[i]; strings.HasSuffix(f.key(), "date") {
					dates = append(dates, f.value())
				}
			}
			for _, c := range e.children {
				visit(c)
			}
			if e.embedded != nil {
				visit(e.embedded)
			}
			if strings.Contains(e.mediaType, "delivery-status") {
				for _, b := range fieldBlocks(e.decoded(maxPartBytes)) {
					for i := range b {
						dates = append(dates, b[i].value())
					}
				}
			}
		}
		visit(e)
		if len(dates) == 0 {
			continue
		}
		for _, d := range dates {
			t.Run(name, func(t *testing.T) { checkDate(t, d) })
		}
	}
}

func FuzzDate(f *testing.F) {
	for _, s := range dateCases {
		f.Add(s)
	}
	f.Fuzz(checkDate)
}
