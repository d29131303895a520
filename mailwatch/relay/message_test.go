package relay

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mailack/mailack/track"
)

func TestParseHeader(t *testing.T) {
	raw := "Subject: a\r\n b\r\nbroken line without colon\r\n\tcontinued\r\nX-Empty:\r\nTo: bob@example.org\r\n"
	h := parseHeader([]byte(raw))
	if got := h.get("subject"); got != "a b" {
		t.Errorf("get(subject) = %q, want %q", got, "a b")
	}
	if !h.has("X-EMPTY") || h.get("x-empty") != "" || h.get("to") != "bob@example.org" || h.has("broken line without colon") {
		t.Errorf("parseHeader(%q) = %+v", raw, h)
	}
}

func TestSplitEntity(t *testing.T) {
	tests := []struct {
		in              string
		hdrEnd, bodyOff int
	}{
		{"A: 1\r\nB: 2\r\n\r\nbody", 12, 14},
		{"A: 1\n\nbody", 5, 6},
		{"A: 1\r\n", 6, 6},
		{"\r\nbody", 0, 2},
		{"", 0, 0},
	}
	for _, tt := range tests {
		if h, b := splitEntity([]byte(tt.in)); h != tt.hdrEnd || b != tt.bodyOff {
			t.Errorf("splitEntity(%q) = %d, %d; want %d, %d", tt.in, h, b, tt.hdrEnd, tt.bodyOff)
		}
	}
}

func TestReadMessage(t *testing.T) {
	raw := crlf("From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <Alice@Example.COM>\n" +
		"To: \"Bob\" <bob@example.org>, carol@example.org\n" +
		"Cc: Dave <dave@example.net>, bob@example.org\n" +
		"Subject: =?ISO-2022-JP?B?GyRCOCtAUSROJDRAQTVhGyhC?=\n" +
		"Message-ID: <Q-1@Example.COM>\n\nbody\n")
	m := readMessage([]byte(raw))
	if m.subject != "見積のご請求" {
		t.Errorf("subject = %q, want the decoded Japanese subject", m.subject)
	}
	if addr, name := m.sender(); addr != "alice@example.com" || name != "山田" {
		t.Errorf("sender = %q, %q; want alice@example.com, 山田", addr, name)
	}
	if m.messageID != "<Q-1@Example.COM>" || m.nl != "\r\n" {
		t.Errorf("messageID, nl = %q, %q", m.messageID, m.nl)
	}
	got := m.recipients([]string{"Bob@example.org", "carol@example.org", "dave@example.net", "eve@example.com"})
	want := []track.Recipient{
		{Address: "bob@example.org", Name: "Bob", Field: track.FieldTo},
		{Address: "carol@example.org", Field: track.FieldTo},
		{Address: "dave@example.net", Name: "Dave", Field: track.FieldCc},
		{Address: "eve@example.com", Field: track.FieldBcc},
	}
	if len(got) != len(want) {
		t.Fatalf("recipients = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Address != want[i].Address || got[i].Name != want[i].Name || got[i].Field != want[i].Field {
			t.Errorf("recipient %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadMessageBroken(t *testing.T) {
	m := readMessage([]byte("From: not an address ((\r\nTo: ;;;\r\nMessage-ID: <>\r\n\r\nx"))
	if addr, _ := m.sender(); addr != "" {
		t.Errorf("sender = %q, want none: an unreadable From is never replaced by the envelope", addr)
	}
	if m.messageID != "" {
		t.Errorf("messageID = %q, want none for an empty one", m.messageID)
	}
	if rs := m.recipients([]string{"bob@example.org"}); len(rs) != 1 || rs[0].Field != track.FieldBcc {
		t.Errorf("recipients = %+v, want bob as bcc", rs)
	}
}

func TestEnvelopeID(t *testing.T) {
	xtextSafe := regexp.MustCompile(`^[A-Za-z0-9.]{1,100}$`)
	ids := map[string]bool{}
	for _, mid := range []string{"<a@example.com>", "a@EXAMPLE.com", "<weird+id=1 @example.com>", strings.Repeat("x", 900) + "@example.com", "b@example.com"} {
		e := EnvelopeID(mid)
		if !xtextSafe.MatchString(e) {
			t.Errorf("EnvelopeID(%q) = %q, want 1-100 characters needing no xtext encoding", mid, e)
		}
		ids[e] = true
	}
	if EnvelopeID("<a@example.com>") != EnvelopeID("a@EXAMPLE.com") {
		t.Errorf("EnvelopeID differs for the same normalised Message-ID")
	}
	if len(ids) != 4 {
		t.Errorf("EnvelopeID gave %d distinct IDs for 4 distinct Message-IDs", len(ids))
	}
}

func TestNewMessageID(t *testing.T) {
	a, b := newMessageID("example.com"), newMessageID("example.com")
	if a == b || !strings.HasPrefix(a, "<") || !strings.HasSuffix(a, "@example.com>") || track.NormalizeMessageID(a) == "" {
		t.Errorf("newMessageID = %q, %q; want distinct <…@example.com>", a, b)
	}
}

func TestReceiptPolicy(t *testing.T) {
	internal := ReceiptPolicy{Mode: ReceiptsInternal, InternalDomains: []string{"Example.co.jp", "example.com."}}
	tests := []struct {
		name   string
		policy ReceiptPolicy
		rcpts  []string
		want   bool
	}{
		{"never", ReceiptPolicy{Mode: ReceiptsNever}, []string{"a@example.com"}, false},
		{"zero value", ReceiptPolicy{}, []string{"a@example.com"}, false},
		{"always", ReceiptPolicy{Mode: ReceiptsAlways}, []string{"a@customer.example"}, true},
		{"always, nobody", ReceiptPolicy{Mode: ReceiptsAlways}, nil, false},
		{"internal only", internal, []string{"a@example.co.jp", "b@EXAMPLE.COM"}, true},
		{"subdomain", internal, []string{"a@osaka.example.co.jp"}, true},
		{"one outsider", internal, []string{"a@example.co.jp", "b@customer.example"}, false},
		{"look-alike domain", internal, []string{"a@badexample.com"}, false},
		{"no domain", internal, []string{"postmaster"}, false},
		{"internal, nobody", internal, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Wants(tt.rcpts); got != tt.want {
				t.Errorf("%+v.Wants(%v) = %v, want %v", tt.policy, tt.rcpts, got, tt.want)
			}
		})
	}
	for _, p := range []ReceiptPolicy{{Mode: ReceiptsInternal}, {Mode: "sometimes"}} {
		if p.validate() == nil {
			t.Errorf("%+v.validate() = nil, want an error", p)
		}
	}
}
