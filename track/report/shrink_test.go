package report

import (
	"bytes"
	"strings"
	"testing"
)

// hugeBounce builds an RFC 3464 bounce whose returned message, with an
// attachment of about size bytes, comes before the report part.
func hugeBounce(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nTo: a@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"outer\"\r\n\r\n" +
		"--outer\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--outer\r\nContent-Type: message/rfc822\r\n\r\n" +
		"From: a@example.com\r\nTo: big@example.org\r\nMessage-ID: <huge@example.com>\r\nSubject: plans\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain\r\n\r\nThe plans.\r\n" +
		"--inner\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUJD", 19) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString("--inner--\r\n\r\n--outer\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; big@example.org\r\nAction: failed\r\n" +
		"Status: 5.3.4\r\nDiagnostic-Code: smtp; 552 5.3.4 Message size exceeds fixed limit\r\n\r\n--outer--\r\n")
	return b.Bytes()
}

// TestShrinkKeepsReportAfterHugePart reads a bounce whose report part
// comes after a returned message larger than MaxMessageBytes.
func TestShrinkKeepsReportAfterHugePart(t *testing.T) {
	raw := hugeBounce(MaxMessageBytes + 8<<20)
	rs, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Kind != KindDSN || rs[0].Recipient != "big@example.org" || rs[0].Status != "5.3.4" ||
		rs[0].OriginalMessageID != "huge@example.com" || rs[0].Reason != ReasonMesgTooBig {
		t.Fatalf("Parse(%d-byte bounce) = %+v, want one failed 5.3.4 report on big@example.org", len(raw), rs)
	}
	small, err := Shrink(bytes.NewReader(raw), MaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(small) > shrinkOtherBytes+64<<10 {
		t.Errorf("Shrink kept %d bytes of %d, want about %d", len(small), len(raw), shrinkOtherBytes)
	}
	t.Logf("shrunk %d bytes to %d", len(raw), len(small))
}

// TestShrinkSmallUnchanged checks that Shrink keeps a message whose bodies
// fit their budgets byte for byte, and never returns more than the limit.
func TestShrinkSmallUnchanged(t *testing.T) {
	for _, raw := range [][]byte{hugeBounce(10 << 10), manyRecipientDSN(50), []byte("Subject: x\r\n\r\nbody\r\n"), []byte("no header at all")} {
		got, err := Shrink(bytes.NewReader(raw), MaxMessageBytes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, raw) {
			t.Errorf("Shrink changed a %d-byte message into %d bytes", len(raw), len(got))
		}
		if got, _ := Shrink(bytes.NewReader(raw), 100); len(got) > 100 {
			t.Errorf("Shrink(limit 100) returned %d bytes", len(got))
		}
	}
}

func FuzzShrink(f *testing.F) {
	f.Add(hugeBounce(1 << 10))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Shrink(bytes.NewReader(raw), 1<<20)
		if err != nil || len(got) > 1<<20 {
			t.Fatalf("Shrink: %d bytes, %v", len(got), err)
		}
	})
}

// TestShrinkCorpus shrinks every corpus sample with a limit that cuts its
// long parts (256 KiB: 64 KiB of text, 16 KiB of anything else) and
// checks that Parse reads the same reports from what is left.
func TestShrinkCorpus(t *testing.T) {
	same, total := 0, 0
	for _, s := range loadCorpus(t) {
		want, _ := Parse(s.Raw)
		small, err := Shrink(bytes.NewReader(s.Raw), 256<<10)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := Parse(small)
		total++
		if len(got) == len(want) && (len(got) == 0 || got[0].Recipient == want[0].Recipient &&
			got[0].OriginalMessageID == want[0].OriginalMessageID && got[0].Kind == want[0].Kind) {
			same++
		} else {
			t.Errorf("%s: shrunk from %d to %d bytes, Parse differs", s.Name, len(s.Raw), len(small))
		}
	}
	t.Logf("%d of %d samples read the same after Shrink", same, total)
}
