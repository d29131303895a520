package bot

import (
	"context"

	"github.com/slack-go/slack/socketmode"
)

// AckFunc acknowledges Socket Mode requests in tests.
type AckFunc func(req socketmode.Request, payload ...any) error

// Ack implements acker.
func (f AckFunc) Ack(req socketmode.Request, payload ...any) error { return f(req, payload...) }

// SocketEvent hands an event to the bot as its Socket Mode loop does.
func (b *Bot) SocketEvent(ctx context.Context, ack AckFunc, evt socketmode.Event) {
	b.socketEvent(ctx, ack, evt)
}
