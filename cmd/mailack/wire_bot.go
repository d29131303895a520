package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/botstore"
	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
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

// SettingsUsers lists the users with settings, for their morning
// summaries.
func (s settingsStore) SettingsUsers(ctx context.Context) ([]string, error) {
	return s.st.SettingsUsers(ctx)
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
	bc.Webmail = webmailOf(c.Accounts)
	bc.Setup = setupOf(c)
	for _, d := range c.Slack.Digests {
		bc.Digests = append(bc.Digests, bot.DigestConfig{Channel: d.Channel, Schedule: d.Schedule, Timezone: d.Timezone,
			After: d.After, RedactSubjects: d.RedactSubjects})
	}
	for _, a := range c.Slack.BounceAlerts {
		bc.BounceAlerts = append(bc.BounceAlerts, bot.BounceAlertConfig{Channel: a.Channel, Senders: a.Senders, RedactSubjects: a.RedactSubjects})
	}
	return bc
}

// webmailOf names the web client of each account owner's mailbox, from
// its OAuth2 provider or its IMAP host, for the cards' links to the mail.
func webmailOf(accounts []config.Account) map[string]bot.Webmail {
	out := map[string]bot.Webmail{}
	for _, a := range accounts {
		var w bot.Webmail
		host := strings.ToLower(a.Host)
		switch {
		case a.OAuth2 != nil && a.OAuth2.Provider == "microsoft", host == "outlook.office365.com":
			w = bot.WebmailOutlook
		case a.OAuth2 != nil && a.OAuth2.Provider == "google", host == "imap.gmail.com":
			w = bot.WebmailGmail
		}
		owner := a.Owner
		if owner == "" {
			owner = a.Username // the owner defaults to the username
		}
		if w != "" && strings.Contains(owner, "@") {
			out[strings.ToLower(owner)] = w
		}
	}
	return out
}

// setupOf tells the bot how mail gets tracked, for App Home's welcome:
// each watched mailbox's owner and policy, who may send through the relay
// (a relay user's senders, or its name when it lists none, as the relay
// checks them) and whether the relay adds the pixel.
func setupOf(c config.Config) *bot.Setup {
	s := &bot.Setup{Relay: c.Relay.Enabled, Pixel: c.Relay.Enabled && c.Pixel.Enabled, PixelOptOut: c.Pixel.OptOut}
	for _, a := range c.Accounts {
		owner := a.Owner
		if owner == "" {
			owner = a.Username // the owner defaults to the username
		}
		s.Mailboxes = append(s.Mailboxes, bot.Mailbox{Owner: strings.ToLower(owner), All: a.Track == "all", TrackingAddress: a.TrackingAddress})
	}
	if c.Relay.Enabled {
		for _, u := range c.Relay.Users {
			if len(u.Senders) == 0 {
				s.RelaySenders = append(s.RelaySenders, u.Name)
				continue
			}
			s.RelaySenders = append(s.RelaySenders, u.Senders...)
		}
	}
	return s
}

// newBot builds the Slack bot on the store. In HTTP mode its endpoints are
// mounted on mux. sent may be nil: /track then cannot start tracking by
// hand.
func newBot(cfg bot.Config, st *store.Store, sent bot.SentSearch, mux *http.ServeMux, log *slog.Logger) (*bot.Bot, error) {
	b, err := bot.New(cfg, botstore.New(st).Deps(settingsStore{st}, sent), log)
	if err != nil {
		return nil, err
	}
	if cfg.Mode == bot.ModeHTTP {
		mux.Handle("/slack/", b.Handler())
	}
	return b, nil
}

// sentSearch lets /track start tracking a mail found in the sender's Sent
// folder over IMAP.
type sentSearch struct {
	w   *mailwatch.Watcher
	reg *registrar
}

func (s sentSearch) FindSent(ctx context.Context, sender, query string, limit int) ([]bot.SentMail, error) {
	ms, err := s.w.FindSent(ctx, sender, query, limit)
	if errors.Is(err, mailwatch.ErrNoAccount) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]bot.SentMail, 0, len(ms))
	for _, m := range ms {
		sm := bot.SentMail{MessageID: m.MessageID, Subject: m.Subject, SentAt: m.SentAt}
		for _, r := range m.Recipients {
			sm.To = append(sm.To, r.Address)
		}
		out = append(out, sm)
	}
	return out, nil
}

func (s sentSearch) TrackSent(ctx context.Context, sender, messageID string, deadline time.Duration) (track.Mail, error) {
	ms, err := s.w.FindSent(ctx, sender, "<"+track.NormalizeMessageID(messageID)+">", 1)
	if errors.Is(err, mailwatch.ErrNoAccount) || err == nil && len(ms) == 0 {
		return track.Mail{}, fmt.Errorf("%s in the Sent folder of %s: %w", messageID, sender, bot.ErrNotFound)
	}
	if err != nil {
		return track.Mail{}, err
	}
	m := ms[0]
	if deadline != 0 {
		m.Deadline = deadline
	}
	res, err := s.reg.register(ctx, m, nil)
	return res.Mail, err
}

// deadlineOf returns the default deadline a sender chose in Slack
// (/track settings deadline), or 0 when they chose none or are not known
// in Slack yet.
func (s settingsStore) deadlineOf(ctx context.Context, sender string) time.Duration {
	u, err := s.st.SlackUser(ctx, sender)
	if err != nil || u.ID == "" {
		return 0
	}
	us, err := s.Settings(ctx, u.ID)
	if err != nil {
		return 0
	}
	return us.Deadline
}
