package bot

import (
	"context"
	"errors"
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

// acker acknowledges a Socket Mode request; socketmode.Client is one.
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// runSocket keeps a Socket Mode connection open until ctx is cancelled,
// reconnecting with backoff. It gives up only when Slack refuses the
// app-level token.
func (b *Bot) runSocket(ctx context.Context) error {
	backoff := socketMinBackoff
	for {
		client := socketmode.New(b.api, socketmode.OptionLog(slog.NewLogLogger(b.log.Handler(), slog.LevelDebug)))
		start := time.Now()
		err := b.serveSocket(ctx, client)
		if ctx.Err() != nil {
			return nil
		}
		if code := slackCode(err); code == "invalid_auth" || code == "not_authed" || code == "account_inactive" {
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
	err := client.RunContext(ctx)
	cancel()
	wg.Wait()
	if err == nil {
		err = errors.New("socket mode connection ended")
	}
	return err
}

// socketEvent acknowledges a request at once and hands it on; the work
// runs after the ack.
func (b *Bot) socketEvent(ctx context.Context, ack acker, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		b.log.Info("socket mode connected")
		return
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("socket mode: slack refused the app-level token")
		return
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
	default:
		b.log.Debug("socket mode event", "type", evt.Type)
		return
	}
	if evt.Request == nil {
		return
	}
	if err := ack.Ack(*evt.Request); err != nil {
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
