package relay

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

const snippet = `<img src="https://mailack.example/o/TOKEN.gif" width="1" height="1" alt="" style="border:0;width:1px;height:1px">`

// crlf turns the LF line ends of a test message into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const htmlDoc = "<html><head><title>Quote</title></head><body>\n<p>Dear Bob,</p>\n<p>please find the quote below. Kind regards, Alice</p>\n</body></html>\n"

func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func b64(s string) string {
	e := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(e) > 76 {
		b.WriteString(e[:76] + "\r\n")
		e = e[76:]
	}
	return b.String() + e + "\r\n"
}

var injectCases = []struct {
	name string
	raw  string
	// html is the decoded HTML the pixel must go into; "" when the message
	// must be left alone.
	html string
}{
	{
		name: "single part 7bit",
		raw:  crlf("From: alice@example.com\nTo: bob@example.org\nSubject: q\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n" + htmlDoc),
		html: crlf(htmlDoc),
	},
	{
		name: "single part quoted-printable",
		raw:  crlf("From: alice@example.com\nContent-Type: text/html; charset=iso-2022-jp\nContent-Transfer-Encoding: quoted-printable\n\n") + qp(crlf(strings.Repeat("<p>long line of text with = signs and more words</p>", 4)+htmlDoc)),
		html: crlf(strings.Repeat("<p>long line of text with = signs and more words</p>", 4) + htmlDoc),
	},
	{
		name: "quoted-printable with the closing tag split by a soft break",
		raw:  crlf("Content-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<html><body>hello</bo=\ndy></html>\n"),
		html: "<html><body>hello</body></html>\r\n",
	},
	{
		name: "single part base64",
		raw:  crlf("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n") + b64(strings.Repeat("<p>日本語のテキスト</p>", 10)+htmlDoc),
		html: strings.Repeat("<p>日本語のテキスト</p>", 10) + htmlDoc,
	},
	{
		name: "multipart alternative",
		raw: crlf("From: alice@example.com\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n" +
			"This is a multi-part message.\n--alt\nContent-Type: text/plain; charset=utf-8\n\nDear Bob,\nplease find the quote.\n--alt\n" +
			"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" + qp(htmlDoc) + "\n--alt--\nepilogue\n"),
		html: crlf(htmlDoc),
	},
	{
		name: "mixed, related, alternative",
		raw: crlf("Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: multipart/related; boundary=r\n\n" +
			"--r\nContent-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\nplain\n--a\nContent-Type: text/html\n\n" + htmlDoc +
			"--a--\n--r\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n" +
			"--m\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=q.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--m--\n"),
		html: crlf(htmlDoc),
	},
	{
		name: "first html part wins",
		raw: crlf("Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/html\n\n<html><body>first</body></html>\n" +
			"--m\nContent-Type: text/html\n\n<html><body>second</body></html>\n--m--\n"),
		html: "<html><body>first</body></html>",
	},
	{
		name: "html without closing tags",
		raw:  crlf("Content-Type: text/html\n\n<p>hello</p>\n"),
		html: "<p>hello</p>\r\n",
	},
	{
		name: "LF line ends",
		raw:  "Content-Type: text/html\n\n" + htmlDoc,
		html: htmlDoc,
	},
	{name: "plain text", raw: crlf("From: a@example.com\nSubject: hi\n\nhello\n")},
	{name: "html attachment", raw: crlf("Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nsee attached\n--m\nContent-Type: text/html\nContent-Disposition: attachment; filename=page.html\n\n" + htmlDoc + "--m--\n")},
	{name: "forwarded message", raw: crlf("Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nfyi\n--m\nContent-Type: message/rfc822\n\nContent-Type: text/html\n\n" + htmlDoc + "--m--\n")},
	{name: "signed", raw: crlf("Content-Type: multipart/signed; boundary=s; protocol=\"application/pkcs7-signature\"\n\n--s\nContent-Type: text/html\n\n" + htmlDoc + "--s\nContent-Type: application/pkcs7-signature\n\nMII=\n--s--\n")},
	{name: "utf-16", raw: crlf("Content-Type: text/html; charset=UTF-16LE\nContent-Transfer-Encoding: base64\n\n") + b64("<\x00p\x00>\x00")},
	{name: "unknown encoding", raw: crlf("Content-Type: text/html\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n")},
	{name: "multipart without boundary", raw: crlf("Content-Type: multipart/mixed\n\n--m\nContent-Type: text/html\n\n" + htmlDoc + "--m--\n")},
}

