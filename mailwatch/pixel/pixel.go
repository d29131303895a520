// Package pixel serves mailack's open-tracking pixel over HTTP:
// GET or HEAD PathPrefix + token + ".gif" (or ".png").
//
// # Model
//
// Every request for a pixel path gets the same 1x1 transparent image with
// Cache-Control: no-store, whatever happens behind it: a forged or retired
// token, tracking switched off, a failing or slow recorder. The request's
// own work is the same for every token: write the image, then put the hit
// on a bounded queue. Nothing about the token is checked on the request's
// path, so neither the answer nor its timing tells whether a token
// verifies.
//
// Workers take hits off the queue. A hit is recorded only when tracking is
// enabled, the token verifies (package track/pixel), the sender has not
// opted out and the rules do not attribute the fetch to the sender
// themselves. It becomes track.PixelEvidence with the time, the user agent
// and the machine flag the rules decide, and is handed to the Recorder.
// Within Options.DedupWindow only the first hit per mail, recipient and
// verdict (human, machine, proxy) is recorded, so one URL replayed ten
// thousand times is one open, not ten thousand records. The client's
// address is used for classification and passed on only when
// Options.StoreClientAddr is set.
//
// # Failure behaviour
//
// Recording runs under Options.RecordTimeout: a Recorder must honour its
// context. A failed or timed-out recording is logged and the open is
// lost; the client has its image either way. When the queue is full the
// hit is dropped. Every outcome is counted (Stats). Invalid tokens are
// logged at debug level without the token. Close stops the workers after
// the queue is drained; call it after the HTTP server has shut down.
package pixel

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

const (
	// DefaultRecordTimeout bounds one recording unless Options sets another.
	DefaultRecordTimeout = 200 * time.Millisecond
	// DefaultDedupWindow is how long repeated hits of one mail, recipient
	// and verdict count as one.
	DefaultDedupWindow = time.Hour
	// DefaultQueueSize is how many hits may wait for the workers.
	DefaultQueueSize = 1024
	// workers record hits; the store serialises writes anyway.
	workers = 2
	// maxDedupKeys bounds the dedup table.
	maxDedupKeys = 100000
	// maxUserAgent caps the user agent kept with an open.
	maxUserAgent = 512
)

// Recorder stores pixel opens.
type Recorder interface {
	// RecordOpen stores one open. It must return once ctx is done.
	RecordOpen(ctx context.Context, o Open) error
}

// Open is one recorded fetch of a pixel.
type Open struct {
	// Evidence is the fetch as track.PixelEvidence, with UserAgent set.
	// Its Recipient is empty for a pixel shared by every recipient.
	Evidence track.Evidence
	// Verdict is who the rules attribute the fetch to (never the sender:
	// those fetches are not recorded).
	Verdict trackpixel.Verdict
	// Rule names the rule that decided; empty when none matched.
	Rule string
	// ClientAddr is the client's address, set only when
	// Options.StoreClientAddr is.
	ClientAddr netip.Addr
}

