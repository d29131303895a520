package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

// lostCard are the chat.update errors after which the card is posted
// anew: the message or its channel is gone.
var lostCard = map[string]bool{
	"message_not_found":   true,
	"cant_update_message": true,
	"channel_not_found":   true,
	"is_archived":         true,
}

// call makes one call of a Web API method (to channel, for the methods
// that take one) once pace gives it its turn, bounded by CallTimeout from
// then on. A rate limit in the answer pauses the method for its
// Retry-After.
func (b *Bot) call(ctx context.Context, pace pacer, method, channel string, f func(ctx context.Context) error) error {
	if err := b.pace.wait(ctx, pace, method, channel); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	err := f(ctx)
	if kind, after := classify(err); err != nil && kind == failRateLimited {
		b.pace.pause(method, after)
	}
	return err
}

// userLocale returns how to speak to a user, and their settings. When
// only the Slack profile cannot be read, the error comes with the
// settings as stored, never with empty ones in their place.
func (b *Bot) userLocale(ctx context.Context, user string) (locale, UserSettings, error) {
	set, err := b.deps.Settings.Settings(ctx, user)
	if err != nil {
		return locale{}, UserSettings{}, fmt.Errorf("settings of %s: %w", user, err)
	}
	p, err := b.dir.profile(ctx, user)
	if err != nil {
		return locale{}, set, err
	}
	lang := set.Language
	if !lang.valid() {
		lang = langOfLocale(p.Locale)
	}
	if lang == "" {
		lang = b.cfg.Language
	}
	return locale{lang: lang, tz: p.TZ, now: b.now()}, set, nil
}

// localeOf is userLocale for answering a person: when Slack cannot be
// asked, the language they chose (else the default) and UTC still make an
// answer. The settings it returns are for reading only: every change is
// made with editSettings.
func (b *Bot) localeOf(ctx context.Context, user string) (locale, UserSettings) {
	l, set, err := b.userLocale(ctx, user)
	if err != nil {
		b.log.Warn("cannot read user's locale", "user", user, "err", err)
		lang := set.Language
		if !lang.valid() {
			lang = b.cfg.Language
		}
		return locale{lang: lang, tz: time.UTC, now: b.now()}, set
	}
	return l, set
}

// showCard brings a mail's status card up to date: chat.update of the
// card the store remembers, or a new direct message to user when there is
// none (or it is gone). fresh reports a new card.
func (b *Bot) showCard(ctx context.Context, pace pacer, m track.Mail, user string, l locale) (c Card, fresh bool, err error) {
	return b.showCardMarked(ctx, pace, m, user, l, nil)
}

// showCardMarked is showCard that, when a card is to be posted, first
// calls before (when set): it may return a card posted earlier that the
// store does not remember, which is then updated and remembered instead,
// or fail, and then nothing is posted. The card carries the mail's
// Message-ID in its metadata (cardMetadata), so that it can be found again
// (findCard).
func (b *Bot) showCardMarked(ctx context.Context, pace pacer, m track.Mail, user string, l locale, before func(ctx context.Context) (Card, bool, error)) (c Card, fresh bool, err error) {
	blocks := cardBlocks(m, l, b.nudgeable(ctx, m, true), b.webmail(m))
	text := cardFallback(m, l)
	c, ok, err := b.deps.Cards.Card(ctx, m.MessageID)
	if err != nil {
		return Card{}, false, err
	}
	update := func(c Card) (bool, error) {
		err := b.call(ctx, pace, "chat.update", c.Channel, func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, c.Channel, c.TS, slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(text, false))
			return err
		})
		if err == nil || !lostCard[slackCode(err)] {
			return true, wrap(err, "chat.update")
		}
		b.log.Info("status card gone; posting a new one", "message_id", m.MessageID, "err", err)
		return false, nil
	}
	if ok {
		if done, err := update(c); done {
			return c, false, err
		}
	}
	if before != nil {
		found, ok, err := before(ctx)
		if err != nil {
			return Card{}, false, err
		}
		if ok {
			if done, err := update(found); done {
				if err == nil {
					err = b.deps.Cards.PutCard(ctx, m.MessageID, found)
				}
				return found, false, err
			}
		}
	}
	ch, err := b.dmChannel(ctx, pace, user)
	if err != nil {
		return Card{}, false, err
	}
	err = b.call(ctx, pace, postMessage, ch, func(ctx context.Context) error {
		_, ts, err := b.api.PostMessageContext(ctx, ch, slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(text, false),
			slack.MsgOptionMetadata(cardMetadata(m.MessageID)))
		c = Card{Channel: ch, TS: ts}
		return err
	})
	if err != nil {
		return Card{}, false, wrap(err, "chat.postMessage")
	}
	if err := b.deps.Cards.PutCard(ctx, m.MessageID, c); err != nil {
		// The card is shown; the next change posts another one.
		b.log.Error("cannot remember status card", "message_id", m.MessageID, "err", err)
	}
	return c, true, nil
}

