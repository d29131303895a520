package report

import (
	"net/mail"
	"testing"
)

// checkSimpleAddress checks that simpleAddress, when it reads v, reads the
// address mail.ParseAddress does.
func checkSimpleAddress(t *testing.T, v string) {
	t.Helper()
	got, ok := simpleAddress(v)
	if !ok {
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != got {
		t.Errorf("simpleAddress(%q) = %q, want the result of mail.ParseAddress: %v, %v", v, got, a, err)
	}
}

var addressCases = []string{
	"a@b.c", " MAILER-DAEMON@mx.example.com ", "Mail Delivery System <MAILER-DAEMON@x.example>",
	`"Mail Delivery System" <postmaster@x>`, "<a@b>", "John Q. Public <jqp@x.org>", "a@b <c@d>",
	"a.@b", ".a@b", "a..b@c", "a@b..c", "a@", "@b", "a b@c", "John <a@b> x", "John <a@b", `"a\"b" <c@d>`,
	`"a" "b" c <d@e>`, `"a"b <c@d>`, "group: a@b;", "a@b (comment)", "Jöhn <a@b>", `"Jöhn" <a@b>`,
	"=?utf-8?q?x?= <a@b>", "<a@b>>", "<<a@b>", "John<a@b>", "a@[1.2.3.4]", "a!#$%&'*+/=?^_`{|}~@b-c.d",
}

func TestSimpleAddress(t *testing.T) {
	for _, v := range addressCases {
		checkSimpleAddress(t, v)
	}
	read := 0
	for _, raw := range sampleMessages(t) {
		w := &walker{}
		e := w.parseEntity(normalizeNewlines(raw), 0, "text/plain")
		for _, k := range []string{"from", "to", "sender", "reply-to"} {
			v := e.hdr.get(k)
			if _, ok := simpleAddress(v); ok {
				read++
			}
			checkSimpleAddress(t, v)
		}
	}
	if read == 0 {
		t.Errorf("simpleAddress read no address of the samples")
	}
}

func FuzzSimpleAddress(f *testing.F) {
	for _, v := range addressCases {
		f.Add(v)
	}
	f.Fuzz(checkSimpleAddress)
}
