package bot

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"
)

// Mode is how Slack reaches the bot.
type Mode string

// The connection modes.
const (
	// ModeSocket connects out to Slack over a WebSocket (Socket Mode); no
	// public URL is needed. It takes an app-level token.
	ModeSocket Mode = "socket"
	// ModeHTTP receives Slack's requests on Handler, which must be reachable
	// from Slack. It takes the signing secret.
	ModeHTTP Mode = "http"
)

// Config is the bot's configuration. Secrets are not read from the
// configuration file itself: the caller resolves them (from the
// environment or a file) and sets them here.
type Config struct {
	Mode Mode `yaml:"mode"`
	// BotToken (xoxb-) calls the Web API.
	BotToken Secret `yaml:"-"`
	// AppToken (xapp-, with connections:write) opens Socket Mode.
	AppToken Secret `yaml:"-"`
	// SigningSecret verifies requests in HTTP mode.
	SigningSecret Secret `yaml:"-"`

	// Admins are Slack user IDs that may look at every sender's mail.
	Admins []string `yaml:"admins"`
	// Users maps e-mail addresses to Slack user IDs, for addresses that
	// users.lookupByEmail does not find (aliases, shared mailboxes). It wins
	// over the lookup.
	Users map[string]string `yaml:"users"`
	// Language is used when neither the user's setting nor their Slack
	// locale says which catalogue to use.
	Language Lang `yaml:"language"`

	// Poll is how often the writer looks at the outbox when nothing wakes
	// it earlier.
	Poll time.Duration `yaml:"poll"`
	// MinBackoff and MaxBackoff bound the wait before retrying a delivery
	// that failed on a network or server error; it doubles per attempt.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// CallTimeout bounds one Web API call.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// UserTTL is how long a cached e-mail → user answer is trusted, and
	// ProfileTTL how long a user's locale and time zone are.
	UserTTL    time.Duration `yaml:"user_ttl"`
	ProfileTTL time.Duration `yaml:"profile_ttl"`
	// NudgeEvery is the least time between two nudges of one recipient
	// about one mail.
	NudgeEvery time.Duration `yaml:"nudge_every"`

	// Digests are the channel digests.
	Digests []DigestConfig `yaml:"digests"`
	// BounceAlerts post the bounces of a team's senders to a channel.
	BounceAlerts []BounceAlertConfig `yaml:"bounce_alerts"`
	// WorkingDay reports whether a time falls on a working day, for the
	// morning summaries; nil means Monday to Friday.
	WorkingDay func(time.Time) bool `yaml:"-"`
	// Webmail names the web client of senders' mailboxes, by address or
	// "@domain", for the card's link that opens the mail there.
	Webmail map[string]Webmail `yaml:"webmail"`
	// Setup is how mail gets tracked here, for App Home's welcome; nil
	// keeps the welcome general.
	Setup *Setup `yaml:"-"`

	// APIURL is the Web API's base URL, ending in a slash.
	APIURL string `yaml:"api_url"`
	// ResponseURLPrefix is what a response_url must start with before the
	// bot posts to it.
	ResponseURLPrefix string `yaml:"response_url_prefix"`
	// HTTPClient makes the Web API calls; nil uses http.DefaultClient.
	HTTPClient *http.Client `yaml:"-"`
	// Now is the clock of what people do in Slack (snoozes, closing,
	// "Seen it"); nil is time.Now. The demo runs on its own clock.
	Now func() time.Time `yaml:"-"`
	// DontRecover lets a panic in a handler crash the program; tests set it
	// so that bugs fail loudly.
	DontRecover bool `yaml:"-"`
}

// Defaults returns the configuration with every default set.
func Defaults() Config {
	return Config{
		Mode:              ModeSocket,
		Language:          English,
		Poll:              5 * time.Second,
		MinBackoff:        5 * time.Second,
		MaxBackoff:        5 * time.Minute,
		CallTimeout:       15 * time.Second,
		UserTTL:           24 * time.Hour,
		ProfileTTL:        time.Hour,
		NudgeEvery:        12 * time.Hour,
		APIURL:            slack.APIURL,
		ResponseURLPrefix: "https://hooks.slack.com/",
	}
}

