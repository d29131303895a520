package mailwatch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// BenchmarkCatchUpAnswers measures what looking for replies costs on
// catch-up: a mailbox of 20,000 ordinary messages (a third of the personal
// ones replies in threads the owner never tracked) with 100 reports, 200
// replies to tracked mail (150 with threading headers, a quarter of them
// with an attachment, and 50 carrier replies with only a "Re:" subject)
// and 50 automatic replies (Exchange out-of-office notices and Japanese
// groupware notices without Auto-Submitted). It prints the bytes the
// watcher received against the bytes it needs, defined as before the
// server's SEARCH narrowed the windows (the header fields of every message
// and, for the answers, the fields that tell what they are; the reports
// and automatic replies whole), and against the bytes strictly needed
// (the reports and automatic replies whole, the replies' header fields).
// Next to it: the same watcher fetching the fields of every message, a
// watcher that looks for reports only on this mailbox, and one that
// fetches every message's fields on the same mailbox without the answers.
//
//	go test ./mailwatch -run '^$' -bench CatchUpAnswers -benchtime 1x
func BenchmarkCatchUpAnswers(b *testing.B) {
	s := mailstack.Start(b)
	mb := loadAnswerMailbox(b, s, "carol", 20000, 100, 200, 50, 3)
	plain := loadAnswerMailbox(b, s, "bob", 20000, 100, 0, 0, 3)
	for b.Loop() {
		// The first pass reads Dovecot's files cold; the others find the
		// header fields in its cache and the files in the page cache.
		cold := measureAnswerCatchUp(b, s, mb, true, false)
		with := measureAnswerCatchUp(b, s, mb, true, true)
		withFetch := measureAnswerCatchUp(b, s, mb, true, false)
		without := measureAnswerCatchUp(b, s, mb, false, true)
		before := measureAnswerCatchUp(b, s, plain, false, false)
		needBefore := plain.reportBytes + plain.likelyFieldBytes
		needWith := mb.reportBytes + mb.autoBytes + mb.answerFieldBytes
		needWithout := mb.reportBytes + mb.likelyFieldBytes
		strict := mb.reportBytes + mb.autoBytes + mb.replyFieldBytes
		b.Logf("mailbox of %d messages (%.1f MiB): %d ordinary, %d reports, %d replies to tracked mail (%d without threading headers), %d automatic replies",
			mb.n, mib(mb.bytes), mb.n-mb.reports-mb.replies-mb.autos, mb.reports, mb.replies, mb.carrier, mb.autos)
		b.Logf("looking for replies, candidates found by SEARCH: %.2f MiB received / (%.2f MiB reports + %.2f MiB automatic replies + %.2f MiB header fields of every message and the answers) = %.4fx (goal <= 1.3x: %s); %d reports, %d replies, %d automatic replies handed over in %.1f s",
			mib(with.bytes), mib(mb.reportBytes), mib(mb.autoBytes), mib(mb.answerFieldBytes), float64(with.bytes)/float64(needWith),
			goal(float64(with.bytes) <= 1.3*float64(needWith)), with.reports, with.replies, with.autos, with.wall.Seconds())
		b.Logf("  the same against the bytes strictly needed (reports and automatic replies whole, the replies' header fields; no field of any other message): %.2f MiB received / %.2f MiB = %.4fx",
			mib(with.bytes), mib(strict), float64(with.bytes)/float64(strict))
		b.Logf("looking for replies, header fields of every message fetched (no SEARCH, as before): %.2f MiB received / %.2f MiB = %.4fx; strictly: %.4fx; in %.1f s",
			mib(withFetch.bytes), mib(needWith), float64(withFetch.bytes)/float64(needWith), float64(withFetch.bytes)/float64(strict), withFetch.wall.Seconds())
		rest := withFetch.bytes - needWith - mb.lookalikeBytes
		b.Logf("  of which beyond what is needed: %.2f MiB of ordinary messages report.Likely cannot rule out (fetched whole), %.2f MiB IMAP framing (%.0f bytes a message: each FETCH answer repeats the UID, the size and the field list)",
			mib(mb.lookalikeBytes), mib(rest), float64(rest)/float64(mb.n))
		b.Logf("reports only, candidates found by SEARCH: %.2f MiB received / (%.2f MiB reports + %.2f MiB examined header fields) = %.4fx; %d reports, %d replies, %d automatic replies handed over in %.1f s",
			mib(without.bytes), mib(mb.reportBytes), mib(mb.likelyFieldBytes), float64(without.bytes)/float64(needWithout),
			without.reports, without.replies, without.autos, without.wall.Seconds())
		b.Logf("the same mailbox without the answers, reports only, no SEARCH (the figure before replies): %.2f MiB received / (%.2f MiB reports + %.2f MiB examined header fields) = %.4fx in %.1f s",
			mib(before.bytes), mib(plain.reportBytes), mib(plain.likelyFieldBytes), float64(before.bytes)/float64(needBefore), before.wall.Seconds())
		b.Logf("times: %.1f s with SEARCH, %.1f s without (%.1f s for the first pass, cold, without); timings at %s", with.wall.Seconds(), withFetch.wall.Seconds(), cold.wall.Seconds(), machineLoad())
		b.Logf("the replies' bodies the watcher did not fetch: %.2f MiB; AnswersTracked asked %d times with SEARCH, %d without", mib(mb.replyBodyBytes), with.asked, withFetch.asked)
		b.ReportMetric(float64(with.bytes)/float64(needWith), "bytes/needed")
		b.ReportMetric(float64(with.bytes)/float64(strict), "bytes/strictly-needed")
		b.ReportMetric(float64(withFetch.bytes)/float64(needWith), "no-search-bytes/needed")
		b.ReportMetric(float64(without.bytes)/float64(needWithout), "reports-only-bytes/needed")
		b.ReportMetric(float64(before.bytes)/float64(needBefore), "no-answers-bytes/needed")
	}
}

