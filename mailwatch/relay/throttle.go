package relay

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"
)

// Defaults for the login and connection limits.
const (
	// DefaultMaxConnections caps the connections served at once.
	DefaultMaxConnections = 100
	// DefaultAuthRate is how many logins per second the relay checks, from
	// all clients together; DefaultAuthBurst of them may come at once.
	DefaultAuthRate  = 10
	DefaultAuthBurst = 20
	// DefaultMaxAddrFailures failed logins from one address within
	// DefaultAddrFailureWindow shut that address out of AUTH until the
	// window has passed.
	DefaultMaxAddrFailures   = 10
	DefaultAddrFailureWindow = 15 * time.Minute
	// maxTrackedAddrs bounds the failure table; past it, expired entries
	// are dropped, and if that is not enough, the oldest.
	maxTrackedAddrs = 10000
)

var (
	errAddrBlocked = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "too many failed logins from your address, try again later"}
	errTooManyConns = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "too many connections, try again later"}
)

// authGuard limits password checks: globally with a token bucket, so that
// many parallel connections guess no faster than one, and per client
// address by counting failures in a window.
type authGuard struct {
	limiter *rate.Limiter
	max     int
	window  time.Duration
	now     func() time.Time

	mu    sync.Mutex // guards addrs
	addrs map[string]*addrFailures
}

// addrFailures are the failed logins of one address since first.
type addrFailures struct {
	first time.Time
	count int
}

func newAuthGuard(o Options, now func() time.Time) *authGuard {
	return &authGuard{
		limiter: rate.NewLimiter(rate.Limit(o.AuthRate), o.AuthBurst),
		max:     o.MaxAddrFailures, window: o.AddrFailureWindow, now: now,
		addrs: map[string]*addrFailures{},
	}
}

// blocked reports whether addr has failed too often lately.
func (g *authGuard) blocked(addr string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.addrs[addr]
	if !ok {
		return false
	}
	if g.now().Sub(f.first) >= g.window {
		delete(g.addrs, addr)
		return false
	}
	return f.count >= g.max
}

// wait takes a token from the global bucket, so that a password is checked
// only at the global rate.
func (g *authGuard) wait(ctx context.Context) error { return g.limiter.Wait(ctx) }

// failed counts a failed login from addr.
func (g *authGuard) failed(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	f, ok := g.addrs[addr]
	if !ok || now.Sub(f.first) >= g.window {
		if len(g.addrs) >= maxTrackedAddrs {
			g.prune(now)
		}
		f = &addrFailures{first: now}
		g.addrs[addr] = f
	}
	f.count++
}

// prune drops expired entries, and the oldest half if none had expired.
func (g *authGuard) prune(now time.Time) {
	for a, f := range g.addrs {
		if now.Sub(f.first) >= g.window {
			delete(g.addrs, a)
		}
	}
	if len(g.addrs) < maxTrackedAddrs {
		return
	}
	cut := now.Add(-g.window / 2)
	for a, f := range g.addrs {
		if f.first.Before(cut) {
			delete(g.addrs, a)
		}
	}
}

// clientAddr is the connection's peer for the failure count: its IPv4
// address, or its IPv6 /64, since one IPv6 client usually holds a whole
// /64.
func clientAddr(c *smtp.Conn) string {
	r := remote(c)
	ap, err := netip.ParseAddrPort(r)
	if err != nil {
		return r
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}
