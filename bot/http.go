package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// maxRequestBody caps a request from Slack. Slash commands and events are
// a few KB; an interaction carries the message or view it came from, and a
// view is at most 250 KB (Slack's views.publish limit), which mailack's
// own cards and App Home stay far below.
const maxRequestBody = 256 << 10

// The HTTP mode endpoints, as configured in the app manifest.
const (
	PathEvents        = "/slack/events"
	PathCommands      = "/slack/commands"
	PathInteractivity = "/slack/interactivity"
)

// Handler serves Slack's HTTP requests (HTTP mode): the Events API on
// PathEvents, slash commands on PathCommands and interactivity on
// PathInteractivity. Each request is verified before anything is parsed;
// a forged or stale one gets 401 and changes nothing, and so does a
// replayed command or interaction. Valid requests are
// answered at once and handled afterwards.
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	// A replayed event is acknowledged and not handled, as the event_id
	// deduplication would drop it anyway: should Slack ever resend an
	// identical request, a refusal would only make it retry. Commands
	// and interactions are never resent by Slack: replays are refused.
	mux.Handle("POST "+PathEvents, b.verified(b.serveEvents, http.StatusOK))
	mux.Handle("POST "+PathCommands, b.verified(b.serveCommand, http.StatusUnauthorized))
	mux.Handle("POST "+PathInteractivity, b.verified(b.serveInteraction, http.StatusUnauthorized))
	return mux
}

// verified reads the body once, checks Slack's signature over it, answers
// a request whose signature was accepted before (a replay) with
// replayStatus without handling it, and puts the body back for next.
func (b *Bot) verified(next func(w http.ResponseWriter, r *http.Request, body []byte), replayStatus int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, err := precheck(r, time.Now()); err != nil {
			b.log.Warn("refused slack request before reading it", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			http.Error(w, http.StatusText(code), code)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		if err != nil {
			http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		ts, sig, now := r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature"), time.Now()
		err = VerifySignature([]byte(b.cfg.SigningSecret.Reveal()), ts, sig, body, now)
		if err != nil {
			b.log.Warn("refused unsigned slack request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		if !b.replays.first(ts, sig, now) {
			b.log.Warn("refused replayed slack request", "path", r.URL.Path, "remote", r.RemoteAddr, "status", replayStatus)
			http.Error(w, "request already received", replayStatus)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r, body)
	})
}

func (b *Bot) serveEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		b.log.Warn("bad events api request", "err", err)
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	if ev.Type == slackevents.URLVerification {
		var ch slackevents.ChallengeResponse
		if err := json.Unmarshal(body, &ch); err != nil {
			http.Error(w, "bad challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, ch.Challenge) // the client is gone if this fails
		return
	}
	w.WriteHeader(http.StatusOK)
	b.event(r.Context(), ev)
}

func (b *Bot) serveCommand(w http.ResponseWriter, r *http.Request, _ []byte) {
	sc, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "bad command", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	b.command(r.Context(), sc)
}

func (b *Bot) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	cb, err := parseInteraction(body)
	if err != nil {
		b.log.Warn("bad interactivity request", "err", err)
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	resp := b.interaction(r.Context(), cb)
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		b.log.Error("cannot encode interactivity answer", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(raw) //nolint:errcheck // the client went away; nothing to do
}

// parseInteraction reads an interactivity request: a form with the JSON
// in its payload field.
func parseInteraction(body []byte) (slack.InteractionCallback, error) {
	var cb slack.InteractionCallback
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return cb, err
	}
	payload := form.Get("payload")
	if payload == "" {
		return cb, errors.New("no payload")
	}
	err = json.Unmarshal([]byte(payload), &cb)
	return cb, err
}

// event handles an Events API event once: Slack retries an event it
// thinks was not received, with the same event_id.
func (b *Bot) event(ctx context.Context, ev slackevents.EventsAPIEvent) {
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && cb.EventID != "" {
		if !b.events.first(cb.EventID, time.Now()) {
			b.log.Debug("duplicate event dropped", "event_id", cb.EventID)
			return
		}
	}
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		if inner.Tab != "home" {
			return
		}
		b.spawn(ctx, "app_home_opened", func(ctx context.Context) {
			if err := b.publishHome(ctx, unpaced, inner.User); err != nil {
				b.log.Warn("cannot publish app home", "user", inner.User, "err", err)
			}
		})
	}
}
