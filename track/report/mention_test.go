package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// checkMentions checks that looking for the recipients all in raw's human
// text all at once finds what looking for them one by one does.
func checkMentions(t *testing.T, name string, raw []byte, all []string) {
	t.Helper()
	w := &walker{}
	m := &message{root: w.parseEntity(normalizeNewlines(raw), 0, "text/plain")}
	few, many := m.newMentions(all, false), m.newMentions(all, true)
	for _, a := range all {
		if got, want := m.diagnosticFor(a, many), m.diagnosticFor(a, few); got != want {
			t.Errorf("%s: diagnosticFor(%q) with all recipients at once = %.200q, want %.200q", name, a, got, want)
		}
	}
}

func TestMentions(t *testing.T) {
	for name, raw := range sampleMessages(t) {
		w := &walker{}
		m := &message{root: w.parseEntity(normalizeNewlines(raw), 0, "text/plain")}
		all := findAddresses(m.humanText())
		checkMentions(t, name, raw, all)
		checkMentions(t, name+" with an empty recipient", raw, append(all, ""))
	}
	text := "From: MAILER-DAEMON@x.example\r\nSubject: failure notice\r\n\r\n" +
		"<a@x.example>: no such user\r\nsecond line\r\n\r\nb@x.example and ab@x.example failed\r\n" +
		"  c@x.example  \r\n\r\n\r\nmore about c\r\nC@X.EXAMPLE again\r\nd@x.example: quota\r\n"
	all := []string{"a@x.example", "b@x.example", "ab@x.example", "c@x.example", "d@x.example", "e@x.example"}
	checkMentions(t, "hand-made", []byte(text), all)
}

func FuzzMentions(f *testing.F) {
	f.Add("a@x.example: no\nb@x.example c@x.example\n\nx\n", "a@x.example b@x.example c@x.example")
	f.Fuzz(func(t *testing.T, text, rcpts string) {
		raw := "Subject: x\n\n" + text
		checkMentions(t, "fuzz input", []byte(raw), strings.Split(strings.ToLower(rcpts), " "))
	})
}

// TestManyListedRecipients reads bounces naming thousands of distinct
// recipients: every one is reported, up to maxRecipients. The time each
// size takes is logged (it grows with the size, not with its square).
func TestManyListedRecipients(t *testing.T) {
	bounce := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\nContent-Type: text/plain\r\n\r\nThe following addresses failed:\r\n\r\n")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "user%07d@example.com\r\n", i)
		}
		return b.Bytes()
	}
	small, large := bounce(64<<10), bounce(1<<20)
	cost := func(raw []byte) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			rs, err := Parse(raw)
			best = min(best, time.Since(start))
			checkReports(t, "many recipients", rs, err)
			if want := min(bytes.Count(raw, []byte("@example.com\r\n")), maxRecipients); len(rs) != want {
				t.Fatalf("Parse(%d recipients) = %d reports", want, len(rs))
			}
		}
		return best
	}
	cs, cl := cost(small), cost(large)
	t.Logf("64 KiB: %v, 1 MiB: %v", cs, cl)
}
