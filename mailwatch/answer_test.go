package mailwatch

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// trackedIDs answers AnswersTracked from a set of tracked Message-IDs and
// subjects, as the store does from its indexes, and counts the questions.
type trackedIDs struct {
	mu       sync.Mutex // guards asked
	ids      map[string]bool
	subjects map[string]bool // normalised subjects, for answers without threading headers
	asked    int
}

func (x *trackedIDs) AnswersTracked(_ context.Context, r report.Report, _ time.Time) (bool, error) {
	x.mu.Lock()
	x.asked++
	x.mu.Unlock()
	refs := track.AnswerRefs(r)
	for _, id := range refs {
		if x.ids[id] {
			return true, nil
		}
	}
	return len(refs) == 0 && x.subjects[track.NormalizeSubject(r.Subject)], nil
}

// TestWatcherReadsAnswers puts replies and automatic replies among ordinary
// mail in a Dovecot inbox and checks that the watcher hands over those
// that answer tracked mail, reads a reply's header only (its 1 MiB
// attachment is never fetched), and fetches an automatic reply without
// Auto-Submitted whole for its date.
func TestWatcherReadsAnswers(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	defer c.Close()
	big := strings.Repeat(strings.Repeat("QUJD", 19)+"\r\n", (1<<20)/78)
	msgs := []string{
		// A reply to tracked mail, with a large attachment.
		"From: Bob <bob@partner.example>\r\nTo: alice@test.example\r\nSubject: RE: Quote\r\nDate: Wed, 2 Dec 2026 10:00:00 +0900\r\n" +
			"Message-ID: <re1@partner.example>\r\nIn-Reply-To: <q1@test.example>\r\nReferences: <q1@test.example>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAgreed.\r\n--b\r\n" +
			"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big + "--b--\r\n",
		// A reply in someone else's thread.
		"From: Carol <carol@else.example>\r\nTo: alice@test.example\r\nSubject: Re: Lunch\r\nDate: Wed, 2 Dec 2026 10:01:00 +0900\r\n" +
			"Message-ID: <re2@else.example>\r\nIn-Reply-To: <lunch@else.example>\r\n\r\nSure.\r\n",
		// A new conversation.
		"From: Dan <dan@partner.example>\r\nTo: alice@test.example\r\nSubject: Hello\r\nDate: Wed, 2 Dec 2026 10:02:00 +0900\r\n" +
			"Message-ID: <new@partner.example>\r\n\r\nHi.\r\n",
		// A carrier reply without threading headers, by subject.
		"From: yamada@docomo.example\r\nTo: alice@test.example\r\nSubject: Re: Quote\r\nDate: Wed, 2 Dec 2026 10:03:00 +0900\r\n" +
			"Message-ID: <m1@docomo.example>\r\n\r\nOK.\r\n",
		// A groupware out-of-office notice: Precedence bulk, no Auto-Submitted.
		"From: Kato <kato@partner.example>\r\nTo: alice@test.example\r\nSubject: =?UTF-8?B?5LiN5Zyo6YCa55+l?=\r\nDate: Wed, 2 Dec 2026 10:04:00 +0900\r\n" +
			"Message-ID: <oof@gw.partner.example>\r\nIn-Reply-To: <q1@test.example>\r\nPrecedence: bulk\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n12/1〜12/4 出張のため不在です。\r\n",
	}
	for _, m := range msgs {
		mailstack.Append(t, c, "INBOX", m)
	}
	idx := &trackedIDs{ids: map[string]bool{"q1@test.example": true}, subjects: map[string]bool{"quote": true}}
	sink := newMemSink()
	acct := account(s, "alice")
	w, err := New([]Account{acct}, Options{Sink: sink, Answers: idx, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), DontRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	sink.waitFor(t, "the inbox read to its last message", 30*time.Second, func([]Item) bool {
		return sink.cps["alice/INBOX"].LastUID >= uint32(len(msgs))
	})
	var got []string
	for _, r := range reportsOf(sink.snapshot()) {
		got = append(got, string(r.Kind)+" "+r.Recipient+" "+string(r.AutoReply)+" "+dateOnly(r.AwayUntil))
	}
	want := []string{"reply bob@partner.example  ", "reply yamada@docomo.example  ", "autoreply kato@partner.example away 2026-12-04"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("answers handed over = %q, want %q", got, want)
	}
	if n := w.BytesRead(); n > 256<<10 {
		t.Errorf("watcher received %d bytes, want far less than the 1 MiB attachment of the reply", n)
	}
	idx.mu.Lock()
	asked := idx.asked
	idx.mu.Unlock()
	if asked != 4 {
		t.Errorf("AnswersTracked asked %d times, want 4 (every reply and automatic reply, not the new conversation)", asked)
	}
}

func dateOnly(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// TestWatcherAnswerHeaderPanic: a reply whose header fields make the reader
// panic is left alone, and the reply after it is still handed over.
func TestWatcherAnswerHeaderPanic(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	defer c.Close()
	for _, id := range []string{"poison", "after"} {
		mailstack.Append(t, c, "INBOX", "From: Bob <bob@partner.example>\r\nTo: alice@test.example\r\nSubject: Re: Quote\r\n"+
			"Date: Wed, 2 Dec 2026 10:00:00 +0900\r\nMessage-ID: <"+id+"@partner.example>\r\nIn-Reply-To: <q1@test.example>\r\n\r\nOK.\r\n")
	}
	sink := newMemSink()
	idx := &trackedIDs{ids: map[string]bool{"q1@test.example": true}}
	w, err := New([]Account{account(s, "alice")}, Options{Sink: sink, Answers: idx, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.parse = func(raw []byte) ([]report.Report, error) {
		if strings.Contains(string(raw), "poison@") {
			panic("parser bug")
		}
		return report.Parse(raw)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	sink.waitFor(t, "the inbox read to its last message", 30*time.Second, func([]Item) bool { return sink.cps["alice/INBOX"].LastUID >= 2 })
	rs := reportsOf(sink.snapshot())
	if len(rs) != 1 || rs[0].ReportMessageID != "after@partner.example" {
		t.Errorf("answers handed over = %+v, want only the reply after the poison one", rs)
	}
}

// TestWatcherHandsOverLiveUntrackedReplies: a reply naming a mail that is
// not tracked is handed over when it arrives while the folder is watched
// (its mail may not be registered yet), and not when it was in the folder
// before the first read, nor when it names no Message-ID at all.
func TestWatcherHandsOverLiveUntrackedReplies(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	defer c.Close()
	reply := func(id, inReplyTo, subject string) string {
		m := "From: Bob <bob@partner.example>\r\nTo: alice@test.example\r\nSubject: " + subject + "\r\nDate: Wed, 2 Dec 2026 10:00:00 +0900\r\n" +
			"Message-ID: <" + id + "@partner.example>\r\n"
		if inReplyTo != "" {
			m += "In-Reply-To: <" + inReplyTo + ">\r\n"
		}
		return m + "\r\nOK.\r\n"
	}
	mailstack.Append(t, c, "INBOX", reply("old", "q-old@test.example", "Re: Old quote"))
	sink := newMemSink()
	idx := &trackedIDs{ids: map[string]bool{}, subjects: map[string]bool{}}
	_, stop := startWatcher(t, sink, Options{Answers: idx}, account(s, "alice"))
	defer stop()
	sink.waitFor(t, "the message already there read", 30*time.Second, func([]Item) bool {
		return sink.cps["alice/INBOX"].LastUID >= 1
	})
	mailstack.Append(t, c, "INBOX", reply("live", "q-new@test.example", "Re: New quote"))
	mailstack.Append(t, c, "INBOX", reply("nothread", "", "Re: New quote"))
	sink.waitFor(t, "the inbox read to its third message", 30*time.Second, func([]Item) bool {
		return sink.cps["alice/INBOX"].LastUID >= 3
	})
	var got []string
	for _, r := range reportsOf(sink.snapshot()) {
		got = append(got, string(r.Kind)+" "+r.ReportMessageID+" "+r.OriginalMessageID)
	}
	if want := []string{"reply live@partner.example q-new@test.example"}; !slices.Equal(got, want) {
		t.Errorf("answers handed over = %q, want %q", got, want)
	}
}
