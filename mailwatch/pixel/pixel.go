// Package pixel serves mailack's open-tracking pixel over HTTP:
// GET or HEAD PathPrefix + token + ".gif" (or ".png").
//
// # Model
//
// Every request for a pixel path gets the same 1x1 transparent image with
// Cache-Control: no-store, whatever happens behind it: a forged or retired
// token, tracking switched off, a failing or slow recorder. The image is
// written and flushed before anything is recorded, so the client never
// waits for the store.
//
// After that, a hit is recorded only when tracking is enabled, the token
// verifies (package track/pixel), the sender has not opted out and the
// rules do not attribute the fetch to the sender themselves. It becomes
// track.PixelEvidence with the time, the user agent and the machine flag
// the rules decide, and is handed to the Recorder. The client's address
// is used for classification and passed on only when
// Options.StoreClientAddr is set.
//
// # Failure behaviour
//
// Recording runs on the request's goroutine, after the response, under
// Options.RecordTimeout: a Recorder must honour its context. A failed or
// timed-out recording is logged and the open is lost; the client has its
// image either way. Invalid tokens are logged at debug level without the
// token. Because recording stays on the request's goroutine,
// http.Server.Shutdown waits for recordings in flight, and no goroutine
// outlives the request.
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
	"time"

	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

const (
	// DefaultRecordTimeout bounds one recording unless Options sets another.
	DefaultRecordTimeout = 200 * time.Millisecond
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
	// example, a cookie set by mailack's own pages). Nil means never.
	IsSender func(r *http.Request, c trackpixel.Claims) bool
	// ClientAddr returns the client's address, for deployments behind a
	// reverse proxy; nil uses the connection's remote address.
	ClientAddr func(r *http.Request) netip.Addr
	// RecordTimeout bounds one recording; zero means DefaultRecordTimeout.
	RecordTimeout time.Duration
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
	return h, nil
}

// ServeHTTP answers GET and HEAD for pixel paths with the image, then
// records the hit.
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
	h.record(r, token, at)
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

// record verifies, classifies and records one hit.
func (h *Handler) record(r *http.Request, token string, at time.Time) {
	c, err := trackpixel.Verify(h.opts.Keys, token, at)
	if err != nil {
		h.log.Debug("invalid token", "err", err)
		return
	}
	if h.opts.OptedOut != nil && c.Sender != "" && h.opts.OptedOut(c.Sender) {
		h.log.Debug("sender opted out", "message_id", c.MessageID)
		return
	}
	addr := h.clientAddr(r)
	hit := trackpixel.Hit{
		UserAgent: r.UserAgent(),
		Method:    r.Method,
		Addr:      addr,
		Sent:      c.Sent,
		At:        at,
		Sender:    h.opts.IsSender != nil && h.opts.IsSender(r, c),
	}
	verdict := trackpixel.VerdictHuman
	rule, matched := trackpixel.FirstMatch(hit, h.rules)
	if matched {
		verdict = rule.Verdict
	}
	if verdict == trackpixel.VerdictSender {
		h.log.Debug("sender's own open", "message_id", c.MessageID, "rule", rule.Name)
		return
	}
	ev := track.PixelEvidence(rand.Text(), c.MessageID, c.Recipient, at, verdict.Machine())
	ev.UserAgent = truncate(hit.UserAgent, maxUserAgent)
	o := Open{Evidence: ev, Verdict: verdict, Rule: rule.Name}
	if h.opts.StoreClientAddr {
		o.ClientAddr = addr
	}
	// The client may hang up as soon as it has the image; the recording
	// must not end with it, only with the timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.timeout)
	defer cancel()
	if err := h.opts.Recorder.RecordOpen(ctx, o); err != nil {
		h.log.Warn("record open", "message_id", c.MessageID, "verdict", verdict, "err", err)
		return
	}
	h.log.Debug("open recorded", "message_id", c.MessageID, "verdict", verdict, "rule", rule.Name)
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
