package track

import (
	"strings"
	"unicode/utf8"
)

// subjectPrefixes are the words receipts, bounces and replies put before
// the original subject, lower-cased, without their colon: Outlook's and
// Exchange's in the languages we see, common MTAs', and reply and forward
// markers.
var subjectPrefixes = []string{
	// English (Outlook, Exchange, Gmail, MTAs).
	"read", "not read", "read receipt", "return receipt", "delivered",
	"relayed", "delayed", "delivery delayed", "undeliverable",
	"undelivered", "not delivered", "delivery failure", "returned mail",
	// Japanese.
	"開封済み", "未開封", "開封確認", "配信済み", "配信不能", "配信遅延",
	// German.
	"gelesen", "ungelesen", "zugestellt", "übermittelt", "unzustellbar",
	// French, Spanish, Italian, Dutch.
	"lu", "non lu", "remis", "non remis", "leído", "no leído", "letto",
	"non letto", "gelezen", "niet gelezen", "onbestelbaar",
	// Replies and forwards.
	"re", "fw", "fwd", "aw", "wg", "sv", "vs", "tr", "rv", "antw", "返信", "転送",
}

// NormalizeSubject returns the original subject inside a receipt's, a
// bounce's or a reply's subject, lower-cased with runs of white space made
// one space, so that "Read: RE: Quote" and "re: quote" compare equal.
func NormalizeSubject(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	for {
		t := stripSubjectPrefix(s)
		if t == s {
			return s
		}
		s = t
	}
}

// stripSubjectPrefix removes one leading prefix, bracketed tag or
// Thunderbird receipt marker.
func stripSubjectPrefix(s string) string {
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return strings.TrimSpace(s[i+1:])
		}
	}
	// Thunderbird: "Return Receipt (displayed) - Subject".
	if strings.HasPrefix(s, "return receipt (") {
		if i := strings.Index(s, ") - "); i > 0 {
			return strings.TrimSpace(s[i+len(") - "):])
		}
	}
	for _, p := range subjectPrefixes {
		if rest, ok := cutColon(s, p); ok {
			return rest
		}
	}
	return s
}

// cutColon removes prefix p when a colon follows it: ASCII or full-width,
// with optional spaces before it as French typography puts them.
func cutColon(s, p string) (string, bool) {
	rest, ok := strings.CutPrefix(s, p)
	if !ok {
		return s, false
	}
	rest = strings.TrimLeft(rest, " ")
	r, size := utf8.DecodeRuneInString(rest)
	if r != ':' && r != '：' {
		return s, false
	}
	return strings.TrimSpace(rest[size:]), true
}
