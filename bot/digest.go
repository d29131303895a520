package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"
)

const (
	// defaultDigestLimit caps the mails of a digest when the config does not.
	defaultDigestLimit = 50
	// maxDigestSenders keeps a digest within a message's 50 blocks.
	maxDigestSenders = 45
	// maxSectionText keeps a section under Slack's 3,000 characters.
	maxSectionText = 2800
	// maxWaitingNamed is how many waiting recipients a digest line names.
	maxWaitingNamed = 3
)

// runDigests posts each configured digest on its schedule until ctx is
// cancelled, then waits for a digest being posted to finish.
func (b *Bot) runDigests(ctx context.Context) error {
	if len(b.cfg.Digests) == 0 {
		return nil
	}
	logger := cronLogger{b.log.With("part", "digests")}
	wrappers := []cron.JobWrapper{cron.SkipIfStillRunning(logger)}
	if !b.cfg.DontRecover {
		wrappers = append(wrappers, cron.Recover(logger))
	}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger), cron.WithChain(wrappers...))
	for _, d := range b.cfg.Digests {
		if _, err := c.AddFunc(d.spec(), func() { b.postDigest(ctx, d, time.Now()) }); err != nil {
			return fmt.Errorf("digest for %s: %w", d.Channel, err)
		}
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// PostDigest posts digest d as of now at once, outside its schedule (for
// a demonstration, or an operator's request). See postDigest.
func (b *Bot) PostDigest(ctx context.Context, d DigestConfig, now time.Time) {
	b.postDigest(ctx, d, now)
}

// postDigest posts the mails still unconfirmed after d.After to d's
// channel, grouped by sender. Nothing is posted when there are none. A
// failure is logged; the next digest lists the same mails again.
func (b *Bot) postDigest(ctx context.Context, d DigestConfig, now time.Time) {
	limit := d.Limit
	if limit <= 0 {
		limit = defaultDigestLimit
	}
	groups, err := b.deps.Digests.Digest(ctx, now, d.After, limit)
	if err != nil {
		b.log.Error("cannot read digest", "channel", d.Channel, "err", err)
		return
	}
	if len(groups) == 0 {
		b.log.Debug("digest: nothing waiting", "channel", d.Channel)
		return
	}
	l := locale{lang: d.Language, tz: time.UTC}
	if !l.lang.valid() {
		l.lang = b.cfg.Language
	}
	if tz, err := time.LoadLocation(d.Timezone); err == nil {
		l.tz = tz
	}
	blocks := b.digestBlocks(ctx, groups, d, l)
	err = b.call(ctx, b.limiter.Wait, func(ctx context.Context) error {
		_, _, err := b.api.PostMessageContext(ctx, d.Channel, slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(l.t(msgDigestTitle, l.span(d.After)), false))
		return wrap(err, "chat.postMessage digest")
	})
	if err != nil {
		b.log.Error("cannot post digest", "channel", d.Channel, "err", err)
		return
	}
	b.log.Info("digest posted", "channel", d.Channel, "senders", len(groups))
}

// digestBlocks renders a digest: a header and one section per sender.
func (b *Bot) digestBlocks(ctx context.Context, groups []SenderDigest, d DigestConfig, l locale) []slack.Block {
	blocks := []slack.Block{slack.NewHeaderBlock(plain(clip(l.t(msgDigestTitle, l.span(d.After)), maxHeader)))}
	for i, g := range groups {
		if i == maxDigestSenders {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(l.t(msgListMore, len(groups)-i))))
			break
		}
		text := b.senderName(ctx, g.Sender)
		for j, m := range g.Mails {
			line := digestLine(m, d.RedactSubjects, l)
			if len(text)+len(line) > maxSectionText {
				text += "\n" + l.t(msgListMore, len(g.Mails)-j)
				break
			}
			text += "\n" + line
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	return blocks
}

func digestLine(m DigestMail, redact bool, l locale) string {
	subj := esc(m.Subject)
	if redact {
		subj = "_" + l.t(msgDigestRedacted) + "_"
	} else if strings.TrimSpace(m.Subject) == "" {
		subj = l.t(msgNoSubject)
	}
	waiting := m.Waiting
	if len(waiting) > maxWaitingNamed {
		waiting = append(waiting[:maxWaitingNamed:maxWaitingNamed], fmt.Sprintf("+%d", len(m.Waiting)-maxWaitingNamed))
	}
	return l.t(msgDigestLine, subj, l.when(m.SentAt), esc(strings.Join(waiting, ", ")))
}

// senderName mentions a sender who has a Slack user, else names the
// address.
func (b *Bot) senderName(ctx context.Context, sender string) string {
	id, err := b.dir.userOf(ctx, sender)
	if err != nil || id == "" {
		return "*" + esc(sender) + "*"
	}
	return "<@" + id + ">"
}

// cronLogger passes robfig/cron's log lines to slog.
type cronLogger struct{ log *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.log.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.log.Error("cron: "+msg, append(kv, "err", err)...)
}
