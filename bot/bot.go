package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
)

// handlerTimeout bounds the work a request starts after its ack.
const handlerTimeout = time.Minute

// Bot is mailack's Slack app for one workspace. Build it with New, run it
// with Run and, in HTTP mode, serve Handler.
type Bot struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	api     *slack.Client
	http    *http.Client
	dir     *directory
	admins  map[string]bool
	pace    *pacing       // Web API calls within Slack's limits
	events  *dedupe       // Events API event IDs already handled
	replays *replayGuard  // signatures of the HTTP requests accepted
	kick    chan struct{} // wakes the writer early; capacity 1

	work sync.WaitGroup // handlers still running after their ack
	busy atomic.Int64   // the same, counted for Settle

	// settingsMu serialises every change of a user's settings, each read
	// afresh under it (editSettings), so that two changes at once both
	// stay.
	settingsMu sync.Mutex

	// cards serialise loading, rendering and sending one mail's card, so
	// that the writer and a button press cannot leave an older rendering
	// last. Each mail has a lock of its own: a card waiting for its turn
	// within Slack's limits holds back no other mail's card.
	cards cardLocks

	mu     sync.Mutex           // guards the fields below
	dms    map[string]string    // user ID → direct message channel ID
	nudged map[string]time.Time // Message-ID and address → last nudge
	self   string               // the bot's own bot ID (auth.test), once known
}

// New builds the bot. It checks cfg (Config.Validate) and that every
// required dependency is there; it does not contact Slack.
func New(cfg Config, deps Deps, log *slog.Logger) (*Bot, error) {
	if err := errors.Join(cfg.Validate(), deps.validate()); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	opts := []slack.Option{slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(hc)}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken.Reveal()))
	}
	api := slack.New(cfg.BotToken.Reveal(), opts...)
	log = log.With("component", "slack")
	b := &Bot{
		cfg:     cfg,
		deps:    deps,
		log:     log,
		api:     api,
		http:    hc,
		admins:  map[string]bool{},
		pace:    newPacing(log),
		events:  newDedupe(time.Hour),
		replays: newReplayGuard(maxRemembered),
		kick:    make(chan struct{}, 1),
		dms:     map[string]string{},
		nudged:  map[string]time.Time{},
	}
	b.dir = newDirectory(api, deps.Users, cfg, b.pace, log)
	for _, id := range cfg.Admins {
		b.admins[id] = true
	}
	return b, nil
}

// Run runs the whole bot on one node: Serve and Deliver together, until
// ctx is cancelled. It then waits for the handlers still running and
// returns nil, or the error that stopped a part early. In HTTP mode, shut
// the HTTP server down before cancelling ctx, so that no handler starts
// after Run has returned.
func (b *Bot) Run(ctx context.Context) error {
	return b.runParts(ctx, "slack bot", b.deliverParts(), b.serveParts())
}

// Serve answers people, until ctx is cancelled: in Socket Mode it keeps
// the connection to Slack (in HTTP mode Handler answers, and Serve only
// waits). In cluster mode every node serves, and any of them may answer
// any request; the notices a request causes go to the outbox, which the
// leader delivers (Deliver). Serve then waits for the handlers still
// running and returns nil, or the error that stopped it.
func (b *Bot) Serve(ctx context.Context) error {
	return b.runParts(ctx, "slack requests", b.serveParts())
}

// Deliver delivers the outbox, posts the digests and the morning
// summaries on their schedules, until ctx is cancelled. In cluster mode
// only the leader delivers, with its fence in ctx (store.WithFence).
func (b *Bot) Deliver(ctx context.Context) error {
	return b.runParts(ctx, "slack deliverer", b.deliverParts())
}

func (b *Bot) deliverParts() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"outbox":    b.runWriter,
		"digests":   b.runDigests,
		"summaries": b.runSummaries,
	}
}

func (b *Bot) serveParts() map[string]func(context.Context) error {
	parts := map[string]func(context.Context) error{}
	if b.cfg.Mode == ModeSocket {
		parts["socket mode"] = b.runSocket
	} else {
		parts["http"] = func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		}
	}
	return parts
}

