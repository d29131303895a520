package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limit is how often the bot calls one Web API method, or posts to one
// channel: a token bucket refilled at perMinute with room for burst.
type limit struct {
	perMinute float64
	burst     int
}

// Slack applies its Web API limits "per API method per workspace per
// app", in tiers: "Tier 3:
// 50+ per minute ... sporadic bursts are welcome", "Tier 4: 100+ per minute
// ... generous burst behavior" (https://docs.slack.dev/apis/web-api/rate-limits).
// The bot paces each method at its tier's floor. Slack does not size the
// bursts; the bot allows a fifth of a minute's calls at once, so that no
// minute sees more than 1.2 times the floor.
var (
	tier3 = limit{50, 10}
	tier4 = limit{100, 20}
)

// perChannelPost paces chat.postMessage, whose limit is "special": it
// "generally allows posting one message per second per channel, while
// also maintaining a workspace-wide limit", with "short bursts >1 allowed"
// (https://docs.slack.dev/apis/web-api/rate-limits, and the "Rate limits"
// fact of https://docs.slack.dev/reference/methods/chat.postMessage). The
// workspace-wide figure is not published: a 429 from it pauses the method
// in every channel (see pause).
var perChannelPost = limit{60, 3}

// methodLimits gives each method the bot calls its tier, from the "Rate
// limits" fact of its page under https://docs.slack.dev/reference/methods/.
// A method not listed is not paced (a response_url is not a Web API
// method).
var methodLimits = map[string]limit{
	"chat.update":        tier3,
	"chat.postEphemeral": tier4,
	// For internal (customer-built) apps; commercially distributed apps
	// outside the Marketplace get 1 a minute
	// (https://docs.slack.dev/reference/methods/conversations.history).
	"conversations.history": tier3,
	"conversations.replies": tier3,
	"conversations.info":    tier3,
	"conversations.join":    tier3,
	"conversations.open":    tier3,
	"users.info":            tier4,
	"users.lookupByEmail":   tier3,
	"views.open":            tier4,
	"views.publish":         tier4,
	"views.update":          tier4,
}

// postMessage is the method paced per channel.
const postMessage = "chat.postMessage"

// maxIdleChannels bounds the per-channel buckets kept; beyond it, the
// buckets that are full again (their channel idle) are dropped.
const maxIdleChannels = 1024

// pacer says how a Web API call waits for its turn.
type pacer bool

const (
	// paced calls wait until their method (and, for chat.postMessage,
	// their channel) has room within Slack's limit.
	paced pacer = true
	// unpaced calls answer a person: they are few, and a trigger_id
	// expires in three seconds. They go at once, and the room they take
	// is taken from the paced calls after them.
	unpaced pacer = false
)

// pacing holds the buckets of every method and channel. It is safe for
// concurrent use.
type pacing struct {
	log *slog.Logger // hears of every wait for a turn, at debug level

	mu       sync.Mutex // guards the fields below
	methods  map[string]*rate.Limiter
	channels map[string]*rate.Limiter // chat.postMessage, by channel
	paused   map[string]time.Time     // method → no calls before, after a 429
}

func newPacing(log *slog.Logger) *pacing {
	p := &pacing{
		log:      log,
		methods:  map[string]*rate.Limiter{},
		channels: map[string]*rate.Limiter{},
		paused:   map[string]time.Time{},
	}
	for m, l := range methodLimits {
		p.methods[m] = l.limiter()
	}
	return p
}

func (l limit) limiter() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(l.perMinute/60), l.burst)
}

// bucket returns the bucket of a call of method to channel, or nil when
// the method is not paced, and until when Slack asked the method to wait.
func (p *pacing) bucket(method, channel string, now time.Time) (*rate.Limiter, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := p.paused[method]
	if method != postMessage {
		return p.methods[method], until
	}
	lim, ok := p.channels[channel]
	if !ok {
		if len(p.channels) >= maxIdleChannels {
			for ch, l := range p.channels {
				if l.TokensAt(now) >= float64(l.Burst()) {
					delete(p.channels, ch)
				}
			}
		}
		lim = perChannelPost.limiter()
		p.channels[channel] = lim
	}
	return lim, until
}

// wait takes a turn for one call of method (to channel, for
// chat.postMessage). A paced call waits for it, and for the end of a
// pause Slack asked for; it fails only when ctx ends, with ctx's error, so
// a caller can tell a shutdown from a failed call. Unlike
// rate.Limiter.Wait it never refuses a turn because it lies beyond ctx's
// deadline: it waits until the deadline, and the call's own timeout
// starts once the turn has come.
func (p *pacing) wait(ctx context.Context, pace pacer, method, channel string) error {
	lim, until := p.bucket(method, channel, time.Now())
	if pace == unpaced {
		if lim != nil {
			lim.Reserve() // the room is taken, not waited for
		}
		return nil
	}
	paused := time.Until(until)
	if err := sleep(ctx, paused); err != nil {
		return err
	}
	if lim == nil {
		p.waited(method, channel, paused, 0)
		return nil
	}
	r := lim.Reserve()
	turn := r.Delay()
	if err := sleep(ctx, turn); err != nil {
		r.Cancel()
		return err
	}
	p.waited(method, channel, paused, turn)
	return nil
}

// waited logs a call's wait for its turn: for the end of a pause after a
// 429, and for room in its method's (or channel's) bucket.
func (p *pacing) waited(method, channel string, paused, turn time.Duration) {
	if paused <= 0 && turn <= 0 {
		return
	}
	p.log.Debug("slack call waited for its turn", "method", method, "channel", channel,
		"paused_ms", max(paused, 0).Milliseconds(), "paced_ms", turn.Milliseconds())
}

// allow takes a turn for a call of method only if one is there now.
func (p *pacing) allow(method string) bool {
	now := time.Now()
	lim, until := p.bucket(method, "", now)
	if now.Before(until) {
		return false
	}
	return lim == nil || lim.AllowN(now, 1)
}

// pause holds every paced call of method for d: Slack answered a 429
// with Retry-After. For chat.postMessage the pause covers every channel,
// since the answer may come from its workspace-wide limit.
func (p *pacing) pause(method string, d time.Duration) {
	if _, ok := methodLimits[method]; !ok && method != postMessage {
		return
	}
	until := time.Now().Add(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.paused[method]) {
		p.paused[method] = until
	}
}

// sleep waits for d, or returns ctx's error when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
