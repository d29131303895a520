package report

import (
	"reflect"
	"testing"
)

func TestMessageIDList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"one", "<a@b.example>", []string{"a@b.example"}},
		{"several", "<a@b> <c@d>\t<e@f>", []string{"a@b", "c@d", "e@f"}},
		{"folded inside", "<a@\n b>", []string{"a@b"}},
		{"stray bracket before", "<x <a@b>", []string{"a@b"}},
		{"bare", "a@b.example", []string{"a@b.example"}},
		{"bare with punctuation", "\"a@b.example\";", []string{"a@b.example"}},
		{"bare with a bracket inside", "0<0", nil},
		{"unclosed", "<a@b", []string{"a@b"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := messageIDList(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("messageIDList(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseQuotedIDWithBracket parses what the fuzzer found: a bounce
// quoting "Message-ID:0<0", with CR line ends.
func TestParseQuotedIDWithBracket(t *testing.T) {
	raw := []byte("0:\r\r0@0.0MAilBoX Full\rReCeived: \r0: \r0: \rMessAge-ID:0<0")
	rs, err := Parse(raw)
	checkReports(t, "a quoted Message-ID:0<0", rs, err)
}
