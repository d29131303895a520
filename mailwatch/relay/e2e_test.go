package relay

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// stackMail is an HTML mail from alice to bob, with nosuch (an unknown
// user, so Postfix bounces) on Cc and a Japanese subject. It has no
// Message-ID: the relay adds one.
func stackMail(st *mailstack.Stack) string {
	return "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <" + st.Address("alice") + ">\r\n" +
		"To: Bob <" + st.Address("bob") + ">\r\n" +
		"Cc: nosuch@" + st.Domain() + "\r\n" +
		"Subject: =?ISO-2022-JP?B?GyRCOCtAUSROJDRAQTVhGyhC?=\r\n" +
		"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=\"alt-1\"\r\n" +
		"\r\n" +
		"--alt-1\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\n" +
		"ボブさん、見積をお送りします。\r\n" +
		"--alt-1\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"<html><body><p>=E3=83=9C=E3=83=96=E3=81=95=E3=82=93</p></body></html>\r\n" +
		"--alt-1--\r\n"
}

// envelopeLookup finds mail by envelope ID only, so a correlation through
// it proves the ENVID alone ties a report to its mail.
type envelopeLookup struct{ m track.Mail }

func (l envelopeLookup) MailByMessageID(string) (track.Mail, bool, error) {
	return track.Mail{}, false, nil
}

func (l envelopeLookup) MailByEnvelopeID(id string) (track.Mail, bool, error) {
	return l.m, id == l.m.EnvelopeID, nil
}

func (l envelopeLookup) MailsBySubject(string, string, time.Time, time.Time) ([]track.Mail, error) {
	return nil, nil
}

// TestEndToEnd submits through the relay to a real Postfix delivering into
// Dovecot: bob's copy carries the added fields and the pixel, Postfix's
// success DSN for bob and its bounce for nosuch both carry the relay's
// ENVID and the Message-ID it registered, and correlate by the ENVID alone.
func TestEndToEnd(t *testing.T) {
	st := mailstack.Start(t)
	r := startRelay(t, st.SMTPAddr(), func(o *Options) {
		o.Receipts = ReceiptPolicy{Mode: ReceiptsInternal, InternalDomains: []string{st.Domain()}}
		o.Pixel = PixelOptions{Enabled: true, Keys: testPixelKeys(t), BaseURL: baseURL}
	})
	alice, bob, nosuch := st.Address("alice"), st.Address("bob"), "nosuch@"+st.Domain()
	raw := stackMail(st)
	if err := submit(t, r.addr, alice, []string{bob, nosuch}, []byte(raw), submitOpts{}); err != nil {
		t.Fatalf("submit through the relay: %v", err)
	}

	regs := r.reg.registered()
	if len(regs) != 1 {
		t.Fatalf("registered %d mails, want 1", len(regs))
	}
	reg := regs[0]
	if reg.Sender != alice || reg.SenderName != "山田" || reg.Subject != "見積のご請求" ||
		reg.Requested != (track.Requested{ReadReceipt: true, DSN: true, Pixel: true}) || reg.EnvelopeID != EnvelopeID(reg.MessageID) {
		t.Errorf("registered %+v", reg)
	}
	wantRcpts := []track.Recipient{{Address: bob, Name: "Bob", Field: track.FieldTo}, {Address: nosuch, Field: track.FieldCc}}
	if !slices.EqualFunc(reg.Recipients, wantRcpts, sameRecipient) {
		t.Errorf("registered recipients %+v, want %+v", reg.Recipients, wantRcpts)
	}

	st.WaitForMessages(t, "bob", "INBOX", 1, 20*time.Second)
	delivered := st.Messages(t, "bob", "INBOX")[0]
	added := "Message-ID: <" + reg.MessageID + ">\r\nDisposition-Notification-To: <" + alice + ">\r\n"
	untilHTML := raw[:strings.Index(raw, "<html>")]
	if !bytes.Contains(delivered, []byte(added+untilHTML)) {
		t.Errorf("bob's copy lacks the added fields followed by the submitted bytes:\n%s", delivered)
	}
	if c := tokenIn(t, []byte(decodedHTML(t, delivered))); c.MessageID != reg.MessageID || c.Recipient != "" || c.Sender != alice {
		t.Errorf("pixel claims = %+v, want the registered mail's", c)
	}
	if !bytes.HasSuffix(delivered, []byte("px\">\r\n</body></html>\r\n--alt-1--\r\n")) {
		t.Errorf("bob's copy does not end as submitted:\n%s", delivered)
	}

	st.WaitForMessages(t, "alice", "INBOX", 2, 30*time.Second)
	got := map[string]report.Report{}
	for _, msg := range st.Messages(t, "alice", "INBOX") {
		reports, err := report.Parse(msg)
		if err != nil {
			t.Fatalf("report.Parse: %v\n%s", err, msg)
		}
		for _, rep := range reports {
			got[rep.Recipient] = rep
		}
	}
	for _, want := range []struct {
		rcpt   string
		action report.Action
	}{{bob, report.ActionDelivered}, {nosuch, report.ActionFailed}} {
		rep, ok := got[want.rcpt]
		if !ok {
			t.Errorf("no report for %s among %v", want.rcpt, got)
			continue
		}
		if rep.Kind != report.KindDSN || rep.Action != want.action {
			t.Errorf("report for %s: %s %s, want dsn %s", want.rcpt, rep.Kind, rep.Action, want.action)
		}
		if rep.EnvelopeID != reg.EnvelopeID || track.NormalizeMessageID(rep.OriginalMessageID) != reg.MessageID {
			t.Errorf("report for %s: ENVID %q, Message-ID %q; want %q, %q",
				want.rcpt, rep.EnvelopeID, rep.OriginalMessageID, reg.EnvelopeID, reg.MessageID)
		}
		m, err := track.Correlate(rep, envelopeLookup{reg}, time.Now(), 0)
		if err != nil || m.Via != track.ViaEnvelopeID || m.Recipient != want.rcpt || m.Confidence != track.ConfidenceExact {
			t.Errorf("Correlate(report for %s) = %+v, %v; want an exact match by envelope ID", want.rcpt, m, err)
		}
	}
}