// runParts runs every part of every group until ctx is cancelled or one
// fails, then waits for the request handlers still running.
func (b *Bot) runParts(ctx context.Context, what string, groups ...map[string]func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex // guards first
	var first error
	for _, parts := range groups {
		for name, run := range parts {
			wg.Go(func() {
				err := run(ctx)
				if err == nil || ctx.Err() != nil && errors.Is(err, context.Canceled) {
					return
				}
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%s: %w", name, err)
				}
				mu.Unlock()
				cancel()
			})
		}
	}
	b.log.Info(what+" running", "mode", b.cfg.Mode)
	wg.Wait()
	b.work.Wait()
	b.log.Info(what + " stopped")
	return first
}

// spawn runs f after a request was acknowledged, detached from the
// request's context but bounded by handlerTimeout. Run waits for it.
func (b *Bot) spawn(ctx context.Context, what string, f func(ctx context.Context)) {
	b.work.Add(1)
	b.busy.Add(1)
	go func() {
		defer b.work.Done()
		defer b.busy.Add(-1)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handlerTimeout)
		defer cancel()
		if !b.cfg.DontRecover {
			defer b.recoverPanic(what)
		}
		f(ctx)
	}()
}

// Settle waits until every request handler started so far (the work
// after a command, button or view was acknowledged) has finished, or ctx
// ends. A handler's notices are in the outbox when it returns.
func (b *Bot) Settle(ctx context.Context) error {
	for b.busy.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// Idle says whether no request handler is running.
func (b *Bot) Idle() bool { return b.busy.Load() == 0 }

// recoverPanic keeps one bad request from taking the bot down.
func (b *Bot) recoverPanic(what string) {
	if r := recover(); r != nil {
		b.log.Error("handler panicked", "handler", what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}

// lockCard locks the card of mail id and returns the unlock.
func (b *Bot) lockCard(id string) func() { return b.cards.lock(id) }

// cardLocks holds a lock for each mail whose card someone holds or waits
// for; the zero value is ready to use.
type cardLocks struct {
	mu   sync.Mutex           // guards held
	held map[string]*cardLock // Message-ID → its lock, while in use
}

type cardLock struct {
	mu   sync.Mutex
	refs int // holders and waiters; guarded by cardLocks.mu
}

// lock locks mail id's card and returns the unlock.
func (c *cardLocks) lock(id string) func() {
	c.mu.Lock()
	if c.held == nil {
		c.held = map[string]*cardLock{}
	}
	l := c.held[id]
	if l == nil {
		l = &cardLock{}
		c.held[id] = l
	}
	l.refs++
	c.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		c.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(c.held, id)
		}
		c.mu.Unlock()
	}
}

// now is the time of a person's action.
func (b *Bot) now() time.Time {
	if b.cfg.Now != nil {
		return b.cfg.Now()
	}
	return time.Now()
}

// wake makes the writer look at the outbox now.
func (b *Bot) wake() { b.Wake() }

// Wake makes the outbox writer look at the outbox now rather than at its
// next poll; call it after putting notices there. It never blocks.
func (b *Bot) Wake() {
	select {
	case b.kick <- struct{}{}:
	default: // already woken
	}
}

// dedupe remembers IDs for a while. It is safe for concurrent use.
type dedupe struct {
	ttl  time.Duration
	mu   sync.Mutex // guards seen
	seen map[string]time.Time
}

func newDedupe(ttl time.Duration) *dedupe {
	return &dedupe{ttl: ttl, seen: map[string]time.Time{}}
}

// first reports whether id is seen for the first time within the TTL, and
// remembers it.
func (d *dedupe) first(id string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, at := range d.seen {
		if now.Sub(at) > d.ttl {
			delete(d.seen, k)
		}
	}
	if _, ok := d.seen[id]; ok {
		return false
	}
	d.seen[id] = now
	return true
}
