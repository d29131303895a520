package report

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// checkReports fails tb when Parse broke one of its promises: an error comes
// without reports, and every report has a known kind, a lower-case
// recipient and an original Message-ID without angle brackets.
func checkReports(tb testing.TB, name string, rs []Report, err error) {
	tb.Helper()
	if err != nil && len(rs) > 0 {
		tb.Errorf("Parse(%s) = %d reports and error %v, want reports or an error", name, len(rs), err)
	}
	for i, r := range rs {
		switch r.Kind {
		case KindDSN, KindMDN:
		case KindReply, KindAutoReply:
			if r.Recipient == "" || len(rs) != 1 {
				tb.Errorf("Parse(%s) = %d reports, report %d kind %q from %q, want one answer with its sender", name, len(rs), i, r.Kind, r.Recipient)
			}
		default:
			tb.Errorf("Parse(%s) report %d kind = %q, want dsn, mdn, reply or autoreply", name, i, r.Kind)
		}
		if r.Recipient != strings.ToLower(r.Recipient) {
			tb.Errorf("Parse(%s) report %d recipient = %q, want lower case", name, i, r.Recipient)
		}
		if strings.ContainsAny(r.OriginalMessageID, "<>") {
			tb.Errorf("Parse(%s) report %d original_message_id = %q, want no angle brackets", name, i, r.OriginalMessageID)
		}
	}
}

// readGolden returns the golden message NAME.eml.
func readGolden(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name+".eml"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sampleMessages returns the corpus messages when the corpus is present,
// else the golden messages, keyed by name.
func sampleMessages(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	if files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json")); len(files) > 0 {
		for _, s := range loadCorpus(tb) {
			out[s.Name] = s.Raw
		}
		return out
	}
	for _, path := range goldenMessages(tb) {
		b, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		out["golden/"+strings.TrimSuffix(filepath.Base(path), ".eml")] = b
	}
	return out
}

// mustParseAs parses raw and fails unless it yields exactly the reports of
// want (compared on the golden fields).
func mustParseAs(t *testing.T, name string, raw []byte, want []goldenReport) {
	t.Helper()
	rs, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%s) error: %v", name, err)
	}
	checkReports(t, name, rs, err)
	compareGolden(t, name, toGolden(rs), want)
}

// parseGolden returns what Parse makes of the clean golden message NAME, the
// reference for the damaged copies below (TestGolden checks it is right).
func parseGolden(t *testing.T, name string) []goldenReport {
	t.Helper()
	rs, err := Parse(readGolden(t, name))
	if err != nil || len(rs) == 0 {
		t.Fatalf("Parse(%s) = %d reports, %v; want reports", name, len(rs), err)
	}
	return toGolden(rs)
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\r\n", "\n\n\n", " \t\r\n \r\n"} {
		rs, err := Parse([]byte(in))
		if !errors.Is(err, ErrEmpty) || len(rs) != 0 {
			t.Errorf("Parse(%q) = %d reports, %v; want ErrEmpty", in, len(rs), err)
		}
	}
}

func TestParseNotMessage(t *testing.T) {
	for _, in := range []string{"\r\n\r\nonly a body\r\n", "no header at all, just words\r\nand more words\r\n"} {
		rs, err := Parse([]byte(in))
		if err == nil && len(rs) != 0 {
			t.Errorf("Parse(%q) = %d reports, want an error or none", in, len(rs))
		}
		checkReports(t, fmt.Sprintf("%q", in), rs, err)
	}
}

func TestParseBinaryGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		b := make([]byte, 1+r.IntN(64<<10))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		name := fmt.Sprintf("garbage#%d", i)
		rs, err := Parse(b)
		checkReports(t, name, rs, err)
		if err == nil && len(rs) != 0 {
			t.Errorf("Parse(%s) = %d reports, want an error or none", name, len(rs))
		}
	}
}

// TestParseTruncated cuts every sample at several points, including inside
// a CRLF pair and just after the header; each cut must parse without panic
// and keep Parse's promises.
func TestParseTruncated(t *testing.T) {
	for name, raw := range sampleMessages(t) {
		cuts := []int{1, len(raw) - 1}
		for k := 1; k < 8; k++ {
			cuts = append(cuts, len(raw)*k/8)
		}
		if i := bytes.Index(raw, []byte("\n\n")); i > 0 {
			cuts = append(cuts, i, i+1)
		}
		if i := bytes.Index(raw, []byte("\r\n\r\n")); i > 0 {
			cuts = append(cuts, i+1, i+3)
		}
		for _, c := range cuts {
			if c <= 0 || c >= len(raw) {
				continue
			}
			cut := fmt.Sprintf("%s[:%d]", name, c)
			rs, err := Parse(raw[:c])
			checkReports(t, cut, rs, err)
		}
	}
}

