package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

// profile is what the bot needs to know about a Slack user.
type profile struct {
	ID     string
	Email  string
	Locale string
	TZ     *time.Location
	at     time.Time
}

// directory maps e-mail addresses to Slack users and users to their
// profiles. It is safe for concurrent use.
type directory struct {
	api        *slack.Client
	cache      UserCache
	overrides  map[string]string // normalised address → user ID
	ttl        time.Duration
	profileTTL time.Duration
	log        *slog.Logger

	mu       sync.Mutex // guards profiles
	profiles map[string]profile
}

func newDirectory(api *slack.Client, cache UserCache, cfg Config, log *slog.Logger) *directory {
	d := &directory{
		api: api, cache: cache, overrides: map[string]string{},
		ttl: cfg.UserTTL, profileTTL: cfg.ProfileTTL, log: log,
		profiles: map[string]profile{},
	}
	for email, id := range cfg.Users {
		d.overrides[track.NormalizeAddress(email)] = id
	}
	return d
}

// userOf returns the Slack user ID of an address, or "" when the
// workspace has no such user.
func (d *directory) userOf(ctx context.Context, email string) (string, error) {
	addr := track.NormalizeAddress(email)
	if id, ok := d.overrides[addr]; ok {
		return id, nil
	}
	u, ok, err := d.cache.CachedUser(ctx, addr)
	if err != nil {
		return "", fmt.Errorf("user of %s: %w", addr, err)
	}
	now := time.Now()
	if ok && now.Sub(u.FetchedAt) < d.ttl {
		return u.ID, nil
	}
	id := ""
	su, err := d.api.GetUserByEmailContext(ctx, addr)
	switch {
	case slackCode(err) == "users_not_found":
	case err != nil:
		return "", fmt.Errorf("users.lookupByEmail %s: %w", addr, err)
	case !su.Deleted && !su.IsBot:
		id = su.ID
	}
	if err := d.cache.PutCachedUser(ctx, addr, CachedUser{ID: id, FetchedAt: now}); err != nil {
		// The answer is right; only the next lookup costs a call again.
		d.log.Warn("cannot cache slack user", "address", addr, "err", err)
	}
	return id, nil
}

// profile returns a user's e-mail address, locale and time zone from
// users.info, cached for profileTTL.
func (d *directory) profile(ctx context.Context, userID string) (profile, error) {
	now := time.Now()
	d.mu.Lock()
	p, ok := d.profiles[userID]
	d.mu.Unlock()
	if ok && now.Sub(p.at) < d.profileTTL {
		return p, nil
	}
	u, err := d.api.GetUserInfoContext(ctx, userID, slack.GetUserInfoOptionIncludeLocale(true))
	if err != nil {
		return profile{}, fmt.Errorf("users.info %s: %w", userID, err)
	}
	tz, err := time.LoadLocation(u.TZ)
	if err != nil || u.TZ == "" {
		tz = time.UTC
	}
	p = profile{ID: u.ID, Email: track.NormalizeAddress(u.Profile.Email), Locale: u.Locale, TZ: tz, at: now}
	d.mu.Lock()
	d.profiles[userID] = p
	d.mu.Unlock()
	return p, nil
}

// addresses returns the e-mail addresses whose mail a user may see: their
// Slack address and those the configuration maps to them.
func (d *directory) addresses(ctx context.Context, userID string) ([]string, error) {
	p, err := d.profile(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []string
	if p.Email != "" {
		out = append(out, p.Email)
	}
	for addr, id := range d.overrides {
		if id == userID && !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	slices.Sort(out[min(1, len(out)):]) // the Slack address first, then a stable order
	return out, nil
}

// owns reports whether userID is the sender of m.
func (d *directory) owns(ctx context.Context, userID string, m track.Mail) (bool, error) {
	id, err := d.userOf(ctx, m.Sender)
	if err != nil {
		return false, err
	}
	return id != "" && id == userID, nil
}
