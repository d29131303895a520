package bot

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// Delivering a notice exactly once. The outbox acknowledges an item after
// Slack answered; a deliverer stopped in between (killed, or its lead
// lost) leaves the item, and the next one would post again what Slack
// already shows. So before posting, the writer marks the items in flight
// in the store (with the deliverer's fence: a deliverer that no longer
// leads can mark nothing, so posts nothing), and every post carries
// message metadata naming what it shows
// (https://docs.slack.dev/messaging/message-metadata): a card the mail's
// Message-ID, a thread reply the notice's key. A deliverer that finds an
// item in flight first looks for that message in Slack (the direct
// message's history for a card, the card's thread for a reply) and, when
// it is there, takes it instead of posting again. chat.update needs no
// mark: updating a card with the same content twice changes nothing.

// What an item was in flight for (OutboxItem.InFlight).
const (
	flightCard  = "card"  // the mail's card was being posted
	flightReply = "reply" // the notice's thread reply was being posted
)

// Metadata event types, named "<resource>_<action in past tense>" as
// Slack's guidelines for metadata events advise
// (https://docs.slack.dev/messaging/message-metadata).
const (
	metaCardPosted   = "mailack_card_posted"
	metaNoticePosted = "mailack_notice_posted"
)

// cardMetadata names the mail a card shows.
func cardMetadata(messageID string) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: metaCardPosted, EventPayload: map[string]any{"message_id": messageID}}
}

// noticeMetadata names the notice a thread reply tells of.
func noticeMetadata(key string) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: metaNoticePosted, EventPayload: map[string]any{"key": key}}
}

// flightMargin widens the window searched for a message marked in flight
// at some time, for the difference between this host's clock and
// Slack's.
const flightMargin = 5 * time.Minute

// historyPage is how many messages one conversations.history or
// conversations.replies call asks for: the limit "Maximum of 999" for
// internal apps, whose default is 100
// (https://docs.slack.dev/reference/methods/conversations.history).
const historyPage = 200

// slackTS writes t as the oldest bound of a history call.
func slackTS(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + ".000000"
}