func TestInjectPixel(t *testing.T) {
	for _, tt := range injectCases {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			p, ok := findHTML(raw)
			if ok != (tt.html != "") {
				t.Fatalf("findHTML = %+v, %v; want found %v", p, ok, tt.html != "")
			}
			if !ok {
				return
			}
			out, err := injectPixel(raw, p, snippet)
			if err != nil {
				t.Fatalf("injectPixel: %v", err)
			}
			// Outside the HTML part's body, nothing changes.
			if !bytes.HasPrefix(out, raw[:p.start]) || !bytes.HasSuffix(out, raw[p.end:]) {
				t.Errorf("bytes outside the html body changed:\n%s", out)
			}
			if bytes.Count(out, []byte("TOKEN.gif")) != 1 && p.encoding != "base64" {
				t.Errorf("snippet not inserted exactly once:\n%s", out)
			}
			got := decodedHTML(t, out)
			want := string(insertSnippet([]byte(tt.html), snippet, lineBreak([]byte(tt.html))))
			if tt.html != "" && !strings.Contains(got, strings.TrimRight(want, "\r\n")) {
				t.Errorf("decoded html =\n%q\nwant\n%q", got, want)
			}
			if !strings.Contains(got, snippet) {
				t.Errorf("decoded html lacks the snippet:\n%q", got)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if len(line) > 998 {
					t.Errorf("line of %d bytes", len(line))
				}
			}
		})
	}
}

// TestInjectQPSplicesEncoded: a quoted-printable body with a literal
// closing tag keeps every encoded byte; only the encoded snippet is added.
func TestInjectQPSplicesEncoded(t *testing.T) {
	body := qp(crlf(strings.Repeat("<p>text with = and long lines that need soft breaks in quoted-printable</p>\n", 3) + htmlDoc))
	raw := []byte(crlf("Content-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n") + body)
	p, _ := findHTML(raw)
	out, err := injectPixel(raw, p, snippet)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(body, "</body>")
	before, after := body[:i], body[i:]
	if !bytes.Contains(out, []byte(before)) || !bytes.HasSuffix(out, []byte(after)) {
		t.Errorf("encoded body around the snippet changed:\n%s", out)
	}
}

// decodedHTML returns the decoded body of the first text/html part of raw.
func decodedHTML(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("message.Read: %v", err)
	}
	var found string
	var walkEntity func(e *message.Entity) bool
	walkEntity = func(e *message.Entity) bool {
		mt, _, _ := e.Header.ContentType()
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return false
				}
				if err != nil && !message.IsUnknownCharset(err) {
					t.Fatalf("next part: %v", err)
				}
				if walkEntity(p) {
					return true
				}
			}
		}
		if mt == "text/html" {
			b, err := io.ReadAll(e.Body)
			if err != nil {
				t.Fatalf("read html part: %v", err)
			}
			found = string(b)
			return true
		}
		return false
	}
	walkEntity(e)
	return found
}

func TestSplitMultipart(t *testing.T) {
	raw := []byte(crlf("pre\n--b\nA\n--b \n\nB\n--bb\n--b--\nepi\n"))
	spans := splitMultipart(raw, 0, len(raw), "b")
	var got []string
	for _, s := range spans {
		got = append(got, string(raw[s[0]:s[1]]))
	}
	want := []string{"A", "\r\nB\r\n--bb"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("splitMultipart = %q, want %q", got, want)
	}
	if spans := splitMultipart(raw, 0, len(raw), ""); spans != nil {
		t.Errorf("splitMultipart without boundary = %v, want none", spans)
	}
	open := []byte(crlf("--b\nA\n--b\nB"))
	if spans := splitMultipart(open, 0, len(open), "b"); len(spans) != 2 || string(open[spans[1][0]:spans[1][1]]) != "B" {
		t.Errorf("splitMultipart of an unclosed body = %v, want the last part running to the end", spans)
	}
}
