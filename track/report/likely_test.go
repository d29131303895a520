package report

import (
	"bytes"
	"testing"
)

func TestLikely(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   bool
	}{
		{"multipart report", "From: x@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", true},
		{"null return path", "Return-Path: <>\r\nFrom: x@example.com\r\nSubject: hi\r\n", true},
		{"mailer daemon", "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nSubject: something\r\n", true},
		{"failed recipients", "From: a@b.example\r\nX-Failed-Recipients: c@d.example\r\n", true},
		{"outlook read", "From: Bob <bob@fabrikam.example>\r\nSubject: Read: Quarterly report\r\nContent-Type: text/plain\r\n", true},
		{"japanese read", "From: bob@example.jp\r\nSubject: =?ISO-2022-JP?B?GyRCMytJdTpRJF8bKEI=?=: test\r\n", true},
		{"auto submitted", "From: a@b.example\r\nAuto-Submitted: auto-generated\r\nSubject: x\r\n", true},
		{"ordinary mail", "From: Carol <carol@example.com>\r\nSubject: Lunch tomorrow?\r\nContent-Type: text/plain\r\n", false},
		{"ordinary reply", "From: carol@example.com\r\nSubject: Re: Lunch tomorrow?\r\nIn-Reply-To: <a@b>\r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Likely([]byte(tc.header)); got != tc.want {
				t.Errorf("Likely(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

// TestLikelyCorpus checks that no report of the corpus is missed by the
// header-only check.
func TestLikelyCorpus(t *testing.T) {
	var missed []string
	n := 0
	for _, s := range loadCorpus(t) {
		if s.Kind == "other" {
			continue
		}
		n++
		raw := normalizeNewlines(s.Raw)
		end := bytes.Index(raw, []byte("\n\n"))
		if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 && (end < 0 || i < end) {
			end = i
		}
		if end < 0 {
			end = len(raw)
		}
		if !Likely(raw[:end]) {
			missed = append(missed, s.Name)
		}
	}
	t.Logf("Likely: %d of %d reports recognised from the header", n-len(missed), n)
	if len(missed) > 0 {
		t.Errorf("Likely missed %d reports: %v", len(missed), missed)
	}
}
