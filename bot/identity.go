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
	Name   string // real name, else display name
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
	// pace keeps users.lookupByEmail and users.info within their limits.
	pace *pacing

	mu       sync.Mutex // guards profiles
	profiles map[string]profile
}

func newDirectory(api *slack.Client, cache UserCache, cfg Config, pace *pacing, log *slog.Logger) *directory {
	d := &directory{
		api: api, cache: cache, overrides: map[string]string{},
		ttl: cfg.UserTTL, profileTTL: cfg.ProfileTTL, log: log,
		profiles: map[string]profile{},
		pace:     pace,
	}
	for email, id := range cfg.Users {
		d.overrides[track.NormalizeAddress(email)] = id
	}
	return d
}

// userOf returns the Slack user ID of an address, or "" when the
// workspace has no such user. A lookup waits for its turn within Slack's
// rate limit, and once for Retry-After when Slack still says 429.
func (d *directory) userOf(ctx context.Context, email string) (string, error) {
	addr := track.NormalizeAddress(email)
	id, known, err := d.cached(ctx, addr)
	if err != nil || known {
		return id, err
	}
	if err := d.pace.wait(ctx, paced, "users.lookupByEmail", ""); err != nil {
		return "", err
	}
	return d.lookup(ctx, addr, true)
}

// knownUser is userOf without waiting: the cached answer, or a lookup
// when the rate limit allows one at once. known is false when neither
// answered, so the caller can show the recipient as possibly in Slack
// instead of waiting minutes for a cold cache.
func (d *directory) knownUser(ctx context.Context, email string) (id string, known bool) {
	addr := track.NormalizeAddress(email)
	id, known, err := d.cached(ctx, addr)
	if err != nil || known || !d.pace.allow("users.lookupByEmail") {
		return id, known && err == nil
	}
	id, err = d.lookup(ctx, addr, false)
	return id, err == nil
}

// cached answers from the overrides and the cache.
func (d *directory) cached(ctx context.Context, addr string) (string, bool, error) {
	if id, ok := d.overrides[addr]; ok {
		return id, true, nil
	}
	u, ok, err := d.cache.CachedUser(ctx, addr)
	if err != nil {
		return "", false, fmt.Errorf("user of %s: %w", addr, err)
	}
	if ok && time.Since(u.FetchedAt) < d.ttl {
		return u.ID, true, nil
	}
	return "", false, nil
}

// lookup asks users.lookupByEmail and caches the answer. With wait, a
// 429 is retried once after its Retry-After.
func (d *directory) lookup(ctx context.Context, addr string, wait bool) (string, error) {
	su, err := d.api.GetUserByEmailContext(ctx, addr)
	if kind, after := classify(err); err != nil && kind == failRateLimited {
		d.pace.pause("users.lookupByEmail", after)
		if wait {
			if err := d.pace.wait(ctx, paced, "users.lookupByEmail", ""); err != nil {
				return "", err
			}
			su, err = d.api.GetUserByEmailContext(ctx, addr)
		}
	}
	id := ""
	switch {
	case slackCode(err) == "users_not_found":
	case err != nil:
		return "", fmt.Errorf("users.lookupByEmail %s: %w", addr, err)
	case !su.Deleted && !su.IsBot:
		id = su.ID
	}
	if err := d.cache.PutCachedUser(ctx, addr, CachedUser{ID: id, FetchedAt: time.Now()}); err != nil {
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
	if err := d.pace.wait(ctx, paced, "users.info", ""); err != nil {
		return profile{}, err
	}
	u, err := d.api.GetUserInfoContext(ctx, userID, slack.GetUserInfoOptionIncludeLocale(true))
	if kind, after := classify(err); err != nil && kind == failRateLimited {
		d.pace.pause("users.info", after)
	}
	if err != nil {
		return profile{}, fmt.Errorf("users.info %s: %w", userID, err)
	}
	tz, err := time.LoadLocation(u.TZ)
	if err != nil || u.TZ == "" {
		tz = time.UTC
	}
	name := u.RealName
	if name == "" {
		name = u.Profile.DisplayName
	}
	p = profile{ID: u.ID, Name: name, Email: track.NormalizeAddress(u.Profile.Email), Locale: u.Locale, TZ: tz, at: now}
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
