package bot

import (
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxRemembered bounds the request signatures the replay guard keeps:
// 32,768 requests within the ten minutes a signature can stay valid is
// more than 50 a second, far above what one workspace sends an app. At
// the bound the oldest signature is forgotten first; it is the one
// closest to going stale anyway. A full guard holds about 6 MB
// (BenchmarkReplayGuard).
const maxRemembered = 1 << 15

// replayGuard remembers the signatures of the Slack requests accepted
// while they could still verify (MaxRequestAge around their timestamp),
// so that a correctly signed request sent again within that window is
// refused. Slack signs each request anew, so it never sends a signature
// twice; retried events carry a new one and are deduplicated by event_id.
// It is safe for concurrent use.
type replayGuard struct {
	max int

	mu    sync.Mutex         // guards the fields below
	seen  map[[32]byte]int64 // signature → Unix second it goes stale
	order []replayEntry      // seen's keys, oldest first, from head
	head  int
}

type replayEntry struct {
	sig   [32]byte
	stale int64
}

func newReplayGuard(max int) *replayGuard {
	return &replayGuard{max: max, seen: map[[32]byte]int64{}}
}

// first reports whether a request with signature (X-Slack-Signature) and
// timestamp (X-Slack-Request-Timestamp), already verified, is seen for the
// first time, and remembers it. The signature is compared as the bytes it
// encodes, so that a different spelling of the same hex does not pass.
func (g *replayGuard) first(timestamp, signature string, now time.Time) bool {
	ts, err1 := strconv.ParseInt(timestamp, 10, 64)
	raw, err2 := hex.DecodeString(strings.TrimPrefix(signature, "v0="))
	if err1 != nil || err2 != nil || len(raw) != 32 {
		return false // VerifySignature refuses these before
	}
	sig := [32]byte(raw)
	stale := ts + int64(MaxRequestAge/time.Second)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prune(now.Unix())
	if until, ok := g.seen[sig]; ok && until >= now.Unix() {
		return false
	}
	g.seen[sig] = stale
	g.order = append(g.order, replayEntry{sig: sig, stale: stale})
	return true
}

// prune forgets the signatures gone stale at now, and the oldest ones
// beyond the bound. Signatures arrive in roughly the order they go stale
// (timestamps are within MaxRequestAge of arrival), so pruning from the
// oldest is close to exact; one kept a little late costs only memory.
func (g *replayGuard) prune(now int64) {
	for g.head < len(g.order) {
		e := g.order[g.head]
		if e.stale >= now && len(g.seen) < g.max {
			break
		}
		if g.seen[e.sig] == e.stale {
			delete(g.seen, e.sig)
		}
		g.order[g.head] = replayEntry{}
		g.head++
	}
	if g.head > len(g.order)/2 {
		g.order = append(g.order[:0], g.order[g.head:]...)
		g.head = 0
	}
}

// size returns how many signatures are remembered.
func (g *replayGuard) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}
