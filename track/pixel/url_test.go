package pixel

import (
	"strings"
	"testing"
)

func TestURLAndSnippet(t *testing.T) {
	for _, base := range []string{"https://mailack.example.com", "https://mailack.example.com/"} {
		if got, want := URL(base, "TOK"), "https://mailack.example.com/o/TOK.gif"; got != want {
			t.Errorf("URL(%q) = %q, want %q", base, got, want)
		}
	}
	s := Snippet(`https://h.example/a?b=1&c="2"`, "TOK")
	if !strings.HasPrefix(s, `<img src="https://h.example/a?b=1&amp;c=&#34;2&#34;/o/TOK.gif"`) || strings.Contains(s, "\n") {
		t.Errorf("Snippet = %q, want an escaped, single-line <img>", s)
	}
	if strings.Contains(s, "display:none") {
		t.Errorf("Snippet = %q hides the image; some programs then skip loading it", s)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		path, token, format string
		ok                  bool
	}{
		{"/o/abc_-9.gif", "abc_-9", "gif", true},
		{"/o/abc.png", "abc", "png", true},
		{"/o/.gif", "", "", false},
		{"/o/abc.jpg", "", "", false},
		{"/o/a/b.gif", "", "", false},
		{"/x/abc.gif", "", "", false},
		{"/o/abc", "", "", false},
	}
	for _, tt := range tests {
		tok, f, ok := ParsePath(tt.path)
		if tok != tt.token || f != tt.format || ok != tt.ok {
			t.Errorf("ParsePath(%q) = %q, %q, %v; want %q, %q, %v", tt.path, tok, f, ok, tt.token, tt.format, tt.ok)
		}
	}
}
