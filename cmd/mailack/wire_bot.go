package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/botstore"
	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/store"
)

// settingsStore keeps the bot's per-user settings in the store, as JSON.
type settingsStore struct{ st *store.Store }

func (s settingsStore) Settings(ctx context.Context, userID string) (bot.UserSettings, error) {
	var us bot.UserSettings
	b, err := s.st.UserSettings(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return us, nil
	}
	if err != nil {
		return us, err
	}
	return us, json.Unmarshal(b, &us)
}

func (s settingsStore) PutSettings(ctx context.Context, userID string, us bot.UserSettings) error {
	b, err := json.Marshal(us)
	if err != nil {
		return err
	}
	return s.st.PutUserSettings(ctx, userID, b)
}

// botConfig maps the configuration file's slack section to the bot's.
func botConfig(c config.Config) bot.Config {
	bc := bot.Defaults()
	bc.Mode = bot.Mode(c.Slack.Mode)
	bc.BotToken = bot.Secret(c.Slack.BotToken.Value())
	bc.AppToken = bot.Secret(c.Slack.AppToken.Value())
	bc.SigningSecret = bot.Secret(c.Slack.SigningSecret.Value())
	bc.Admins = c.Slack.Admins
	bc.Users = c.Slack.Users
	bc.Language = bot.Lang(c.Tracking.Locale)
	if c.Slack.APIURL != "" {
		bc.APIURL = c.Slack.APIURL
	}
	for _, d := range c.Slack.Digests {
		bc.Digests = append(bc.Digests, bot.DigestConfig{Channel: d.Channel, Schedule: d.Schedule, Timezone: d.Timezone,
			After: d.After, RedactSubjects: d.RedactSubjects})
	}
	return bc
}

// newBot builds the Slack bot on the store, or returns nil when Slack is
// off. In HTTP mode its endpoints are mounted on mux.
func newBot(cfg bot.Config, st *store.Store, mux *http.ServeMux, log *slog.Logger) (*bot.Bot, error) {
	b, err := bot.New(cfg, botstore.New(st).Deps(settingsStore{st}, nil), log)
	if err != nil {
		return nil, err
	}
	if cfg.Mode == bot.ModeHTTP {
		mux.Handle("/slack/", b.Handler())
	}
	return b, nil
}
