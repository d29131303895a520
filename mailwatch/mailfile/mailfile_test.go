package mailfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
