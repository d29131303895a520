package bot

import (
	"context"
	"errors"
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
	// maxWaitingNamed is how many waiting recipients a digest line names.
	maxWaitingNamed = 3
)

// runDigests posts each configured digest on its schedule until ctx is
// cancelled, then waits for a digest being posted to finish.
func (b *Bot) runDigests(ctx context.Context) error {
	if len(b.cfg.Digests) == 0 && len(b.cfg.BounceAlerts) == 0 {
		return nil
	}
	if err := b.CheckDigestChannels(ctx); err != nil {
		b.log.Warn("digests may not be posted", "err", err)
	}
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
// channel, grouped by sender, in as many messages as they need: no mail
// is left out. Nothing is posted when there are none. A failure is
// logged; the next digest lists the same mails again.
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
	l := locale{lang: d.Language, tz: time.UTC, now: now}
	if !l.lang.valid() {
		l.lang = b.cfg.Language
	}
	if tz, err := time.LoadLocation(d.Timezone); err == nil {
		l.tz = tz
	}
	title := l.t(msgDigestTitle, l.span(d.After))
	name := func(sender string) string { return b.senderName(ctx, sender) }
	for i, blocks := range digestMessages(digestSections(groups, d, l, name), title) {
		err := b.call(ctx, paced, postMessage, d.Channel, func(ctx context.Context) error {
			_, _, err := b.api.PostMessageContext(ctx, d.Channel, slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(esc(title), false))
			return err
		})
		if slackCode(err) == "not_in_channel" && b.joinChannel(ctx, d.Channel) == nil {
			err = b.call(ctx, paced, postMessage, d.Channel, func(ctx context.Context) error {
				_, _, err := b.api.PostMessageContext(ctx, d.Channel, slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(esc(title), false))
				return err
			})
		}
		if err != nil {
			b.log.Error("cannot post digest", "channel", d.Channel, "part", i+1, "err", wrap(err, "chat.postMessage digest"))
			return
		}
	}
	b.log.Info("digest posted", "channel", d.Channel, "senders", len(groups))
}

// digestSections renders a digest: for each sender their name (as name
// gives it, in mrkdwn) and one line per mail, in as many sections as the
// lines need.
func digestSections(groups []SenderDigest, d DigestConfig, l locale, name func(string) string) []slack.Block {
	var out []slack.Block
	for _, g := range groups {
		lines := []string{name(g.Sender)}
		for _, m := range g.Mails {
			lines = append(lines, digestLine(m, d.RedactSubjects, l))
		}
		for _, text := range chunks(lines, maxSectionText) {
			out = append(out, slack.NewSectionBlock(mrkdwn(text), nil, nil))
		}
	}
	return out
}

// digestMessages packs a digest's sections into messages within Slack's
// limits (50 blocks, and the text of all blocks), the first under the
// title.
func digestMessages(sections []slack.Block, title string) [][]slack.Block {
	var out [][]slack.Block
	cur := []slack.Block{slack.NewHeaderBlock(plain(clip(title, maxHeader)))}
	for _, s := range sections {
		next := append(cur[:len(cur):len(cur)], s)
		if len(next) > maxMessageBlock || blocksTextLen(next) > maxBlocksText {
			out = append(out, cur)
			next = []slack.Block{s}
		}
		cur = next
	}
	return append(out, cur)
}

// digestLine is one mail of a digest. With redact the subject and the
// recipients' addresses (often outside partners) are left out: only their
// number is shown.
func digestLine(m DigestMail, redact bool, l locale) string {
	subj := escClip(m.Subject, maxSubjectShown)
	switch {
	case redact:
		subj = "_" + l.t(msgDigestRedacted) + "_"
	case strings.TrimSpace(m.Subject) == "":
		subj = esc(l.t(msgNoSubject))
	}
	var waiting string
	if redact {
		waiting = l.t(msgDigestWaitingN, len(m.Waiting))
	} else {
		var named []string
		for i, w := range m.Waiting {
			if i == maxWaitingNamed {
				named = append(named, fmt.Sprintf("+%d", len(m.Waiting)-i))
				break
			}
			named = append(named, escClip(w, maxAddrShown))
		}
		waiting = strings.Join(named, ", ")
	}
	return l.t(msgDigestLine, subj, l.when(m.SentAt), waiting)
}

// senderName names a sender in a channel by their Slack name, without
// mentioning (and so notifying) them; else by address.
func (b *Bot) senderName(ctx context.Context, sender string) string {
	id, err := b.dir.userOf(ctx, sender)
	if err == nil && id != "" {
		if p, err := b.dir.profile(ctx, id); err == nil && p.Name != "" {
			return "*" + escClip(p.Name, maxNameShown) + "*"
		}
	}
	return "*" + escClip(sender, maxAddrShown) + "*"
}

// CheckDigestChannels makes sure the bot is a member of every digest
// channel, since Slack refuses posts to a channel the bot is not in
// (not_in_channel). It looks at each with conversations.info and joins a
// public one it is not in (conversations.join, scope channels:join); a
// private channel needs an invitation (/invite @mailack in the channel),
// which the returned error says. It is called when the bot starts.
func (b *Bot) CheckDigestChannels(ctx context.Context) error {
	var errs []error
	channels := b.cfg.Digests
	for _, a := range b.cfg.BounceAlerts { // bounce alert channels too
		channels = append(channels[:len(channels):len(channels)], DigestConfig{Channel: a.Channel})
	}
	for _, d := range channels {
		var ch *slack.Channel
		err := b.call(ctx, paced, "conversations.info", d.Channel, func(ctx context.Context) error {
			var err error
			ch, err = b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: d.Channel})
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("digest channel %s: conversations.info: %w (invite the bot with /invite @mailack in the channel)", d.Channel, err))
			continue
		}
		if ch.IsMember {
			continue
		}
		if err := b.joinChannel(ctx, d.Channel); err != nil {
			errs = append(errs, fmt.Errorf("digest channel %s: the bot is not a member and cannot join: %w (invite it with /invite @mailack in the channel)", d.Channel, err))
		}
	}
	return errors.Join(errs...)
}

// joinChannel joins a public channel.
func (b *Bot) joinChannel(ctx context.Context, channel string) error {
	err := b.call(ctx, paced, "conversations.join", channel, func(ctx context.Context) error {
		_, _, _, err := b.api.JoinConversationContext(ctx, channel)
		return err
	})
	if err != nil {
		return wrap(err, "conversations.join")
	}
	b.log.Info("joined digest channel", "channel", channel)
	return nil
}

// cronLogger passes robfig/cron's log lines to slog.
type cronLogger struct{ log *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.log.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.log.Error("cron: "+msg, append(kv, "err", err)...)
}
