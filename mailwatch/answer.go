package mailwatch

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// Answers tells whether a reply or an automatic reply refers to a tracked
// mail: by its In-Reply-To and References, or, when it has neither, by its
// subject, sender and date. The store implements it (store.AnswersTracked).
type Answers interface {
	AnswersTracked(ctx context.Context, r report.Report, now time.Time) (bool, error)
}

// answerFields are the header fields fetched for every message of a
// report folder when replies are looked for: those report.Likely reads and
// those the reply decision reads.
var answerFields = append(append([]string{}, report.LikelyFields...), report.ReplyFields...)

// readAnswer decides from the header fields alone whether a message that
// is no likely report answers a tracked mail. A reply needs nothing more:
// its header says who answered what, and when. An automatic reply is
// fetched whole (within MaxMessageBytes) for the date its text gives.
// Everything else is left unread.
func (f *folderWatch) readAnswer(ctx context.Context, c *imapclient.Client, it Item, h head) (Item, error) {
	rs, err := f.w.parse(h.header)
	if err != nil || len(rs) != 1 || !track.IsAnswer(rs[0]) {
		return it, nil
	}
	ok, err := f.w.opts.Answers.AnswersTracked(ctx, rs[0], f.w.opts.Now())
	if err != nil {
		return it, fmt.Errorf("look up answered mail of uid %d: %w", h.uid, err)
	}
	if !ok {
		return it, nil
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