// insertLine inserts line (with CRLF) before the first occurrence of
// before in raw.
func insertLine(t *testing.T, raw []byte, before, line string) []byte {
	t.Helper()
	i := bytes.Index(raw, []byte(before))
	if i < 0 {
		t.Fatalf("%q not in message", before)
	}
	out := append([]byte{}, raw[:i]...)
	out = append(out, line+"\r\n"...)
	return append(out, raw[i:]...)
}

// TestParseSalvageHeaderWithoutColon checks that a header line without a
// colon, which makes go-message give up on the whole message, costs nothing:
// the report is read as if the line were not there.
func TestParseSalvageHeaderWithoutColon(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		before string // the line is inserted before this text
		line   string
	}{
		{"top header, after Received", "dsn-multi-mixed", "Date: Tue", "X-Spam-Score 2.4 (bogus line)"},
		{"top header, before Content-Type", "dsn-multi-mixed", "Content-Type: multipart/report", "Envelope-From alice.smith@contoso.example"},
		{"top header, first line", "exim-x-failed", "Return-path: <>", "From MAILER-DAEMON Tue Mar 12 12:20:31 2024"},
		{"top header, Outlook receipt", "outlook-read", "Thread-Topic:", "=?us-ascii?Q?broken?="},
		{"part header, delivery-status", "dsn-multi-mixed", "Content-Type: message/delivery-status", "Content-Description Delivery report"},
		{"part header, disposition-notification", "thunderbird-displayed", "Content-Disposition: inline\r\nContent-Transfer-Encoding: 7bit\r\n\r\nReporting-UA", "X-Generated-By Thunderbird"},
		{"part header, returned headers", "dsn-multi-mixed", "Content-Type: text/rfc822-headers", "garbage line"},
		{"starting a delivery-status block", "dsn-multi-mixed", "Final-Recipient: RFC822; erin@slow.example", "X-Broken field without colon"},
		{"inside the returned header", "postfix-text", "Message-ID: <65F04512", "X-Originating-IP [10.0.4.17]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := parseGolden(t, tt.golden)
			raw := insertLine(t, readGolden(t, tt.golden), tt.before, tt.line)
			mustParseAs(t, tt.golden+" with "+tt.line, raw, want)
		})
	}
}

// TestParseUnknownCharset: a part in a charset nobody knows still yields
// its report.
func TestParseUnknownCharset(t *testing.T) {
	tests := []struct{ golden, from, to string }{
		{"qmail", "Subject: failure notice\r\n", "Subject: failure notice\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"x-unknown-2024\"\r\n"},
		{"dsn-multi-mixed", "Content-Type: message/delivery-status", "Content-Type: message/delivery-status; charset=x-klingon"},
		{"outlook-read", "Content-Type: text/plain; charset=\"us-ascii\"", "Content-Type: text/plain; charset=\"x-mac-unknown\""},
		{"outlook-ja-read", "charset=\"iso-2022-jp\"", "charset=\"x-unknown-jp\""},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			want := parseGolden(t, tt.golden)
			raw := bytes.Replace(readGolden(t, tt.golden), []byte(tt.from), []byte(tt.to), 1)
			if bytes.Equal(raw, readGolden(t, tt.golden)) {
				t.Fatalf("%q not in %s", tt.from, tt.golden)
			}
			mustParseAs(t, tt.golden+" with unknown charset", raw, want)
		})
	}
}