// answerMailbox is a generated mailbox with answers, as stored.
type answerMailbox struct {
	user                          string
	n, reports, replies, autos    int
	carrier                       int
	tracked                       *trackedIDs
	bytes, reportBytes, autoBytes int64
	// answerFieldBytes: report.LikelyFields and threadFields of every
	// message and answerFields of each answer, with the blank lines.
	answerFieldBytes int64
	likelyFieldBytes int64 // report.LikelyFields of every message, likewise
	replyFieldBytes  int64 // answerFields of the replies to tracked mail alone
	replyBodyBytes   int64 // what the replies hold beyond their header fields
	lookalikeBytes   int64 // ordinary messages report.Likely cannot rule out, fetched whole
}

// loadAnswerMailbox writes n ordinary messages with reports, replies and
// automatic replies among them into user's INBOX.
func loadAnswerMailbox(b *testing.B, s *mailstack.Stack, user string, n, reports, replies, autos int, seed uint64) *answerMailbox {
	b.Helper()
	g := newMailGen(seed, s.Address(user))
	total := n + reports + replies + autos
	mb := &answerMailbox{user: user, n: total, reports: reports, replies: replies, autos: autos,
		tracked: &trackedIDs{ids: map[string]bool{}, subjects: map[string]bool{}}}
	kinds := make([]byte, total) // 0 ordinary, 'd' report, 'r' reply, 'a' automatic reply
	perm := g.rng.Perm(total)
	for i, p := range perm[:reports+replies+autos] {
		switch {
		case i < reports:
			kinds[p] = 'd'
		case i < reports+replies:
			kinds[p] = 'r'
		default:
			kinds[p] = 'a'
		}
	}
	firstSet, answerSet, likelySet := fieldSet(append(append([]string{}, report.LikelyFields...), threadFields...)), fieldSet(answerFields), fieldSet(report.LikelyFields)
	write := maildirWriter(b, s, user)
	for i, k := range kinds {
		var m genMessage
		switch k {
		case 'd':
			m = g.report()
		case 'r':
			m = g.trackedReply(mb)
		case 'a':
			m = g.autoReply(mb)
		default:
			m = g.message(false)
		}
		delivered := append(deliveryFields(m.sender, s.Address(user), g.date), m.raw...)
		if err := write(i, delivered, time.Time{}); err != nil {
			b.Fatalf("store message %d: %v", i+1, err)
		}
		size := int64(len(delivered))
		mb.bytes += size
		mb.answerFieldBytes += int64(headerFieldBytes(delivered, firstSet) + 2)
		af := int64(headerFieldBytes(delivered, answerSet) + 2)
		if k == 'r' || k == 'a' {
			mb.answerFieldBytes += af // read a second time, all answer fields
		}
		mb.likelyFieldBytes += int64(headerFieldBytes(delivered, likelySet) + 2)
		switch k {
		case 'd':
			mb.reportBytes += size
		case 'a':
			mb.autoBytes += size
		case 'r':
			mb.replyBodyBytes += size - af
			mb.replyFieldBytes += af
		case 0:
			if report.Likely(delivered[:bytes.Index(delivered, []byte("\r\n\r\n"))+4]) {
				mb.lookalikeBytes += size
			}
		}
	}
	c := s.Login(b, user)
	defer c.Close()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != uint32(total) {
		b.Fatalf("select INBOX of %s: %v (%d messages, want %d)", user, err, sel.NumMessages, total)
	}
	return mb
}

