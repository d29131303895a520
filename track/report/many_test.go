package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostfix300Recipients reads a bounce Postfix 3.7 sent for a mail to
// 300 unknown recipients (generated with mailstack): every recipient block
// is reported.
func TestPostfix300Recipients(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mta", "postfix-300-recipients.eml"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 300 {
		t.Fatalf("Parse returned %d reports, want 300", len(rs))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.Recipient] = true
		if r.Action != ActionFailed || r.Status != "5.1.1" || r.Reason != ReasonUserUnknown ||
			r.OriginalMessageID != "q3-300@client.test.example" || r.EnvelopeID != "env300" {
			t.Errorf("report %+v, want failed 5.1.1 userunknown for q3-300@client.test.example (env300)", r)
		}
	}
	for i := 1; i <= 300; i++ {
		if a := fmt.Sprintf("nosuch%03d@test.example", i); !seen[a] {
			t.Errorf("recipient %s not reported", a)
		}
	}
}

// manyRecipientDSN builds an RFC 3464 report on n recipients.
func manyRecipientDSN(n int) []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nTo: a@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n")
	for i := range n {
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; r%05d@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"+
			"Diagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n", i)
	}
	b.WriteString("--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <many@example.com>\r\n--b--\r\n")
	return []byte(b.String())
}

// TestManyRecipients reads DSNs and text bounces on thousands of
// recipients whole.
func TestManyRecipients(t *testing.T) {
	for _, n := range []int{199, 200, 1000, maxRecipients} {
		rs, err := Parse(manyRecipientDSN(n))
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != n {
			t.Fatalf("DSN on %d recipients: %d reports", n, len(rs))
		}
		if last := rs[n-1]; last.Recipient != fmt.Sprintf("r%05d@example.org", n-1) || last.Reason != ReasonMailboxFull || last.OriginalMessageID != "many@example.com" {
			t.Errorf("last report %+v", last)
		}
	}
	// A qmail-style text bounce naming 3000 addresses.
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nTo: a@example.com\r\nSubject: failure notice\r\n\r\n" +
		"Hi. This is the qmail-send program at mx.example.net.\r\nI'm afraid I wasn't able to deliver your message to the following addresses.\r\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "<t%05d@example.org>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n", i)
	}
	b.WriteString("--- Below this line is a copy of the message.\r\n\r\nMessage-ID: <many@example.com>\r\nFrom: a@example.com\r\n\r\nhello\r\n")
	rs, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3000 {
		t.Fatalf("text bounce on 3000 addresses: %d reports", len(rs))
	}
	for _, r := range []Report{rs[0], rs[2999]} {
		if r.Reason != ReasonUserUnknown || r.Status != "5.1.1" || r.OriginalMessageID != "many@example.com" {
			t.Errorf("report %+v", r)
		}
	}
}

// TestRecipientCap reads a report on more recipients than any mail system
// accepts on one message: maxRecipients are reported.
func TestRecipientCap(t *testing.T) {
	rs, err := Parse(manyRecipientDSN(maxRecipients + 500))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != maxRecipients {
		t.Fatalf("DSN on %d recipients: %d reports, want %d", maxRecipients+500, len(rs), maxRecipients)
	}
}

// TestNoRecipientFromPerson: a person's mail whose subject reads like a
// bounce and that names no address is no report; the same from a mail
// system is a bounce without a recipient.
func TestNoRecipientFromPerson(t *testing.T) {
	body := "Subject: Your expense claim was rejected\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nPlease resubmit it with the receipts.\r\n"
	rs, err := Parse([]byte("From: Keiko Mori <keiko@example.com>\r\n" + body))
	if err != nil || len(rs) != 0 {
		t.Errorf("person's mail: Parse = %+v, %v; want no report", rs, err)
	}
	rs, err = Parse([]byte("From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n" + body))
	if err != nil || len(rs) != 1 || rs[0].Kind != KindDSN || rs[0].Recipient != "" {
		t.Errorf("mail system's mail: Parse = %+v, %v; want one bounce without a recipient", rs, err)
	}
}