// TestParseInvalidTransferEncoding: broken base64 and quoted-printable are
// decoded leniently; characters outside the alphabet and bad escapes do not
// lose the report.
func TestParseInvalidTransferEncoding(t *testing.T) {
	t.Run("base64 with junk", func(t *testing.T) {
		want := parseGolden(t, "dsn-base64")
		raw := readGolden(t, "dsn-base64")
		// Spaces, stray punctuation and missing padding inside the
		// delivery-status part.
		i := bytes.Index(raw, []byte("Content-Type: message/delivery-status"))
		j := i + bytes.Index(raw[i:], []byte("\r\n\r\n")) + 4
		k := j + bytes.Index(raw[j:], []byte("\r\n\r\n"))
		body := bytes.ReplaceAll(raw[j:k], []byte("\r\n"), []byte(" !\r\n*"))
		body = bytes.TrimRight(body, "=")
		bad := append(append(append([]byte{}, raw[:j]...), body...), raw[k:]...)
		mustParseAs(t, "dsn-base64 with junk", bad, want)
	})
	t.Run("base64 not base64", func(t *testing.T) {
		raw := readGolden(t, "dsn-base64")
		i := bytes.Index(raw, []byte("Content-Type: message/delivery-status"))
		j := i + bytes.Index(raw[i:], []byte("\r\n\r\n")) + 4
		k := j + bytes.Index(raw[j:], []byte("\r\n\r\n"))
		bad := append(append(append([]byte{}, raw[:j]...), "%%%% ???? ====\r\n\x00\x01\x02="...), raw[k:]...)
		rs, err := Parse(bad)
		checkReports(t, "dsn-base64 with no base64", rs, err)
	})
	t.Run("quoted-printable with bad escapes", func(t *testing.T) {
		want := parseGolden(t, "dsn-qp-softbreak")
		raw := readGolden(t, "dsn-qp-softbreak")
		raw = bytes.Replace(raw, []byte("Reporting-MTA: dns; mailgw"), []byte("X-Junk: =ZZ =4 = end\r\nReporting-MTA: dns; mailgw"), 1)
		raw = bytes.Replace(raw, []byte("Subject: Conference dinner"), []byte("Subject: Conference =XYdinner =G"), 1)
		mustParseAs(t, "dsn-qp-softbreak with bad escapes", raw, want)
	})
	t.Run("quoted-printable ending in =", func(t *testing.T) {
		raw := readGolden(t, "dsn-qp-softbreak")
		i := bytes.Index(raw, []byte("Final-Recipient"))
		rs, err := Parse(append(append([]byte{}, raw[:i]...), "Final-Recipient: rfc822; x@y.example="...))
		checkReports(t, "dsn-qp-softbreak cut after =", rs, err)
	})
}

// TestParseNoClosingBoundary: a multipart whose closing delimiter (and
// everything after the report part) is lost still yields its report.
func TestParseNoClosingBoundary(t *testing.T) {
	for _, name := range []string{"dsn-multi-mixed", "outlook-not-read", "thunderbird-denied", "dsn-global-eai"} {
		t.Run(name, func(t *testing.T) {
			want := parseGolden(t, name)
			raw := readGolden(t, name)
			i := bytes.LastIndex(raw, []byte("\r\n--"))
			mustParseAs(t, name+" without closing delimiter", raw[:i+2], want)
		})
	}
	t.Run("cut after the delivery-status part", func(t *testing.T) {
		want := parseGolden(t, "dsn-multi-mixed")
		raw := readGolden(t, "dsn-multi-mixed")
		i := bytes.Index(raw, []byte("Content-Type: text/rfc822-headers"))
		// The original's Message-ID is lost with the returned header.
		for i := range want {
			want[i].OriginalMessageID = ""
		}
		mustParseAs(t, "dsn-multi-mixed cut before its returned header", raw[:i], want)
	})
}

