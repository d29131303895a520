package mailwatch

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// Answers tells whether a reply or an automatic reply refers to a tracked
// mail: by its In-Reply-To and References, or, when it has neither, by its
// subject, sender and date. The store implements it (store.AnswersTracked).
//
// An answer that arrives while the folder is watched is handed over even
// when its threading fields name no tracked mail: its mail may be in a
// Sent folder not read yet, and the sink keeps it for a while as an
// orphan (store: track.AnswerOrphan). The answers already in a folder
// read from an empty checkpoint are not: the account's Sent folder is
// read first (awaitSent), so a mail they answer that is not tracked by
// then never will be.
type Answers interface {
	AnswersTracked(ctx context.Context, r report.Report, now time.Time) (bool, error)
}

// threadFields are fetched for every message of a report folder, on top
// of report.LikelyFields, when replies are looked for: the threading
// fields that say which mail a message answers. The fields that tell a
// reply from an automatic reply (report.ReplyFields) are fetched only for
// the few messages that answer a tracked mail: every field asked for is
// echoed in the server's answer for every message.
var threadFields = []string{"In-Reply-To", "References"}

// answerFields are what a message that answers a tracked mail is read
// from: report.LikelyFields and report.ReplyFields.
var answerFields = append(append([]string{}, report.LikelyFields...), report.ReplyFields...)

// readAnswer decides, from the fields fetched for every message, whether
// a message that is no likely report may answer a tracked mail (or, having
// arrived while watched, a mail not registered yet: see Answers), and only
// then reads the fields that say what it is. A reply needs nothing more:
// its header says who answered what, and when. An automatic reply is
// fetched whole (within MaxMessageBytes) for the date its text gives.
// Everything else is left unread.
func (f *folderWatch) readAnswer(ctx context.Context, c *imapclient.Client, it Item, h head) (Item, error) {
	rs := f.parseHeader(it, h.header)
	if len(rs) != 1 || !track.IsAnswer(rs[0]) {
		return it, nil
	}
	ok, err := f.w.opts.Answers.AnswersTracked(ctx, rs[0], f.w.opts.Now())
	if err != nil {
		return it, fmt.Errorf("look up answered mail of uid %d: %w", h.uid, err)
	}
	if !ok && (h.uid < f.liveFrom || len(track.AnswerRefs(rs[0])) == 0) {
		return it, nil
	}
	hdr, err := f.fetchFields(c, h.uid, answerFields)
	if err != nil || hdr == nil {
		return it, err
	}
	rs = f.parseHeader(it, hdr)
	if len(rs) != 1 || !track.IsAnswer(rs[0]) {
		return it, nil // mailing-list or bulk mail after all
	}
	if rs[0].Kind == report.KindReply {
		it.Reports = rs
		return it, nil
	}
	raw, err := f.fetchBody(c, h)
	if err != nil {
		return it, err
	}
	return f.process(it, raw), nil
}

// fetchFields fetches the named header fields of one message; nil when it
// was expunged meanwhile.
func (f *folderWatch) fetchFields(c *imapclient.Client, uid uint32, fields []string) ([]byte, error) {
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: fields, Peek: true}
	var bufs []*imapclient.FetchMessageBuffer
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		bufs, err = c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		return err
	})
	if err != nil {
		return nil, temporary(fmt.Errorf("fetch header fields of uid %d: %w", uid, err))
	}
	for _, b := range bufs {
		if uint32(b.UID) == uid {
			return b.FindBodySection(section), nil
		}
	}
	return nil, nil
}

// parseHeader reads header fields as report.Parse does. A header that
// cannot be read, or whose reading panics, is no answer: the message is
// left alone, as any other the watcher has no use for.
func (f *folderWatch) parseHeader(it Item, hdr []byte) (rs []report.Report) {
	defer func() {
		if f.w.opts.DontRecover {
			return
		}
		if r := recover(); r != nil {
			f.log.Error("reading header fields panicked: message left alone", "uid", it.UID, "panic", r, "stack", string(debug.Stack()))
			rs = nil
		}
	}()
	rs, err := f.w.parse(hdr)
	if err != nil {
		return nil
	}
	return rs
}
