package mailstack

import (
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Append stores raw in folder through c, as a mail client saves a copy,
// and fails the test when the server refuses it.
func Append(t testing.TB, c *imapclient.Client, folder, raw string) {
	t.Helper()
	cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{})
	if _, err := cmd.Write([]byte(raw)); err != nil {
		t.Fatalf("mailstack: append to %s: %v", folder, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("mailstack: append to %s: %v", folder, err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("mailstack: append to %s: %v", folder, err)
	}
}

// MDN returns a read receipt (RFC 8098, disposition displayed) from the
// recipient from to the sender to, for the mail with Message-ID
// originalID. No MTA makes read receipts, so tests compose them; n makes
// the receipt's own Message-ID, and the same arguments give the same
// receipt, as a client sending it twice would.
func MDN(originalID, from, to string, n int) string {
	return "From: " + from + "\r\nTo: " + to + "\r\nSubject: Read: hello\r\n" +
		fmt.Sprintf("Message-ID: <mdn-%d-%s>\r\n", n, originalID) +
		"Date: Tue, 24 Nov 2026 11:00:00 +0900\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=disposition-notification; boundary=\"R\"\r\n\r\n" +
		"--R\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n" +
		"--R\r\nContent-Type: message/disposition-notification\r\n\r\n" +
		"Reporting-UA: test\r\nFinal-Recipient: rfc822; " + from + "\r\nOriginal-Message-ID: <" + originalID + ">\r\n" +
		"Disposition: manual-action/MDN-sent-manually; displayed\r\n--R--\r\n"
}
