package mailwatch

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// prefilterEdgeCases are headers that test each search term where servers
// may differ from the reader: the null reverse-path written two ways,
// encoded and raw Japanese subjects, full-width and counted reply
// prefixes, a daemon sender in another case.
var prefilterEdgeCases = []string{
	"Return-Path: <>\r\nFrom: someone@partner.example\r\nSubject: hello\r\n",
	"Return-Path: \r\nFrom: someone@partner.example\r\nSubject: hello\r\n",
	"From: MAILER-DAEMON@mx.partner.example\r\nSubject: hello\r\n",
	"From: \"Mail Delivery System\" <mds@mx.partner.example>\r\nSubject: hello\r\n",
	"From: =?UTF-8?B?44Oh44O844Or6YWN6YCB44K344K544OG44Og?= <postmaster@partner.example>\r\nSubject: x\r\n",
	"From: a@partner.example\r\nSubject: =?ISO-2022-JP?B?GyRCRy5DIyQ3JF4kNyQ/GyhC?=\r\n",
	"From: a@partner.example\r\nSubject: \x1b$BITC#\x1b(B: quote\r\n",
	"From: a@partner.example\r\nSubject: =?Shift_JIS?B?lNSQTTogjKmQz4+R?=\r\n",
	"From: a@partner.example\r\nSubject: ＲＥ：見積書の件\r\n",
	"From: a@partner.example\r\nSubject: Re[3]: quote\r\n",
	"From: a@partner.example\r\nSubject: RE  : devis\r\n",
	"From: a@partner.example\r\nSubject: Re^2: quote\r\n",
	"From: a@partner.example\r\nSubject: =?UTF-8?B?6L+U5L+hOiDopovnqY3mm7jjga7ku7Y=?=\r\n",
	"From: a@partner.example\r\nSubject: AW: Angebot\r\n",
	"From: a@partner.example\r\nSubject: Taro Suzuki is out of the office.\r\n",
	"From: a@partner.example\r\nSubject: quote\r\nIn-Reply-To: <x@test.example>\r\n",
	"From: a@partner.example\r\nSubject: quote\r\nReferences: <x@test.example>\r\n",
	"From: a@partner.example\r\nSubject: quote\r\nAuto-Submitted: auto-replied\r\n",
	"From: a@partner.example\r\nSubject: quote\r\nX-Failed-Recipients: b@partner.example\r\n",
	"From: a@partner.example\r\nSubject: quote\r\nContent-Type: Multipart/Report; report-type=delivery-status; boundary=x\r\n",
	"From: a@partner.example\r\nSubject: Undeliverable: quote\r\n",
	"From: a@partner.example\r\nSubject: =?UTF-8?B?6YWN5L+h44Ko44Op44O8?=\r\n",
	"From: a@partner.example\r\nSubject: 開封済み：見積書\r\n",
	"From: owner-list@lists.partner.example\r\nSubject: x\r\n",
}

// prefilterMessages returns the messages the prefilter test stores: the
// shared corpus, the reader's golden files, the edge cases and a stretch of
// the benchmarks' ordinary mail (replies in other people's threads,
// newsletters, shop receipts).
func prefilterMessages(t *testing.T) [][]byte {
	t.Helper()
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*.eml"))
	if len(corpus) == 0 {
		abs, _ := filepath.Abs(filepath.Join("..", "..", "shared", "corpus"))
		t.Skipf("report corpus not found at %s", abs)
	}
	golden, _ := filepath.Glob(filepath.Join("..", "track", "report", "testdata", "golden", "*.eml"))
	var out [][]byte
	for _, name := range append(corpus, golden...) {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, crlf(raw))
	}
	for i, h := range prefilterEdgeCases {
		out = append(out, fmt.Appendf(nil, "%sMessage-ID: <edge-%d@partner.example>\r\nDate: Wed, 2 Dec 2026 10:00:00 +0900\r\n\r\nText.\r\n", h, i))
	}
	g := newMailGen(7, "alice@test.example")
	for range 400 {
		m := g.message(false)
		out = append(out, append(deliveryFields(m.sender, "alice@test.example", time.Now()), m.raw...))
	}
	return out
}

// crlf gives raw CRLF line ends, as a message stored over IMAP has.
func crlf(raw []byte) []byte {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	return bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
}

// TestPrefilterFindsEveryCandidate stores the corpus, the golden files and
// ordinary mail in a Dovecot folder and checks that the server's search
// for report.SearchTerms finds every message the header fields fetched
// without it would let through (report.Likely, or a reply or automatic
// reply as readAnswer reads it), with and without looking for answers.
func TestPrefilterFindsEveryCandidate(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	defer c.Close()
	if !canPrefilter(c.Caps()) {
		t.Fatalf("Dovecot does not declare I18NLEVEL=1: capabilities %v", c.Caps())
	}
	msgs := prefilterMessages(t)
	const folder = "Prefilter"
	if err := c.Create(folder, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	stored := 0
	for i, m := range msgs {
		if err := appendRaw(c, folder, m); err != nil {
			t.Logf("message %d not stored by Dovecot: %v", i, err)
			continue
		}
		stored++
	}
	sel, err := c.Select(folder, nil).Wait()
	if err != nil || sel.NumMessages != uint32(stored) {
		t.Fatalf("select %s: %v (%d messages, want %d)", folder, err, sel.NumMessages, stored)
	}
	if stored < len(msgs)-5 {
		t.Fatalf("Dovecot stored %d of %d messages", stored, len(msgs))
	}
	w, err := New([]Account{account(s, "alice")}, Options{Sink: newMemSink()})
	if err != nil {
		t.Fatal(err)
	}
	all := imap.UIDSet{{Start: 1, Stop: 0}}
	for _, answers := range []bool{false, true} {
		fields := report.LikelyFields
		if answers {
			fields = append(slices.Clone(report.LikelyFields), threadFields...)
		}
		section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: fields, Peek: true}
		bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		w.opts.Answers = nil
		if answers {
			w.opts.Answers = &trackedIDs{}
		}
		f := &folderWatch{w: w, role: RoleReports, log: w.opts.Logger}
		uids, err := f.candidates(c, all, 1)
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		got := map[imap.UID]bool{}
		for _, u := range uids {
			got[u] = true
		}
		want := 0
		for _, b := range bufs {
			hdr := b.FindBodySection(section)
			if !mayMatter(w, hdr, answers) {
				continue
			}
			want++
			if !got[b.UID] {
				t.Errorf("answers %v: UID %d passes the header fields but not the search:\n%s", answers, b.UID, hdr)
			}
		}
		t.Logf("answers %v: %d of %d messages pass the header fields, the search finds %d", answers, want, len(bufs), len(got))
		if want < 300 {
			t.Errorf("answers %v: only %d messages pass the header fields; the test stores too few reports", answers, want)
		}
		if len(got) >= len(bufs) {
			t.Errorf("answers %v: the search finds every message (%d)", answers, len(got))
		}
	}
}

// mayMatter is what the watcher decides from the header fields fetched for
// every message: a likely report, or, looking for answers, a reply or an
// automatic reply whose mail it then looks up.
func mayMatter(w *Watcher, hdr []byte, answers bool) bool {
	if report.Likely(hdr) {
		return true
	}
	if !answers {
		return false
	}
	rs, err := w.parse(hdr)
	return err == nil && len(rs) == 1 && track.IsAnswer(rs[0])
}

func appendRaw(c *imapclient.Client, folder string, raw []byte) error {
	cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{})
	if _, err := cmd.Write(raw); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}
