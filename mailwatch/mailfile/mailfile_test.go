package mailfile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailack/mailack/track/report"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type seen struct {
	name  string
	index int
	raw   string
	err   error
}

func collect(t *testing.T, path string) []seen {
	t.Helper()
	var out []seen
	err := Walk(path, func(m Message, err error) error {
		out = append(out, seen{filepath.Base(m.Path), m.Index, string(m.Raw), err})
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%s) = %v", path, err)
	}
	return out
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	mbox := "From alice@example.com Mon Nov 23 10:00:00 2026\nSubject: one\n\nbody\nFrom here on, a body line.\n>From escaped\n\n" +
		"From bob@example.com Mon Nov 23 11:00:00 2026\nSubject: two\n\nbody two\n"
	write(t, filepath.Join(dir, "box.mbox"), mbox)
	write(t, filepath.Join(dir, "a.eml"), "Subject: single\r\n\r\nhi\r\n")
	write(t, filepath.Join(dir, "b.eml"), "From MAILER-DAEMON Tue Jun 11 19:13:34 2024\nSubject: saved\n\nx\n")
	write(t, filepath.Join(dir, "expected.json"), "{}")
	write(t, filepath.Join(dir, "md", "cur", "1.host:2,S"), "Subject: cur\n\n")
	write(t, filepath.Join(dir, "md", "new", "2.host"), "Subject: new\n\n")
	os.MkdirAll(filepath.Join(dir, "md", "tmp"), 0o755)
	write(t, filepath.Join(dir, ".hidden", "x.eml"), "Subject: hidden\n\n")

	got := collect(t, dir)
	want := []struct {
		name  string
		index int
		subj  string
	}{
		{"a.eml", 0, "Subject: single"},
		{"b.eml", 0, "Subject: saved"},
		{"box.mbox", 1, "Subject: one"},
		{"box.mbox", 2, "Subject: two"},
		{"2.host", 0, "Subject: new"},
		{"1.host:2,S", 0, "Subject: cur"},
	}
	if len(got) != len(want) {
		t.Fatalf("Walk found %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.err != nil || g.name != w.name || g.index != w.index || !strings.HasPrefix(g.raw, w.subj) {
			t.Errorf("message %d = %+v, want %s #%d starting %q", i, g, w.name, w.index, w.subj)
		}
	}
	if one := got[2].raw; !strings.Contains(one, "\nFrom here on, a body line.\nFrom escaped\n") {
		t.Errorf("mbox message 1 = %q: want the body's From line kept and >From unquoted", one)
	}
}

func TestWalkMissing(t *testing.T) {
	got := collect(t, filepath.Join(t.TempDir(), "nope.eml"))
	if len(got) != 1 || got[0].err == nil {
		t.Fatalf("Walk(missing) = %+v, want one entry with an error", got)
	}
}

// TestWholeFiles keeps .eml and Maildir files whole, even where a body line
// looks like an mbox separator after an empty line (an old mail quoted in
// an auto-reply).
func TestWholeFiles(t *testing.T) {
	dir := t.TempDir()
	body := "Subject: Re: plans\n\nThanks.\n\nFrom bob@example.com Mon Nov 23 10:00:00 2026\n> old text\n"
	write(t, filepath.Join(dir, "quoted.eml"), body)
	write(t, filepath.Join(dir, "md", "cur", "1.host:2,S"), "From alice@example.com Mon Nov 23 09:00:00 2026\n"+body)
	os.MkdirAll(filepath.Join(dir, "md", "new"), 0o755)
	write(t, filepath.Join(dir, "box"), "From alice@example.com Mon Nov 23 09:00:00 2026\n"+body)
	got := collect(t, dir)
	if len(got) != 4 {
		t.Fatalf("Walk found %d messages, want 4 (one .eml, one Maildir file, two in the mbox): %+v", len(got), got)
	}
	for _, g := range got {
		if g.name == "box" {
			continue
		}
		if g.raw != body || g.index != 0 {
			t.Errorf("%s = #%d %q, want the whole message", g.name, g.index, g.raw)
		}
	}
}

// bigBounce writes a bounce whose report part follows a returned message
// larger than MaxMessageBytes.
func bigBounce(w *bufio.Writer) {
	w.WriteString("From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail Returned to Sender\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"o\"\n\n" +
		"--o\nContent-Type: text/plain\n\nFailed.\n--o\nContent-Type: message/rfc822\n\n" +
		"Message-ID: <big@example.com>\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n")
	line := strings.Repeat("QUJD", 19) + "\n"
	for n := 0; n < MaxMessageBytes+(4<<20); n += len(line) {
		w.WriteString(line)
	}
	w.WriteString("--o\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
		"Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.3.4\n\n--o--\n")
}

// TestLargeMessages reads a message longer than MaxMessageBytes from an
// .eml file and from an mbox: the report part after the large part is kept.
func TestLargeMessages(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"big.eml", "big.mbox"} {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(fh)
		if name == "big.mbox" {
			w.WriteString("From MAILER-DAEMON Mon Nov 23 10:00:00 2026\n")
		}
		bigBounce(w)
		if name == "big.mbox" {
			w.WriteString("\nFrom bob@example.com Mon Nov 23 11:00:00 2026\nSubject: two\n\nbody two\n")
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	got := collect(t, dir)
	if len(got) != 3 {
		t.Fatalf("Walk found %d messages, want 3", len(got))
	}
	for _, g := range got[:2] {
		rs, err := report.Parse([]byte(g.raw))
		if err != nil || len(rs) != 1 || rs[0].Recipient != "x@example.org" || rs[0].Status != "5.3.4" || rs[0].OriginalMessageID != "big@example.com" {
			t.Errorf("%s #%d (%d bytes kept): Parse = %+v, %v; want the failed report on x@example.org", g.name, g.index, len(g.raw), rs, err)
		}
		if len(g.raw) > MaxMessageBytes {
			t.Errorf("%s: %d bytes kept, more than MaxMessageBytes", g.name, len(g.raw))
		}
	}
	if got[2].index != 2 || !strings.HasPrefix(got[2].raw, "Subject: two") {
		t.Errorf("second mbox message = %+v", got[2])
	}
}

// BenchmarkReadLarge reads one 24 MiB .eml file (a bounce returning a
// large attachment) and one 64 MiB one, longer than the cap. The buffer
// is sized from the file's length; the longer file is shrunk as it is read.
func BenchmarkReadLarge(b *testing.B) {
	dir := b.TempDir()
	for _, size := range []int{24 << 20, 64 << 20} {
		path := filepath.Join(dir, "big.eml")
		fh, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(fh)
		w.WriteString("From: MAILER-DAEMON@mx.example.net\nSubject: x\nContent-Type: text/plain\n\n")
		line := strings.Repeat("QUJD", 19) + "\n"
		for n := 0; n < size; n += len(line) {
			w.WriteString(line)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		fh.Close()
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := Walk(path, func(m Message, err error) error { return err }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
