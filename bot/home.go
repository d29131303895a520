package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

const (
	// maxHomeMails is how many mails App Home lists; a home view holds at
	// most 100 blocks and each mail takes three.
	maxHomeMails = 25
	// maxSummaryRecipients is how many recipients a mail's summary names.
	maxSummaryRecipients = 5
)

// publishHome shows a user's open tracked mails on their App Home tab,
// with the same buttons as the cards, and notice (the answer to what they
// just did there) at the top when not empty.
func (b *Bot) publishHome(ctx context.Context, pace pacer, user string, notice ...string) error {
	l, _, err := b.userLocale(ctx, user)
	if err != nil {
		return err
	}
	mails, err := b.ownMails(ctx, user, false)
	if err != nil {
		return err
	}
	nudges := make([][]string, min(len(mails), maxHomeMails))
	for i := range nudges {
		nudges[i] = nudgeList(mails[i], b.nudgeable(ctx, mails[i], false))
	}
	blocks := homeBlocks(mails, nudges, l)
	if len(notice) > 0 && notice[0] != "" {
		blocks = withNotice(blocks, notice[0], l)
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
	return b.call(ctx, pace, func(ctx context.Context) error {
		_, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return wrap(err, "views.publish")
	})
}

// withNotice puts notice, mrkdwn, under App Home's title.
func withNotice(blocks []slack.Block, notice string, l locale) []slack.Block {
	note := section(l.t(msgHomeNotice, notice))
	return append(blocks[:1:1], append([]slack.Block{note}, blocks[1:]...)...)
}

// nudgeList lists, in recipient order, the recipients of m that nudge
// holds, at most maxActionNudges.
func nudgeList(m track.Mail, nudge map[string]bool) []string {
	var out []string
	for _, r := range m.Recipients {
		if nudge[r.Address] && len(out) < maxActionNudges {
			out = append(out, r.Address)
		}
	}
	return out
}

// homeBlocks renders App Home: a summary and the buttons of each mail,
// with nudges[i] the recipients of mails[i] that may be nudged. It keeps
// within a view's 100 blocks (a notice may be added after the title).
func homeBlocks(mails []track.Mail, nudges [][]string, l locale) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip(l.t(msgHomeTitle), maxHeader))),
		slack.NewContextBlock("", mrkdwn(esc(l.t(msgHomeHint)))),
	}
	if len(mails) == 0 {
		return append(blocks, section(esc(l.t(msgListEmpty))))
	}
	for i, m := range mails {
		if i == maxHomeMails {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(l.t(msgListMore, len(mails)-i))))
			break
		}
		blocks = append(blocks, slack.NewDividerBlock(), section(mailSummary(m, l)))
		if a := actionsBlock(m, l, nudges[i], ""); a != nil {
			blocks = append(blocks, a)
		}
	}
	return blocks
}

// mailSummary is a mail in a few lines: subject, state and recipients.
func mailSummary(m track.Mail, l locale) string {
	lines := []string{"*" + subjectText(m, l) + "*", stateLine(m, l)}
	for i, r := range m.Recipients {
		if i == maxSummaryRecipients {
			lines = append(lines, l.t(msgMoreRecipients, len(m.Recipients)-i))
			break
		}
		lines = append(lines, statusIcons[r.Status]+" "+who(r)+" — "+statusText(r, l))
	}
	return clipLines(strings.Join(lines, "\n"), maxSectionText)
}

// ownMails returns the mails sent from any of user's addresses, newest
// first: the open ones, and with closed also those done or stopped.
func (b *Bot) ownMails(ctx context.Context, user string, closed bool) ([]track.Mail, error) {
	addrs, err := b.dir.addresses(ctx, user)
	if err != nil {
		return nil, err
	}
	return b.mailsOf(ctx, addrs, closed)
}

// mailsOf returns the mails of the senders, newest first.
func (b *Bot) mailsOf(ctx context.Context, senders []string, closed bool) ([]track.Mail, error) {
	limit := 0 // open mails are few; closed ones are kept for months
	if closed {
		limit = 200
	}
	var out []track.Mail
	for _, a := range senders {
		ms, err := b.deps.Mails.SenderMails(ctx, a, closed, limit)
		if err != nil {
			return nil, fmt.Errorf("mails of %s: %w", a, err)
		}
		out = append(out, ms...)
	}
	slices.SortStableFunc(out, func(x, y track.Mail) int { return cmp.Compare(y.SentAt.UnixNano(), x.SentAt.UnixNano()) })
	return out, nil
}
