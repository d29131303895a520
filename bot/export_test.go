package bot

import (
	"context"

	"github.com/slack-go/slack/socketmode"
)

// AckFunc acknowledges Socket Mode requests in tests.
type AckFunc func(ctx context.Context, envelopeID string, payload any) error

// AckCtx implements acker.
func (f AckFunc) AckCtx(ctx context.Context, envelopeID string, payload any) error {
	return f(ctx, envelopeID, payload)
}

// SocketEvent hands an event to the bot as its Socket Mode loop does.
func (b *Bot) SocketEvent(ctx context.Context, ack AckFunc, evt socketmode.Event) {
	b.socketEvent(ctx, ack, evt)
}

// PerChannelBurst is how many messages the bot posts to one channel at
// once before its one-a-second pace.
var PerChannelBurst = perChannelPost.burst

// OutboxBatch is how many due items the writer reads at a time.
const OutboxBatch = outboxBatch

// WaitWork waits for the work requests started after their ack, as Run
// does before it returns.
func (b *Bot) WaitWork() { b.work.Wait() }