// nestedMultipart returns a message of depth nested multiparts around a
// short text part.
func nestedMultipart(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("From: someone@example.org\r\nTo: alice.smith@contoso.example\r\nSubject: nested\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhello\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

// nestedRFC822 returns a message of depth nested message/rfc822 parts.
func nestedRFC822(depth int) []byte {
	var b bytes.Buffer
	for range depth {
		b.WriteString("From: someone@example.org\r\nSubject: Fwd: nested\r\nContent-Type: message/rfc822\r\n\r\n")
	}
	b.WriteString("From: someone@example.org\r\nSubject: inner\r\n\r\nhello\r\n")
	return b.Bytes()
}

func TestParseDeepNesting(t *testing.T) {
	for name, raw := range map[string][]byte{
		"multipart x1000":      nestedMultipart(1000),
		"message/rfc822 x1000": nestedRFC822(1000),
	} {
		t.Run(name, func(t *testing.T) {
			rs, err := Parse(raw)
			checkReports(t, name, rs, err)
			if err != nil || len(rs) != 0 {
				t.Errorf("Parse(%s) = %d reports, %v; want none", name, len(rs), err)
			}
		})
	}
	t.Run("report inside a forwarded message", func(t *testing.T) {
		// A report forwarded by a person: the outer message is no report.
		var b bytes.Buffer
		b.WriteString("From: Bob <bob@example.org>\r\nTo: alice.smith@contoso.example\r\nSubject: Fwd: Returned mail\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fwd\"\r\n\r\n--fwd\r\nContent-Type: text/plain\r\n\r\nSee below, what does this mean?\r\n\r\n--fwd\r\nContent-Type: message/rfc822\r\n\r\n")
		b.Write(readGolden(t, "dsn-multi-mixed"))
		b.WriteString("\r\n--fwd--\r\n")
		rs, err := Parse(b.Bytes())
		checkReports(t, "forwarded dsn", rs, err)
	})
}

// manyParts returns a DSN followed by n tiny extra parts.
func manyParts(t *testing.T, n int) []byte {
	raw := readGolden(t, "dsn-multi-mixed")
	const closing = "--42CAt3Kp019284.1710240903/mx1.relay.example.net--"
	i := bytes.Index(raw, []byte(closing))
	if i < 0 {
		t.Fatal("closing delimiter not found")
	}
	var b bytes.Buffer
	b.Write(raw[:i])
	for k := range n {
		fmt.Fprintf(&b, "--42CAt3Kp019284.1710240903/mx1.relay.example.net\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", k)
	}
	b.WriteString(closing + "\r\n")
	return b.Bytes()
}

func TestParseManyParts(t *testing.T) {
	want := parseGolden(t, "dsn-multi-mixed")
	mustParseAs(t, "dsn-multi-mixed with 100000 more parts", manyParts(t, 100000), want)
}

// hugeLines appends 76-character lines to b until it holds size bytes.
func hugeLines(b *bytes.Buffer, size int) {
	line := []byte(strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODlhYmNkZWZnaGlqa2xtbm9w", 2)[:76] + "\r\n")
	for b.Len() < size {
		b.Write(line)
	}
}

// hugeReturned returns dsn-base64 with the returned original carrying an
// attachment of the given media type that makes the message size bytes.
func hugeReturned(t *testing.T, size int, attachType, cte string) []byte {
	raw := readGolden(t, "dsn-base64")
	i := bytes.Index(raw, []byte("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\nHi Gina"))
	if i < 0 {
		t.Fatal("returned message not found in dsn-base64")
	}
	var b bytes.Buffer
	b.Grow(size + 8192)
	b.Write(raw[:i])
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"att\"\r\n\r\n--att\r\nContent-Type: text/plain\r\n\r\nHi Gina, the photos are attached.\r\n\r\n--att\r\n")
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\nContent-Disposition: attachment; filename=\"fair\"\r\n\r\n", attachType, cte)
	hugeLines(&b, size)
	b.WriteString("\r\n--att--\r\n\r\n--=_b64dsn_5f3c9a1e7d2b--\r\n")
	return b.Bytes()
}

// hugeAppended returns a golden message with size bytes of text added
// before the text at marker (the end of its body, or its closing delimiter
// after a part header).
func hugeAppended(t *testing.T, size int, golden, marker, partHeader string) []byte {
	raw := readGolden(t, golden)
	i := bytes.LastIndex(raw, []byte(marker))
	if i < 0 {
		t.Fatalf("%q not in %s", marker, golden)
	}
	var b bytes.Buffer
	b.Grow(size + 8192)
	b.Write(raw[:i])
	b.WriteString(partHeader)
	hugeLines(&b, size)
	b.WriteString("\r\n")
	b.Write(raw[i:])
	return b.Bytes()
}

// TestParseHuge: a 40 MB report (the report first, then a huge attachment
// or returned original) yields its report, and Parse allocates no more than
// a small multiple of the input.
func TestParseHuge(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping 40 MB messages in short mode")
	}
	const size = 40 << 20
	outlookEnd := "--_000_AM6PR02MB44237F3C2B1A4E9D8C7B6A5F4E3D2C1BAM6PR02MB4423eurp_--"
	tests := []struct {
		name, golden string
		build        func(t *testing.T) []byte
	}{
		{"dsn returning a base64 image", "dsn-base64", func(t *testing.T) []byte {
			return hugeReturned(t, size, "image/jpeg", "base64")
		}},
		{"dsn returning a text log", "dsn-base64", func(t *testing.T) []byte {
			return hugeReturned(t, size, "text/plain; charset=utf-8", "8bit")
		}},
		{"dsn returning quoted-printable text", "dsn-base64", func(t *testing.T) []byte {
			return hugeReturned(t, size, "text/plain; charset=iso-8859-1", "quoted-printable")
		}},
		{"text bounce quoting a huge original", "qmail", func(t *testing.T) []byte {
			return hugeAppended(t, size, "qmail", "\r\nAlice\r\n", "")
		}},
		{"receipt with a huge attachment", "outlook-read", func(t *testing.T) []byte {
			return hugeAppended(t, size, "outlook-read", outlookEnd,
				"--_000_AM6PR02MB44237F3C2B1A4E9D8C7B6A5F4E3D2C1BAM6PR02MB4423eurp_\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		}},
		{"receipt with a huge text part", "outlook-read", func(t *testing.T) []byte {
			return hugeAppended(t, size, "outlook-read", outlookEnd,
				"--_000_AM6PR02MB44237F3C2B1A4E9D8C7B6A5F4E3D2C1BAM6PR02MB4423eurp_\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := parseGolden(t, tt.golden)
			raw := tt.build(t)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rs, err := Parse(raw)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("input %d bytes, Parse allocated %d bytes (%.3fx)", len(raw), alloc, float64(alloc)/float64(len(raw)))
			if err != nil {
				t.Fatalf("Parse(40 MB %s) error: %v", tt.name, err)
			}
			compareGolden(t, "40 MB "+tt.name, toGolden(rs), want)
			if limit := 2 * uint64(len(raw)); alloc > limit {
				t.Errorf("Parse(40 MB %s) allocated %d bytes, want at most %d (2x the input)", tt.name, alloc, limit)
			}
		})
	}
}

// pathological returns inputs of about n bytes that are cheap to write and
// costly to read naively; BenchmarkParseScaling times them.
func pathological(n int) map[string][]byte {
	head := "From: MAILER-DAEMON@mx.example.net\r\nTo: alice@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
	repeat := func(header, unit string) []byte {
		var b bytes.Buffer
		b.Grow(n + len(header) + len(unit))
		b.WriteString(header)
		for b.Len() < n {
			b.WriteString(unit)
		}
		return b.Bytes()
	}
	long := func(header string, c byte) []byte {
		b := []byte(header)
		return append(b, bytes.Repeat([]byte{c}, n)...)
	}
	return map[string][]byte{
		"unclosed-message-ids": repeat(head+"Content-Type: text/plain\r\n\r\nThis is the mail system.\r\n\r\n", "Message-ID: <a1b2c3d4e5f6@\r\n"),
		"long-line":            long(head+"Content-Type: text/plain\r\n\r\nuser unknown: ", 'a'),
		"long-header":          long(head+"X-Long: ", 'x'),
		"folded-header":        repeat(head+"X-Folded: start\r\n", " more\r\n"),
		"addresses": repeat(head+"Content-Type: text/plain\r\n\r\nThe following addresses failed:\r\n\r\n",
			"user.name.0001@host-0001.example.com\r\n"),
		"addresses-one-line": repeat(head+"Content-Type: text/plain\r\n\r\nCould not deliver to: ", "u@h.example.com, "),
		"dash-lines": repeat(head+"Content-Type: multipart/mixed; boundary=\"nothere\"\r\n\r\n",
			"--not-a-boundary-line\r\ntext\r\n"),
		"dsn-blocks": repeat(head+"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n",
			"Final-Recipient: rfc822; user@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"),
		"boundaries": repeat(head+"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n", "--b\r\n\r\n"),
		"colons":     repeat(head+"Content-Type: text/plain\r\n\r\n", "Final-Recipient:"),
		"angles":     repeat(head+"Content-Type: text/plain\r\n\r\nuser unknown ", "<<<<@"),
	}
}

// TestParsePathological checks the inputs of BenchmarkParseScaling for
// correctness at a small size: no panic, and Parse keeps its promises.
func TestParsePathological(t *testing.T) {
	for name, raw := range pathological(64 << 10) {
		rs, err := Parse(raw)
		checkReports(t, name, rs, err)
	}
	// Many failed addresses in one bounce: every one is reported.
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@mx.example.net\r\nTo: alice@example.org\r\nSubject: failure notice\r\n\r\nHi. This is the qmail-send program at mx.example.net.\r\nI'm afraid I wasn't able to deliver your message to the following addresses.\r\nThis is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n")
	const n = 150
	for i := range n {
		fmt.Fprintf(&b, "<user%03d@example.com>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n", i)
	}
	rs, err := Parse(b.Bytes())
	checkReports(t, "150 recipients", rs, err)
	if len(rs) != n {
		t.Errorf("Parse(150 recipients) = %d reports, want %d", len(rs), n)
	}
}
