package mailwatch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

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

// searchSession is an in-memory IMAP session that counts SEARCH commands
// and refuses them when refuse is set, as a server might that declares
// I18NLEVEL yet rejects a criterion.
type searchSession struct {
	imapserver.Session
	refuse   bool
	searches *atomic.Int32
}

func (s *searchSession) Search(kind imapserver.NumKind, c *imap.SearchCriteria, o *imap.SearchOptions) (*imap.SearchData, error) {
	s.searches.Add(1)
	if s.refuse {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "search too complex"}
	}
	return s.Session.Search(kind, c, o)
}

// TestPrefilterRefused: a server that declares I18NLEVEL=1 but refuses the
// search for candidates is read message by message instead, and no report
// is lost; one that accepts it is searched.
func TestPrefilterRefused(t *testing.T) {
	for _, refuse := range []bool{true, false} {
		t.Run(fmt.Sprintf("refuse=%v", refuse), func(t *testing.T) {
			mem := imapmemserver.New()
			u := imapmemserver.NewUser("alice", "pass")
			for _, f := range []string{"INBOX", "Sent"} {
				if err := u.Create(f, nil); err != nil {
					t.Fatal(err)
				}
			}
			mem.AddUser(u)
			g := newMailGen(11, "alice@test.example")
			for i := range 99 {
				m := g.message(false)
				if _, err := u.Append("INBOX", bytes.NewReader(m.raw), &imap.AppendOptions{}); err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
			}
			mdn := mailstack.MDN("sent-1@test.example", "bob@partner.example", "alice@test.example", 1)
			if _, err := u.Append("INBOX", strings.NewReader(mdn), &imap.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
			var searches atomic.Int32
			srv := imapserver.New(&imapserver.Options{
				NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
					return &searchSession{Session: mem.NewSession(), refuse: refuse, searches: &searches}, nil, nil
				},
				Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
				InsecureAuth: true,
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			acct := Account{Name: "alice", Addr: ln.Addr().String(), TLS: TLSInsecure, Username: "alice", Password: "pass", Owner: "alice@test.example",
				SentFolder: "Sent", PollInterval: time.Hour}
			sink := newMemSink()
			opts := Options{Sink: sink, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), DontRecover: true}
			w, err := New([]Account{acct}, opts)
			if err != nil {
				t.Fatal(err)
			}
			// The in-memory server cannot declare I18NLEVEL; its search
			// matches substrings in any case, as RFC 9051 asks.
			w.searchable = func(imap.CapSet) bool { return true }
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { w.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			sink.waitFor(t, "the inbox read to its last message", 30*time.Second, func([]Item) bool {
				return sink.cps["alice/INBOX"].LastUID >= 100
			})
			rs := reportsOf(sink.snapshot())
			if len(rs) != 1 || rs[0].Kind != report.KindMDN || rs[0].OriginalMessageID != "sent-1@test.example" {
				t.Errorf("reports = %+v, want the read receipt for sent-1@test.example", rs)
			}
			if n := searches.Load(); n != 1 {
				t.Errorf("%d searches, want 1 (the first window; refused, never asked again)", n)
			}
		})
	}
}
