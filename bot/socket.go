package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// Socket Mode reconnection backoff.
const (
	socketMinBackoff = time.Second
	socketMaxBackoff = 2 * time.Minute
)

// fatalSocketCodes are the answers of apps.connections.open that no
// retry cures: Slack refuses the app-level token. socketmode gives up on
// them too.
var fatalSocketCodes = map[string]bool{
	"invalid_auth":     true,
	"not_authed":       true,
	"account_inactive": true,
	"token_revoked":    true,
}

// acker acknowledges a Socket Mode request; socketmode.Client is one.
// The acknowledgement waits for a connection to send it on, so it takes a
// context that ends the wait.
type acker interface {
	AckCtx(ctx context.Context, envelopeID string, payload any) error
}

// runSocket keeps Socket Mode connected until ctx is cancelled. The
// socketmode client reconnects by itself whenever a connection ends and
// retries apps.connections.open with its own backoff; a client that gives
// up is replaced after a backoff of ours. runSocket gives up only when
// Slack refuses the app-level token.
func (b *Bot) runSocket(ctx context.Context) error {
	backoff := socketMinBackoff
	for {
		client := socketmode.New(b.api, socketmode.OptionLog(slog.NewLogLogger(b.log.Handler(), slog.LevelDebug)))
		start := time.Now()
		err := b.serveSocket(ctx, client)
		if ctx.Err() != nil {
			return nil
		}
		if fatalSocketCodes[slackCode(err)] {
			return err
		}
		if time.Since(start) > socketMaxBackoff {
			backoff = socketMinBackoff // the connection had been working
		}
		b.log.Warn("socket mode disconnected; reconnecting", "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, socketMaxBackoff)
	}
}

// serveSocket runs one Socket Mode client and dispatches its events.
func (b *Bot) serveSocket(ctx context.Context, client *socketmode.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				b.socketEvent(ctx, client, evt)
			}
		}
	})
	// RunContext reconnects by itself and returns only when ctx ends or
	// when it gives up opening a connection, never with a nil error.
	err := client.RunContext(ctx)
	cancel()
	wg.Wait()
	return fmt.Errorf("connection ended: %w", err)
}

// socketEvent acknowledges a request at once and hands it on; the work
// runs after the ack.
func (b *Bot) socketEvent(ctx context.Context, ack acker, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
	default:
		b.logSocketEvent(evt)
		return
	}
	if evt.Request == nil {
		return
	}
	// An external select's options and a modal's errors travel in the ack
	// itself ("payload" of the acknowledgement,
	// https://docs.slack.dev/apis/events-api/using-socket-mode).
	if cb, ok := evt.Data.(slack.InteractionCallback); ok && (cb.Type == slack.InteractionTypeBlockSuggestion || cb.Type == slack.InteractionTypeViewSubmission) {
		if err := ack.AckCtx(ctx, evt.Request.EnvelopeID, b.interaction(ctx, cb)); err != nil && ctx.Err() == nil {
			b.log.Warn("cannot acknowledge socket mode request", "type", evt.Type, "err", err)
		}
		return
	}
	if err := ack.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
		if ctx.Err() != nil {
			return // shutting down: start no new work
		}
		b.log.Warn("cannot acknowledge socket mode request", "type", evt.Type, "err", err)
	}
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		b.command(ctx, data)
	case slack.InteractionCallback:
		b.interaction(ctx, data)
	case slackevents.EventsAPIEvent:
		b.event(ctx, data)
	}
}

// logSocketEvent logs what socketmode reports about the connection.
func (b *Bot) logSocketEvent(evt socketmode.Event) {
	switch data := evt.Data.(type) {
	case *socketmode.ConnectedEvent:
		b.log.Info("socket mode connected")
	case *slack.InvalidAuthEvent:
		b.log.Error("socket mode: slack refused the app-level token")
	case *slack.ConnectionErrorEvent:
		// socketmode retries by itself, so this is the only trace of
		// Slack being unreachable or refusing apps.connections.open.
		b.log.Warn("socket mode cannot connect; retrying", "attempt", data.Attempt, "in", data.Backoff, "err", data.ErrorObj)
	case *socketmode.ErrorBadMessage:
		b.log.Warn("socket mode message ignored", "err", data.Cause)
	case *socketmode.ErrorWriteFailed:
		b.log.Warn("cannot acknowledge socket mode request", "envelope_id", data.Response.EnvelopeID, "err", data.Cause)
	default:
		b.log.Debug("socket mode event", "type", evt.Type)
	}
}