// reply posts a notice's short reply in the card's thread, with the
// notice's key in its metadata (noticeMetadata).
func (b *Bot) reply(ctx context.Context, pace pacer, c Card, m track.Mail, n track.Notice, l locale) error {
	return b.call(ctx, pace, postMessage, c.Channel, func(ctx context.Context) error {
		_, _, err := b.api.PostMessageContext(ctx, c.Channel, slack.MsgOptionTS(c.TS), slack.MsgOptionText(replyText(m, n, l), false),
			slack.MsgOptionMetadata(noticeMetadata(n.Key)))
		return wrap(err, "chat.postMessage reply")
	})
}

// dmChannel returns the direct message channel with user, opening it
// once.
func (b *Bot) dmChannel(ctx context.Context, pace pacer, user string) (string, error) {
	b.mu.Lock()
	ch, ok := b.dms[user]
	b.mu.Unlock()
	if ok {
		return ch, nil
	}
	err := b.call(ctx, pace, "conversations.open", "", func(ctx context.Context) error {
		c, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		if err == nil {
			ch = c.ID
		}
		return err
	})
	if err != nil {
		return "", wrap(err, "conversations.open")
	}
	b.mu.Lock()
	b.dms[user] = ch
	b.mu.Unlock()
	return ch, nil
}

// nudgeable returns the recipients of m a nudge could reach in Slack.
// With wait, each is looked up (paced); without, only what is known at
// once is used (App Home, which may list hundreds of recipients). A
// recipient whose lookup fails or is not known yet keeps the button:
// pressing it looks them up and says so when they are not in Slack.
func (b *Bot) nudgeable(ctx context.Context, m track.Mail, wait bool) map[string]bool {
	out := map[string]bool{}
	for i, r := range m.Recipients {
		if i == maxCardRecipients || ctx.Err() != nil {
			break
		}
		if !canNudge(m, r, b.now()) {
			continue
		}
		if !wait {
			id, known := b.dir.knownUser(ctx, r.Address)
			out[r.Address] = !known || id != ""
			continue
		}
		id, err := b.dir.userOf(ctx, r.Address)
		if err != nil {
			b.log.Debug("cannot look up recipient", "address", r.Address, "err", err)
		}
		out[r.Address] = err != nil || id != ""
	}
	return out
}

// request is one person's request: a slash command or a button press.
type request struct {
	// home is set for a press in App Home, which has no response_url: the
	// answer is shown there.
	home        bool
	user        string
	channel     string
	responseURL string
	triggerID   string
	loc         locale
	set         UserSettings
}

// respond answers a request with a message only its author sees: through
// the request's response_url, else chat.postEphemeral in its channel or
// the author's direct messages.
func (b *Bot) respond(ctx context.Context, r *request, text string, blocks ...slack.Block) {
	if r.home {
		// Buttons in App Home carry no response_url, and an ephemeral
		// message would land in the Messages tab, unseen: show the answer
		// at the top of App Home instead.
		if err := b.publishHomeWith(ctx, unpaced, r.user, text, noticeActions(blocks)); err != nil {
			b.log.Warn("cannot answer user in app home", "user", r.user, "err", err)
		}
		return
	}
	if err := b.sendEphemeral(ctx, r, text, blocks); err != nil {
		b.log.Warn("cannot answer user", "user", r.user, "err", err)
	}
}

func (b *Bot) sendEphemeral(ctx context.Context, r *request, text string, blocks []slack.Block) error {
	if r.responseURL != "" && strings.HasPrefix(r.responseURL, b.cfg.ResponseURLPrefix) {
		msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text}
		if len(blocks) > 0 {
			msg.Blocks = &slack.Blocks{BlockSet: blocks}
		}
		return b.call(ctx, unpaced, "", "", func(ctx context.Context) error {
			return wrap(slack.PostWebhookCustomHTTPContext(ctx, r.responseURL, b.http, msg), "response_url")
		})
	}
	ch := r.channel
	if ch == "" {
		var err error
		if ch, err = b.dmChannel(ctx, unpaced, r.user); err != nil {
			return err
		}
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	return b.call(ctx, unpaced, "chat.postEphemeral", ch, func(ctx context.Context) error {
		_, err := b.api.PostEphemeralContext(ctx, ch, r.user, opts...)
		return wrap(err, "chat.postEphemeral")
	})
}

// wrap names the Web API method an error came from; nil stays nil.
func wrap(err error, method string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", method, err)
}
