package slackfake

import (
	"math"
	"time"
)

// Rate limit tiers, from https://docs.slack.dev/apis/web-api/rate-limits:
// "Tier 1: 1+ per minute ... a small amount of burst behavior is
// tolerated", "Tier 2: 20+ per minute", "Tier 3: 50+ per minute ...
// sporadic bursts are welcome", "Tier 4: 100+ per minute ... generous burst
// behavior", applied "per API method per workspace per app". The fake
// takes each tier's floor as the rate and allows a burst of one minute's
// worth (five calls for Tier 1); Slack does not document burst sizes.
type tier struct {
	perMinute float64
	burst     float64
}

var (
	tier1 = tier{1, 5}
	tier3 = tier{50, 50}
	tier4 = tier{100, 100}
)

// methodTiers gives each method's tier, from the "Rate limits" fact of its
// page under https://docs.slack.dev/reference/methods/.
var methodTiers = map[string]tier{
	"apps.connections.open": tier1,
	"auth.test":             tier4, // "Special": the fake treats it as Tier 4
	"chat.update":           tier3,
	"chat.postEphemeral":    tier4,
	"conversations.history": tier3, // for internal apps (the method's page)
	"conversations.replies": tier3,
	"conversations.info":    tier3,
	"conversations.join":    tier3,
	"conversations.open":    tier3,
	"users.info":            tier4,
	"users.lookupByEmail":   tier3,
	"views.open":            tier4,
	"views.update":          tier4,
	"views.publish":         tier4,
}

// postMessageRate: chat.postMessage "generally allows posting one message
// per second per channel" with "short bursts >1 allowed"
// (https://docs.slack.dev/apis/web-api/rate-limits#special). The burst
// size is not documented; the fake allows 20.
var postMessageRate = tier{60, 20}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	at     time.Time
}

// take takes one token from the bucket named key at now, or returns how
// long until one is there.
func take(buckets map[string]*bucket, key string, t tier, now time.Time) (time.Duration, bool) {
	b, ok := buckets[key]
	if !ok {
		b = &bucket{tokens: t.burst, at: now}
		buckets[key] = b
	}
	perSecond := t.perMinute / 60
	b.tokens = math.Min(t.burst, b.tokens+now.Sub(b.at).Seconds()*perSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
	return wait, false
}

// retryAfter is the Retry-After header for a wait: whole seconds, at least
// one ("Retry-After: the number of seconds until you can retry").
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