// Validate reports every problem in c, not only the first.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Mode {
	case ModeSocket:
		if !strings.HasPrefix(c.AppToken.Reveal(), "xapp-") {
			bad("slack: socket mode needs an app-level token (xapp-...)")
		}
	case ModeHTTP:
		if c.SigningSecret == "" {
			bad("slack: http mode needs the signing secret")
		}
	default:
		bad("slack: mode %q: want %q or %q", c.Mode, ModeSocket, ModeHTTP)
	}
	if !strings.HasPrefix(c.BotToken.Reveal(), "xoxb-") {
		bad("slack: bot token must be a bot token (xoxb-...)")
	}
	if !c.Language.valid() {
		bad("slack: language %q: want en or ja", c.Language)
	}
	durations := []struct {
		name string
		d    time.Duration
	}{{"poll", c.Poll}, {"min_backoff", c.MinBackoff}, {"max_backoff", c.MaxBackoff},
		{"call_timeout", c.CallTimeout}, {"user_ttl", c.UserTTL}, {"profile_ttl", c.ProfileTTL}}
	for _, d := range durations {
		if d.d <= 0 {
			bad("slack: %s must be positive", d.name)
		}
	}
	for email, id := range c.Users {
		if !strings.Contains(email, "@") || id == "" {
			bad("slack: users: %q → %q is not an address and a user ID", email, id)
		}
	}
	for key, w := range c.Webmail {
		if !strings.Contains(key, "@") || !w.valid() {
			bad("slack: webmail: %q → %q: want an address or @domain and %q or %q", key, w, WebmailOutlook, WebmailGmail)
		}
	}
	for i, a := range c.BounceAlerts {
		if a.Channel == "" || len(a.Senders) == 0 {
			bad("slack: bounce_alerts[%d]: needs a channel and senders", i)
		}
		for _, s := range a.Senders {
			if !strings.Contains(s, "@") {
				bad("slack: bounce_alerts[%d]: sender %q is not an address or @domain", i, s)
			}
		}
	}
	for i, d := range c.Digests {
		if err := d.validate(); err != nil {
			bad("slack: digests[%d]: %w", i, err)
		}
	}
	return errors.Join(errs...)
}

// DigestConfig is one channel digest: on Schedule, the mails still
// unconfirmed After they were sent, grouped by sender, are posted to
// Channel. Nothing is posted when there are none.
type DigestConfig struct {
	Channel string `yaml:"channel"`
	// Schedule is a five-field cron expression ("0 9 * * 1-5").
	Schedule string `yaml:"schedule"`
	// Timezone is the IANA zone the schedule and the dates are in; empty
	// means UTC.
	Timezone string `yaml:"timezone"`
	// After is how long a mail must have waited to be listed.
	After time.Duration `yaml:"after"`
	// RedactSubjects leaves the subjects out, for channels where they must
	// not be seen.
	RedactSubjects bool `yaml:"redact_subjects"`
	// Language of the digest; empty uses the bot's.
	Language Lang `yaml:"language"`
	// Limit caps the mails listed; 0 means 50.
	Limit int `yaml:"limit"`
}

// spec is the cron spec with the zone, as robfig/cron reads it.
func (d DigestConfig) spec() string {
	if d.Timezone == "" {
		return "CRON_TZ=UTC " + d.Schedule
	}
	return "CRON_TZ=" + d.Timezone + " " + d.Schedule
}

func (d DigestConfig) validate() error {
	var errs []error
	if d.Channel == "" {
		errs = append(errs, errors.New("no channel"))
	}
	if _, err := time.LoadLocation(d.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("timezone %q: %w", d.Timezone, err))
	} else if _, err := cron.ParseStandard(d.spec()); err != nil {
		errs = append(errs, fmt.Errorf("schedule %q: %w", d.Schedule, err))
	}
	if d.After < 0 {
		errs = append(errs, errors.New("after must not be negative"))
	}
	if d.Language != "" && !d.Language.valid() {
		errs = append(errs, fmt.Errorf("language %q: want en or ja", d.Language))
	}
	return errors.Join(errs...)
}