func fieldSet(names []string) map[string]bool {
	out := map[string]bool{}
	for _, f := range names {
		out[strings.ToLower(f)] = true
	}
	return out
}

// trackedMail makes up a mail the owner sent and mailack tracks.
func (g *mailGen) trackedMail(mb *answerMailbox) (id, subject, rcpt string) {
	_, rcpt = g.person()
	id = g.msgID("test.example")
	subject = fmt.Sprintf("%s (%d)", g.pick(benchSubjects[:10]), g.seq)
	mb.tracked.ids[id] = true
	mb.tracked.subjects[track.NormalizeSubject(subject)] = true
	return id, subject, rcpt
}

// trackedReply is a person's reply to a tracked mail: as Outlook writes it,
// a quarter with an attachment, or one in four as a carrier writes it,
// without threading headers.
func (g *mailGen) trackedReply(mb *answerMailbox) genMessage {
	id, subject, rcpt := g.trackedMail(mb)
	domain := rcpt[strings.IndexByte(rcpt, '@')+1:]
	date := g.nextDate()
	h := g.trace(domain, g.owner, date) + fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: RE: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n", rcpt, g.owner, subject, date, g.msgID(domain))
	if g.rng.IntN(4) == 0 {
		mb.carrier++
		return genMessage{sender: rcpt, raw: []byte(h + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n" + g.text(300))}
	}
	h += fmt.Sprintf("Thread-Topic: %s\r\nThread-Index: AQHb%s\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\nMIME-Version: 1.0\r\n", subject, g.b64(18), id, id)
	ct, body := g.html(4<<10 + g.rng.IntN(8<<10))
	if g.rng.IntN(4) == 0 {
		bnd := fmt.Sprintf("mixed-%016x", g.rng.Uint64())
		body = fmt.Sprintf("--%s\r\nContent-Type: %s\r\n\r\n%s--%s\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--%s--\r\n",
			bnd, ct, body, bnd, g.attachment(50<<10+g.rng.IntN(150<<10)), bnd)
		ct = fmt.Sprintf("multipart/mixed; boundary=\"%s\"", bnd)
	}
	return genMessage{sender: rcpt, raw: []byte(h + "Content-Type: " + ct + "\r\n\r\n" + body)}
}

// autoReply is an out-of-office notice about a tracked mail: Exchange's,
// or a Japanese groupware's without Auto-Submitted.
func (g *mailGen) autoReply(mb *answerMailbox) genMessage {
	id, subject, rcpt := g.trackedMail(mb)
	domain := rcpt[strings.IndexByte(rcpt, '@')+1:]
	date := g.nextDate()
	h := g.trace(domain, g.owner, date) + fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nDate: %s\r\nMessage-ID: <%s>\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\nMIME-Version: 1.0\r\n",
		rcpt, g.owner, date, g.msgID(domain), id, id)
	if g.rng.IntN(2) == 0 {
		h += fmt.Sprintf("Subject: Automatic reply: %s\r\nAuto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\n", subject)
		return genMessage{sender: rcpt, raw: []byte(h + "I am out of the office until Monday, March 16 with limited access to e-mail.\r\n")}
	}
	h += "Subject: =?UTF-8?B?5LiN5Zyo6YCa55+l?=\r\nPrecedence: bulk\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n"
	return genMessage{sender: rcpt, raw: []byte(h + "3/9〜3/13 出張のため不在です。3/16より順次対応いたします。\r\n")}
}

// answerFigures are what one catch-up of an answer mailbox measured.
type answerFigures struct {
	wall                    time.Duration
	bytes                   int64
	reports, replies, autos int
	asked                   int
}

// answerSink counts the reports, replies and automatic replies applied.
type answerSink struct {
	*benchSink
	kinds map[report.Kind]int // guarded by benchSink.mu
}

func (s *answerSink) Apply(ctx context.Context, it Item) error {
	s.mu.Lock()
	for _, r := range it.Reports {
		s.kinds[r.Kind]++
	}
	s.mu.Unlock()
	return s.benchSink.Apply(ctx, it)
}

// measureAnswerCatchUp reads the mailbox from the start with a watcher
// that looks for answers, or one that does not, narrowing its windows by
// SEARCH or fetching the header fields of every message, and checks what
// it found.
func measureAnswerCatchUp(b *testing.B, s *mailstack.Stack, mb *answerMailbox, answers, search bool) answerFigures {
	b.Helper()
	acct := account(s, mb.user)
	acct.TLS, acct.TLSConfig = TLSInsecure, nil
	sink := &answerSink{benchSink: newBenchSink(), kinds: map[report.Kind]int{}}
	idx := &trackedIDs{ids: mb.tracked.ids, subjects: mb.tracked.subjects}
	opts := Options{Sink: sink, Logger: slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})), DontRecover: true}
	if answers {
		opts.Answers = idx
	}
	w, err := New([]Account{acct}, opts)
	if err != nil {
		b.Fatal(err)
	}
	if !search {
		w.searchable = func(imap.CapSet) bool { return false }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { w.Run(ctx); close(done) }()
	key := acct.Name + "/INBOX"
	ok := sink.await(5*time.Minute, func() bool { return sink.cps[key].LastUID >= uint32(mb.n) })
	f := answerFigures{wall: time.Since(start), bytes: w.BytesRead()}
	cancel()
	<-done
	if !ok {
		b.Fatalf("catch-up of %s: checkpoint not at UID %d after 5 min", mb.user, mb.n)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	f.reports = sink.kinds[report.KindDSN] + sink.kinds[report.KindMDN]
	f.replies, f.autos = sink.kinds[report.KindReply], sink.kinds[report.KindAutoReply]
	idx.mu.Lock()
	f.asked = idx.asked
	idx.mu.Unlock()
	if f.reports < mb.reports {
		b.Fatalf("catch-up found %d reports, want at least %d", f.reports, mb.reports)
	}
	if answers && (f.replies != mb.replies || f.autos != mb.autos) {
		b.Fatalf("catch-up handed over %d replies and %d automatic replies, want %d and %d", f.replies, f.autos, mb.replies, mb.autos)
	}
	return f
}