// findCard looks in the direct message with user, among the messages
// posted since a little before since, for the card of mail messageID.
func (b *Bot) findCard(ctx context.Context, user, messageID string, since time.Time) (Card, bool, error) {
	ch, err := b.dmChannel(ctx, paced, user)
	if err != nil {
		return Card{}, false, err
	}
	self, err := b.selfBotID(ctx)
	if err != nil {
		return Card{}, false, err
	}
	p := slack.GetConversationHistoryParameters{ChannelID: ch, Oldest: slackTS(since.Add(-flightMargin)), Limit: historyPage, IncludeAllMetadata: true}
	for {
		var resp *slack.GetConversationHistoryResponse
		err := b.call(ctx, paced, "conversations.history", ch, func(ctx context.Context) error {
			var err error
			resp, err = b.api.GetConversationHistoryContext(ctx, &p)
			return err
		})
		if err != nil {
			return Card{}, false, wrap(err, "conversations.history")
		}
		for _, msg := range resp.Messages {
			if carries(msg, self, metaCardPosted, "message_id", messageID) {
				return Card{Channel: ch, TS: msg.Timestamp}, true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return Card{}, false, nil
		}
		p.Cursor = resp.ResponseMetaData.NextCursor
	}
}

// findReply looks in the thread of card c, among the replies posted since
// a little before since, for the reply telling of the notice with key.
func (b *Bot) findReply(ctx context.Context, c Card, key string, since time.Time) (bool, error) {
	self, err := b.selfBotID(ctx)
	if err != nil {
		return false, err
	}
	p := slack.GetConversationRepliesParameters{ChannelID: c.Channel, Timestamp: c.TS, Oldest: slackTS(since.Add(-flightMargin)),
		Limit: historyPage, IncludeAllMetadata: true}
	for {
		var msgs []slack.Message
		var more bool
		var cursor string
		err := b.call(ctx, paced, "conversations.replies", c.Channel, func(ctx context.Context) error {
			var err error
			msgs, more, cursor, err = b.api.GetConversationRepliesContext(ctx, &p)
			return err
		})
		if err != nil {
			return false, wrap(err, "conversations.replies")
		}
		for _, msg := range msgs {
			if msg.ThreadTimestamp == c.TS && carries(msg, self, metaNoticePosted, "key", key) {
				return true, nil
			}
		}
		if !more || cursor == "" {
			return false, nil
		}
		p.Cursor = cursor
	}
}

// carries reports whether msg, posted by this bot (bot ID self), has
// metadata of the event type whose payload has field set to value. Any
// app can attach any metadata to what it posts, and an app a user
// installed can post as that user in their direct message with the bot,
// threads included: such a message is never taken for one of ours.
func carries(msg slack.Message, self, eventType, field, value string) bool {
	if self == "" || msg.BotID != self || msg.Metadata.EventType != eventType {
		return false
	}
	v, ok := msg.Metadata.EventPayload[field].(string)
	return ok && v == value
}

// inFlight returns the earliest time an item of items was marked in
// flight for what, and whether one was.
func inFlight(items []OutboxItem, what string) (time.Time, bool) {
	var since time.Time
	found := false
	for _, it := range items {
		if it.InFlight == what && (!found || it.InFlightAt.Before(since)) {
			since, found = it.InFlightAt, true
		}
	}
	return since, found
}

// showOnce brings the card of the items' mail up to date without posting
// a second card for it: before posting one, when a card was being posted
// for the items already, it looks for that card in Slack and takes it if
// there; else it marks the items in flight, and posts.
func (w *writer) showOnce(ctx context.Context, s shown, items []OutboxItem) (Card, bool, error) {
	b := w.b
	id := s.mail.MessageID
	seqs := make([]uint64, len(items))
	for i, it := range items {
		seqs[i] = it.Seq
	}
	return b.showCardMarked(ctx, paced, s.mail, s.user, s.loc, func(ctx context.Context) (Card, bool, error) {
		if since, ok := inFlight(items, flightCard); ok {
			c, found, err := b.findCard(ctx, s.user, id, since)
			if err != nil || found {
				if found {
					b.log.Info("status card found in slack; not posted again", "message_id", id, "ts", c.TS)
				}
				return c, found, err
			}
		}
		return Card{}, false, b.deps.Outbox.MarkInFlight(ctx, seqs, flightCard, time.Now())
	})
}

// replyOnce posts the thread reply of an item, unless it was being posted
// before and is found in the card's thread. It marks the item in flight
// before posting.
func (w *writer) replyOnce(ctx context.Context, s shown, it OutboxItem) error {
	b := w.b
	if it.InFlight == flightReply {
		found, err := b.findReply(ctx, s.card, it.Notice.Key, it.InFlightAt)
		if err != nil {
			return err
		}
		if found {
			b.log.Info("thread reply found in slack; not posted again", "message_id", s.mail.MessageID, "key", it.Notice.Key)
			return nil
		}
	}
	if err := b.deps.Outbox.MarkInFlight(ctx, []uint64{it.Seq}, flightReply, time.Now()); err != nil {
		return err
	}
	return b.reply(ctx, paced, s.card, s.mail, it.Notice, s.loc)
}

// selfBotID returns the bot ID of this bot's token, asked of Slack once
// (auth.test returns it as bot_id,
// https://docs.slack.dev/reference/methods/auth.test).
func (b *Bot) selfBotID(ctx context.Context) (string, error) {
	b.mu.Lock()
	self := b.self
	b.mu.Unlock()
	if self != "" {
		return self, nil
	}
	err := b.call(ctx, paced, "auth.test", "", func(ctx context.Context) error {
		who, err := b.api.AuthTestContext(ctx)
		if err == nil {
			self = who.BotID
		}
		return err
	})
	if err != nil {
		return "", wrap(err, "auth.test")
	}
	if self == "" {
		return "", errors.New("auth.test: the token names no bot: slack.bot_token must be a bot token (xoxb-)")
	}
	b.mu.Lock()
	b.self = self
	b.mu.Unlock()
	return self, nil
}