// Options configure a Handler.
type Options struct {
	// Enabled switches recording on. When false, the image is still
	// served and nothing else happens.
	Enabled bool
	// Keys verify tokens; required when Enabled.
	Keys *trackpixel.Keys
	// Recorder stores opens; required when Enabled.
	Recorder Recorder
	// Rules classify fetches; nil uses trackpixel.DefaultRules().
	Rules []trackpixel.Rule
	// StoreClientAddr passes the client's address on with each open.
	// Off by default: the address is personal data.
	StoreClientAddr bool
	// OptedOut reports whether a sender has opted out of open tracking;
	// their opens are not recorded. Nil means nobody has.
	OptedOut func(sender string) bool
	// IsSender reports whether a fetch comes from the mail's sender (for
	// example, a cookie set by mailack's own pages). Nil means never. It
	// runs on a worker, after the response, with a copy of the request's
	// method, URL, header and remote address.
	IsSender func(r *http.Request, c trackpixel.Claims) bool
	// ClientAddr returns the client's address, for deployments behind a
	// reverse proxy; nil uses the connection's remote address.
	ClientAddr func(r *http.Request) netip.Addr
	// RecordTimeout bounds one recording; zero means DefaultRecordTimeout.
	RecordTimeout time.Duration
	// DedupWindow: after an open is recorded, further hits of the same
	// mail, recipient and verdict within the window are counted, not
	// recorded. Zero means DefaultDedupWindow; negative records every hit.
	DedupWindow time.Duration
	// QueueSize is how many hits may wait to be recorded; zero means
	// DefaultQueueSize. Hits beyond it are dropped and counted.
	QueueSize int
	// Logger receives the handler's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves pixel images and records opens. Create it with
// NewHandler; it is safe for concurrent use.
type Handler struct {
	opts    Options
	rules   []trackpixel.Rule
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time

	queue   chan hit
	pending sync.WaitGroup // hits queued and not yet handled
	workers sync.WaitGroup
	stats   counters

	mu     sync.Mutex // guards closed (sends on queue happen under it) and seen
	closed bool
	seen   map[dedupKey]time.Time // when each key was last recorded
}

// hit is one pixel request, as much of it as recording needs, taken
// before the handler returns.
type hit struct {
	token    string
	at       time.Time
	method   string
	ua       string
	addr     netip.Addr
	isSender func(trackpixel.Claims) bool
}

type dedupKey struct {
	messageID, recipient string
	verdict              trackpixel.Verdict
}

// Stats counts what became of pixel hits.
type Stats struct {
	// Recorded hits became evidence.
	Recorded uint64
	// Duplicates repeated a recorded open within the dedup window.
	Duplicates uint64
	// Invalid hits carried a token that did not verify.
	Invalid uint64
	// Ignored hits were the sender's own or an opted-out sender's.
	Ignored uint64
	// Dropped hits found the queue full or the handler closed.
	Dropped uint64
	// Failed hits could not be recorded (Recorder error or timeout).
	Failed uint64
}

type counters struct {
	recorded, duplicates, invalid, ignored, dropped, failed atomic.Uint64
}

// Stats returns the counts so far.
func (h *Handler) Stats() Stats {
	c := &h.stats
	return Stats{Recorded: c.recorded.Load(), Duplicates: c.duplicates.Load(), Invalid: c.invalid.Load(),
		Ignored: c.ignored.Load(), Dropped: c.dropped.Load(), Failed: c.failed.Load()}
}

// NewHandler checks opts and returns a handler for PathPrefix. Mount it
// at trackpixel.PathPrefix; other paths get 404.
func NewHandler(opts Options) (*Handler, error) {
	h := &Handler{opts: opts, rules: opts.Rules, timeout: opts.RecordTimeout, log: opts.Logger, now: opts.Now}
	if h.rules == nil {
		h.rules = trackpixel.DefaultRules()
	}
	if h.timeout <= 0 {
		h.timeout = DefaultRecordTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "pixel")
	if h.now == nil {
		h.now = time.Now
	}
	if h.opts.DedupWindow == 0 {
		h.opts.DedupWindow = DefaultDedupWindow
	}
	if h.opts.QueueSize <= 0 {
		h.opts.QueueSize = DefaultQueueSize
	}
	var errs []error
	if opts.Enabled && opts.Keys == nil {
		errs = append(errs, errors.New("pixel: enabled without keys"))
	}
	if opts.Enabled && opts.Recorder == nil {
		errs = append(errs, errors.New("pixel: enabled without a recorder"))
	}
	if err := trackpixel.Validate(h.rules); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new pixel handler: %w", errors.Join(errs...))
	}
	h.queue = make(chan hit, h.opts.QueueSize)
	h.seen = map[dedupKey]time.Time{}
	if opts.Enabled {
		for range workers {
			h.workers.Go(h.work)
		}
	}
	return h, nil
}

// Close stops taking hits, records those queued and stops the workers.
// Hits that arrive afterwards are served their image and dropped.
func (h *Handler) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.queue)
	}
	h.mu.Unlock()
	h.workers.Wait()
}

// drain waits until every hit queued so far has been handled.
func (h *Handler) drain() { h.pending.Wait() }

func (h *Handler) work() {
	for x := range h.queue {
		h.record(x)
		h.pending.Done()
	}
}

// enqueue hands x to the workers without waiting.
func (h *Handler) enqueue(x hit) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.stats.dropped.Add(1)
		return
	}
	h.pending.Add(1)
	select {
	case h.queue <- x:
	default:
		h.pending.Done()
		h.stats.dropped.Add(1)
	}
}

