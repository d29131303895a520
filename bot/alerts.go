package bot

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

// BounceAlertConfig posts the bounces of a team's mail to a team channel
// (a sales operations channel, say): the sender is named by address and
// never mentioned, the reason is said in plain words with what to do, and
// the subject is left out with RedactSubjects.
type BounceAlertConfig struct {
	Channel string `yaml:"channel"`
	// Senders are the team's addresses, or "@domain" for all of a domain.
	Senders        []string `yaml:"senders"`
	RedactSubjects bool     `yaml:"redact_subjects"`
	// Language of the alerts; empty uses the bot's.
	Language Lang `yaml:"language"`
}

// covers reports whether the alert is about mail from sender.
func (a BounceAlertConfig) covers(sender string) bool {
	sender = track.NormalizeAddress(sender)
	for _, s := range a.Senders {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == sender || strings.HasPrefix(s, "@") && strings.HasSuffix(sender, s) {
			return true
		}
	}
	return false
}

// alertBounce posts a bounce notice to every team channel whose senders
// include the mail's. Alerts are best effort: a failure is logged and
// does not hold back the sender's own notice.
func (b *Bot) alertBounce(ctx context.Context, m track.Mail, n track.Notice) {
	if n.Kind != track.NoticeBounced {
		return
	}
	for _, a := range b.cfg.BounceAlerts {
		if !a.covers(m.Sender) {
			continue
		}
		lang := a.Language
		if !lang.valid() {
			lang = b.cfg.Language
		}
		text := bounceAlertText(m, n, a, locale{lang: lang, now: b.now()})
		err := b.call(ctx, paced, postMessage, a.Channel, func(ctx context.Context) error {
			_, _, err := b.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionText(clipLines(text, maxFallback), false),
				slack.MsgOptionBlocks(section(clipLines(text, maxSectionText))))
			return wrap(err, "chat.postMessage bounce alert")
		})
		if err != nil {
			b.log.Warn("cannot post bounce alert", "channel", a.Channel, "message_id", m.MessageID, "err", err)
			continue
		}
		b.log.Info("bounce alert posted", "channel", a.Channel, "message_id", m.MessageID)
	}
}

// bounceAlertText says who bounced and why, in mrkdwn: everything from
// mail is escaped, and the sender is an address, not a mention.
func bounceAlertText(m track.Mail, n track.Notice, a BounceAlertConfig, l locale) string {
	reason := l.reason(n.Reason)
	lines := []string{l.t(msgBounceAlert, "*"+escClip(m.Sender, maxAddrShown)+"*", "*"+escClip(n.Recipient, maxAddrShown)+"*", esc(reason.Plain))}
	if !a.RedactSubjects {
		lines = append(lines, l.t(msgBounceAlertSubject, subjectText(m, l)))
	}
	lines = append(lines, esc(l.t(msgBounceAlertDo, reason.Do)))
	return strings.Join(lines, "\n")
}
