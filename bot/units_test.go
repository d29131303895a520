package bot

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestQuietHours(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	day := func(h, m int) time.Time { return time.Date(2025, 6, 2, h, m, 0, 0, tokyo) }
	night := QuietHours{Start: 22 * 60, End: 7 * 60}
	lunch := QuietHours{Start: 12 * 60, End: 13 * 60}
	tests := []struct {
		name  string
		q     QuietHours
		at    time.Time
		until time.Time
		quiet bool
	}{
		{"off", QuietHours{}, day(23, 0), time.Time{}, false},
		{"late evening", night, day(23, 30), time.Date(2025, 6, 3, 7, 0, 0, 0, tokyo), true},
		{"early morning", night, day(6, 59), day(7, 0), true},
		{"morning", night, day(7, 0), time.Time{}, false},
		{"evening", night, day(21, 59), time.Time{}, false},
		{"lunch", lunch, day(12, 30), day(13, 0), true},
		{"after lunch", lunch, day(13, 0), time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			until, quiet := tc.q.Until(tc.at.UTC(), tokyo)
			if quiet != tc.quiet || !until.Equal(tc.until) {
				t.Errorf("%v.Until(%v) = %v, %v; want %v, %v", tc.q, tc.at, until, quiet, tc.until, tc.quiet)
			}
		})
	}
}

func TestParseSettings(t *testing.T) {
	deadlines := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2d", 48 * time.Hour, true}, {"36h", 36 * time.Hour, true}, {"default", 0, true}, {"off", -1, true},
		{"0d", 0, false}, {"2", 0, false}, {"soon", 0, false}, {"-3d", 0, false},
	}
	for _, tc := range deadlines {
		got, err := ParseDeadline(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDeadline(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if back, _ := ParseDeadline(formatDeadline(got)); tc.ok && back != got {
			t.Errorf("formatDeadline(%v) = %q does not read back", got, formatDeadline(got))
		}
	}
	for _, in := range []string{"22:00-07:00", "off", "9:30-10:00"} {
		if _, err := ParseQuietHours(in); err != nil {
			t.Errorf("ParseQuietHours(%q) = %v", in, err)
		}
	}
	for _, in := range []string{"22-07", "25:00-07:00", "night"} {
		if _, err := ParseQuietHours(in); err == nil {
			t.Errorf("ParseQuietHours(%q) succeeded", in)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		kind  failure
		after time.Duration
	}{
		{"429 with Retry-After", fmt.Errorf("chat.update: %w", &slack.RateLimitedError{RetryAfter: 7 * time.Second}), failRateLimited, 7 * time.Second},
		{"429 without header", slack.StatusCodeError{Code: 429}, failRateLimited, defaultRetryAfter},
		{"ok false ratelimited", slack.SlackErrorResponse{Err: "ratelimited"}, failRateLimited, defaultRetryAfter},
		{"503", slack.StatusCodeError{Code: 503}, failTemporary, 0},
		{"internal_error", slack.SlackErrorResponse{Err: "internal_error"}, failTemporary, 0},
		{"network", errors.New("dial tcp: connection refused"), failTemporary, 0},
		{"invalid_blocks", slack.SlackErrorResponse{Err: "invalid_blocks"}, failPermanent, 0},
		{"400", slack.StatusCodeError{Code: 400}, failPermanent, 0},
	}
	for _, tc := range tests {
		kind, after := classify(tc.err)
		if kind != tc.kind || after != tc.after {
			t.Errorf("classify(%s) = %v, %v; want %v, %v", tc.name, kind, after, tc.kind, tc.after)
		}
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := Defaults()
	c.Mode = "smoke"
	c.BotToken = "xoxp-user-token"
	c.Language = "fr"
	c.Users = map[string]string{"not-an-address": "U1"}
	c.Digests = []DigestConfig{{Schedule: "every day", Timezone: "Mars/Olympus"}}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	for _, w := range []string{`mode "smoke"`, "bot token", `language "fr"`, "not-an-address", "no channel", "Mars/Olympus"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %v, want it to mention %q", err, w)
		}
	}
	ok := Defaults()
	ok.BotToken, ok.AppToken = "xoxb-1", "xapp-1"
	ok.Digests = []DigestConfig{{Channel: "C1", Schedule: "0 9 * * 1-5", Timezone: "Asia/Tokyo", After: 24 * time.Hour}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(good config) = %v", err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c := Defaults()
	c.BotToken, c.AppToken, c.SigningSecret = "xoxb-very-secret", "xapp-very-secret", "signing-very-secret"
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "cfg", c, "token", c.BotToken)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "token", c.AppToken)
	out := b.String() + fmt.Sprintf("%v %+v %#v %s", c, c, c, c.SigningSecret)
	if strings.Contains(out, "very-secret") {
		t.Errorf("a secret was printed: %s", out)
	}
	if c.BotToken.Reveal() != "xoxb-very-secret" {
		t.Error("Reveal does not return the secret")
	}
}

func TestDedupe(t *testing.T) {
	d := newDedupe(time.Hour)
	now := time.Now()
	if !d.first("Ev1", now) || d.first("Ev1", now.Add(5*time.Minute)) {
		t.Error("a retry within the hour was not recognised")
	}
	if !d.first("Ev1", now.Add(2*time.Hour)) {
		t.Error("an ID was remembered past its TTL")
	}
}