// ServeHTTP answers GET and HEAD for pixel paths with the image, then
// queues the hit for the workers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, format, ok := trackpixel.ParsePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	at := h.now()
	serveImage(w, r, format)
	if !h.opts.Enabled {
		return
	}
	x := hit{token: token, at: at, method: r.Method, ua: truncate(r.UserAgent(), maxUserAgent), addr: h.clientAddr(r)}
	if h.opts.IsSender != nil {
		// The request is not to be used once the handler returns; IsSender
		// gets a copy of what it may look at.
		rc := &http.Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone(), RemoteAddr: r.RemoteAddr, Host: r.Host}
		x.isSender = func(c trackpixel.Claims) bool { return h.opts.IsSender(rc, c) }
	}
	h.enqueue(x)
}

// serveImage writes the image and flushes it, so the client has all of it
// before recording starts.
func serveImage(w http.ResponseWriter, r *http.Request, format string) {
	img, ctype := gifImage, "image/gif"
	if format == "png" {
		img, ctype = pngImage, "image/png"
	}
	hdr := w.Header()
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Length", strconv.Itoa(len(img)))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		// A write error means the client left; there is nobody to tell.
		_, _ = w.Write(img)
	}
	// Not every ResponseWriter flushes (ErrNotSupported); the response
	// then goes out when the handler returns, which is still correct.
	_ = http.NewResponseController(w).Flush()
}

// record verifies, classifies, de-duplicates and records one hit.
func (h *Handler) record(x hit) {
	c, err := trackpixel.Verify(h.opts.Keys, x.token, x.at)
	if err != nil {
		h.stats.invalid.Add(1)
		h.log.Debug("invalid token", "err", err)
		return
	}
	if h.opts.OptedOut != nil && c.Sender != "" && h.opts.OptedOut(c.Sender) {
		h.stats.ignored.Add(1)
		h.log.Debug("sender opted out", "message_id", c.MessageID)
		return
	}
	th := trackpixel.Hit{
		UserAgent: x.ua,
		Method:    x.method,
		Addr:      x.addr,
		Sent:      c.Sent,
		At:        x.at,
		Sender:    x.isSender != nil && x.isSender(c),
	}
	verdict := trackpixel.VerdictHuman
	rule, matched := trackpixel.FirstMatch(th, h.rules)
	if matched {
		verdict = rule.Verdict
	}
	if verdict == trackpixel.VerdictSender {
		h.stats.ignored.Add(1)
		h.log.Debug("sender's own open", "message_id", c.MessageID, "rule", rule.Name)
		return
	}
	key := dedupKey{messageID: c.MessageID, recipient: c.Recipient, verdict: verdict}
	if !h.first(key, x.at) {
		h.stats.duplicates.Add(1)
		return
	}
	ev := track.PixelEvidence(rand.Text(), c.MessageID, c.Recipient, x.at, verdict.Machine())
	ev.UserAgent = x.ua
	o := Open{Evidence: ev, Verdict: verdict, Rule: rule.Name}
	if h.opts.StoreClientAddr {
		o.ClientAddr = x.addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	if err := h.opts.Recorder.RecordOpen(ctx, o); err != nil {
		h.forget(key, x.at)
		h.stats.failed.Add(1)
		h.log.Warn("record open", "message_id", c.MessageID, "verdict", verdict, "err", err)
		return
	}
	h.stats.recorded.Add(1)
	h.log.Debug("open recorded", "message_id", c.MessageID, "verdict", verdict, "rule", rule.Name)
}

// first reports whether a hit for key at is the first within the dedup
// window, and marks it as recorded.
func (h *Handler) first(key dedupKey, at time.Time) bool {
	if h.opts.DedupWindow < 0 {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if last, ok := h.seen[key]; ok && at.Sub(last) < h.opts.DedupWindow && !at.Before(last) {
		return false
	}
	if len(h.seen) >= maxDedupKeys {
		h.prune(at)
	}
	h.seen[key] = at
	return true
}

// forget unmarks key after its recording failed, so that a later hit may
// record it.
func (h *Handler) forget(key dedupKey, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[key].Equal(at) {
		delete(h.seen, key)
	}
}

// prune drops the keys whose window has passed, and every key if that
// frees nothing: the table stays bounded, at the price of recording a
// replay again.
func (h *Handler) prune(now time.Time) {
	for k, t := range h.seen {
		if now.Sub(t) >= h.opts.DedupWindow {
			delete(h.seen, k)
		}
	}
	if len(h.seen) >= maxDedupKeys {
		clear(h.seen)
	}
}

// clientAddr is the client's address, or the zero Addr when unknown.
func (h *Handler) clientAddr(r *http.Request) netip.Addr {
	if h.opts.ClientAddr != nil {
		return h.opts.ClientAddr(r).Unmap()
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
