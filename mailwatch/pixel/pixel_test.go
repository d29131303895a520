package pixel

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/gif"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

var (
	secret  = []byte("0123456789abcdef0123456789abcdef")
	sentAt  = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	fetchAt = sentAt.Add(time.Hour)
)

const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// fakeRecorder records opens. It fails with err when set, and when block
// is set it waits until block is closed or its context ends.
type fakeRecorder struct {
	err     error
	block   chan struct{}
	entered chan context.Context // receives each call's context when set

	mu    sync.Mutex // guards opens
	opens []Open
}

func (f *fakeRecorder) RecordOpen(ctx context.Context, o Open) error {
	if f.entered != nil {
		f.entered <- ctx
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens = append(f.opens, o)
	return nil
}

func (f *fakeRecorder) recorded() []Open {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Open(nil), f.opens...)
}

func testKeys(t testing.TB) *trackpixel.Keys {
	t.Helper()
	ks, err := trackpixel.NewKeys(trackpixel.Key{ID: 1, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func mint(t testing.TB, ks *trackpixel.Keys, c trackpixel.Claims) string {
	t.Helper()
	tok, err := trackpixel.Mint(ks, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newHandler returns an enabled handler with a fixed clock and rec.
func newHandler(t testing.TB, rec *fakeRecorder, mod func(*Options)) (*Handler, *trackpixel.Keys) {
	t.Helper()
	ks := testKeys(t)
	o := Options{Enabled: true, Keys: ks, Recorder: rec, Logger: testLogger(t), Now: func() time.Time { return fetchAt }}
	if mod != nil {
		mod(&o)
	}
	h, err := NewHandler(o)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	t.Cleanup(h.Close)
	return h, ks
}

// serve runs one request through h and waits until the workers have
// handled it, so any recording has finished when it returns.
func serve(h *Handler, method, path, ua string) *http.Response {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = "203.0.113.7:40000"
	if ua != "" {
		r.Header.Set("User-Agent", ua)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	h.drain()
	return w.Result()
}

// checkImage fails unless resp is the 1x1 transparent image in format.
func checkImage(t *testing.T, resp *http.Response, method, format string) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got, want := resp.Header.Get("Content-Type"), "image/"+format; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	want := gifImage
	if format == "png" {
		want = pngImage
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(want)) {
		t.Errorf("Content-Length = %q, want %d", cl, len(want))
	}
	if method == http.MethodHead {
		if len(body) != 0 {
			t.Errorf("HEAD body is %d bytes, want none", len(body))
		}
		return
	}
	if !bytes.Equal(body, want) {
		t.Errorf("body = %x, want the %s pixel", body, format)
	}
}

func TestImagesDecode(t *testing.T) {
	for name, dec := range map[string]func(io.Reader) (image.Image, error){"gif": gif.Decode, "png": png.Decode} {
		img := gifImage
		if name == "png" {
			img = pngImage
		}
		m, err := dec(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		if b := m.Bounds(); b.Dx() != 1 || b.Dy() != 1 {
			t.Errorf("%s is %v, want 1x1", name, b)
		}
		if _, _, _, a := m.At(0, 0).RGBA(); a != 0 {
			t.Errorf("%s pixel alpha = %d, want 0 (transparent)", name, a)
		}
	}
	if !bytes.HasPrefix(gifImage, []byte("GIF89a")) {
		t.Errorf("gif header = %q, want GIF89a", gifImage[:6])
	}
}

// TestAlwaysServesImage: every request for a pixel path gets the image,
// whatever the token, the configuration or the recorder does.
func TestAlwaysServesImage(t *testing.T) {
	ks := testKeys(t)
	valid := mint(t, ks, trackpixel.Claims{MessageID: "m1@example.com", Recipient: "bob@example.org", Sent: sentAt})
	other, _ := trackpixel.NewKeys(trackpixel.Key{ID: 1, Secret: []byte("ffffffffffffffffffffffffffffffff")})
	forged := mint(t, other, trackpixel.Claims{MessageID: "m1@example.com", Recipient: "bob@example.org"})
	tests := []struct {
		name    string
		token   string
		rec     *fakeRecorder
		enabled bool
		opens   int
	}{
		{"valid", valid, &fakeRecorder{}, true, 1},
		{"forged", forged, &fakeRecorder{}, true, 0},
		{"garbage", "not-a-token", &fakeRecorder{}, true, 0},
		{"disabled", valid, &fakeRecorder{}, false, 0},
		{"store down", valid, &fakeRecorder{err: errors.New("store: closed")}, true, 0},
		{"store too slow", valid, &fakeRecorder{block: make(chan struct{})}, true, 0},
	}
	for _, tt := range tests {
		for _, format := range []string{"gif", "png"} {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				t.Run(tt.name+"/"+format+"/"+method, func(t *testing.T) {
					h, err := NewHandler(Options{Enabled: tt.enabled, Keys: ks, Recorder: tt.rec, Logger: testLogger(t),
						RecordTimeout: time.Millisecond, Now: func() time.Time { return fetchAt }})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(h.Close)
					before := len(tt.rec.recorded())
					checkImage(t, serve(h, method, "/o/"+tt.token+"."+format, browserUA), method, format)
					if got := len(tt.rec.recorded()) - before; got != tt.opens {
						t.Errorf("recorded %d opens, want %d", got, tt.opens)
					}
				})
			}
		}
	}
}

func TestValidHitBecomesEvidence(t *testing.T) {
	rec := &fakeRecorder{}
	h, ks := newHandler(t, rec, func(o *Options) { o.DedupWindow = -1 })
	tok := mint(t, ks, trackpixel.Claims{MessageID: "<M1@Example.COM>", Recipient: "Bob@Example.org", Sender: "alice@example.com", Sent: sentAt})
	serve(h, http.MethodGet, "/o/"+tok+".gif", browserUA)
	serve(h, http.MethodGet, "/o/"+tok+".png", browserUA)
	opens := rec.recorded()
	if len(opens) != 2 {
		t.Fatalf("recorded %d opens, want 2", len(opens))
	}
	ev := opens[0].Evidence
	want := track.PixelEvidence("ignored", "M1@example.com", "bob@example.org", fetchAt, false)
	want.ID, want.UserAgent = ev.ID, browserUA
	if ev != want {
		t.Errorf("evidence = %+v\nwant %+v", ev, want)
	}
	if ev.Signal != track.StatusOpened || ev.Source != track.SourcePixel || !strings.HasPrefix(ev.ID, "pixel-") {
		t.Errorf("evidence signal, source, id = %v, %v, %q; want opened, pixel, pixel-…", ev.Signal, ev.Source, ev.ID)
	}
	if opens[1].Evidence.ID == ev.ID {
		t.Errorf("two fetches share evidence ID %q", ev.ID)
	}
	if opens[0].ClientAddr.IsValid() {
		t.Errorf("client address %v passed on without StoreClientAddr", opens[0].ClientAddr)
	}
	if opens[0].Verdict != trackpixel.VerdictHuman || opens[0].Rule != "" {
		t.Errorf("verdict, rule = %v, %q; want human, none", opens[0].Verdict, opens[0].Rule)
	}
}

func TestPerMailToken(t *testing.T) {
	rec := &fakeRecorder{}
	h, ks := newHandler(t, rec, nil)
	serve(h, http.MethodGet, "/o/"+mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Sent: sentAt})+".gif", browserUA)
	if opens := rec.recorded(); len(opens) != 1 || opens[0].Evidence.Recipient != "" || opens[0].Evidence.MessageID != "m@example.com" {
		t.Errorf("opens = %+v, want one for m@example.com without recipient", opens)
	}
}

func TestStoreClientAddr(t *testing.T) {
	rec := &fakeRecorder{}
	h, ks := newHandler(t, rec, func(o *Options) { o.StoreClientAddr = true })
	serve(h, http.MethodGet, "/o/"+mint(t, ks, trackpixel.Claims{MessageID: "m@example.com"})+".gif", browserUA)
	if opens := rec.recorded(); len(opens) != 1 || opens[0].ClientAddr != netip.MustParseAddr("203.0.113.7") {
		t.Errorf("opens = %+v, want one with client 203.0.113.7", opens)
	}
}

func TestMachineOpens(t *testing.T) {
	apple := netip.MustParseAddr("17.1.2.3")
	tests := []struct {
		name    string
		method  string
		ua      string
		addr    netip.Addr
		sent    time.Time
		rule    string
		verdict trackpixel.Verdict
	}{
		{"HEAD probe", http.MethodHead, browserUA, netip.Addr{}, sentAt, "head-request", trackpixel.VerdictMachine},
		{"apple mpp", http.MethodGet, "Mozilla/5.0", apple, sentAt, "apple-mpp", trackpixel.VerdictMachine},
		{"scanner right after sending", http.MethodGet, browserUA, netip.Addr{}, fetchAt.Add(-time.Second), "early-fetch", trackpixel.VerdictMachine},
		{"gmail proxy is a person", http.MethodGet, "Mozilla/5.0 (via ggpht.com GoogleImageProxy)", netip.Addr{}, sentAt, "google-image-proxy", trackpixel.VerdictProxy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			h, ks := newHandler(t, rec, func(o *Options) {
				if tt.addr.IsValid() {
					o.ClientAddr = func(*http.Request) netip.Addr { return tt.addr }
				}
			})
			serve(h, tt.method, "/o/"+mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Recipient: "bob@example.org", Sent: tt.sent})+".gif", tt.ua)
			opens := rec.recorded()
			if len(opens) != 1 {
				t.Fatalf("recorded %d opens, want 1: machine opens are kept", len(opens))
			}
			o := opens[0]
			machine := tt.verdict == trackpixel.VerdictMachine
			wantSignal := track.StatusOpened
			if machine {
				wantSignal = track.StatusOpenedMachine
			}
			if o.Rule != tt.rule || o.Verdict != tt.verdict || o.Evidence.Machine != machine || o.Evidence.Signal != wantSignal {
				t.Errorf("open = rule %q verdict %v machine %v signal %v; want %q %v %v %v",
					o.Rule, o.Verdict, o.Evidence.Machine, o.Evidence.Signal, tt.rule, tt.verdict, machine, wantSignal)
			}
		})
	}
}

func TestNotRecorded(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"sender opted out", func(o *Options) { o.OptedOut = func(s string) bool { return s == "alice@example.com" } }},
		{"sender's own open", func(o *Options) {
			o.IsSender = func(r *http.Request, c trackpixel.Claims) bool { return c.Sender == "alice@example.com" }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			h, ks := newHandler(t, rec, tt.mod)
			checkImage(t, serve(h, http.MethodGet, "/o/"+mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Sender: "alice@example.com"})+".gif", browserUA), http.MethodGet, "gif")
			if opens := rec.recorded(); len(opens) != 0 {
				t.Errorf("recorded %+v, want nothing", opens)
			}
			// Another sender's mail is still tracked.
			serve(h, http.MethodGet, "/o/"+mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Sender: "carol@example.com"})+".gif", browserUA)
			if opens := rec.recorded(); len(opens) != 1 {
				t.Errorf("recorded %d opens for another sender, want 1", len(opens))
			}
		})
	}
}

func TestRetiredKey(t *testing.T) {
	old := trackpixel.Key{ID: 1, Secret: secret}
	oldKeys, _ := trackpixel.NewKeys(old)
	tok := mint(t, oldKeys, trackpixel.Claims{MessageID: "m@example.com"})
	for _, tt := range []struct {
		name  string
		until time.Time
		opens int
	}{{"in grace period", fetchAt.Add(time.Hour), 1}, {"retired", fetchAt.Add(-time.Hour), 0}} {
		t.Run(tt.name, func(t *testing.T) {
			old.Until = tt.until
			ks, err := trackpixel.NewKeys(trackpixel.Key{ID: 2, Secret: []byte("22222222222222222222222222222222")}, old)
			if err != nil {
				t.Fatal(err)
			}
			rec := &fakeRecorder{}
			h, _ := newHandler(t, rec, func(o *Options) { o.Keys = ks })
			serve(h, http.MethodGet, "/o/"+tok+".gif", browserUA)
			if got := len(rec.recorded()); got != tt.opens {
				t.Errorf("recorded %d opens, want %d", got, tt.opens)
			}
		})
	}
}

func TestOtherRequests(t *testing.T) {
	rec := &fakeRecorder{}
	h, ks := newHandler(t, rec, nil)
	tok := mint(t, ks, trackpixel.Claims{MessageID: "m@example.com"})
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/o/" + tok + ".jpg", http.StatusNotFound},
		{http.MethodGet, "/o/", http.StatusNotFound},
		{http.MethodGet, "/x/" + tok + ".gif", http.StatusNotFound},
		{http.MethodPost, "/o/" + tok + ".gif", http.StatusMethodNotAllowed},
	} {
		if resp := serve(h, tt.method, tt.path, browserUA); resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}
	if opens := rec.recorded(); len(opens) != 0 {
		t.Errorf("recorded %+v, want nothing", opens)
	}
}

// TestSlowRecorderDoesNotDelayImage: the client has the whole image while
// the recorder is still blocked, and the recording runs under a deadline.
func TestSlowRecorderDoesNotDelayImage(t *testing.T) {
	rec := &fakeRecorder{block: make(chan struct{}), entered: make(chan context.Context, 1)}
	h, ks := newHandler(t, rec, func(o *Options) { o.RecordTimeout = time.Hour })
	srv := httptest.NewServer(h)
	defer srv.Close()
	released := false
	release := func() {
		if !released {
			released = true
			close(rec.block)
		}
	}
	defer release()

	tok := mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Recipient: "bob@example.org", Sent: sentAt})
	// The recorder stays blocked until released below, so a handler that
	// recorded before answering would make this request time out.
	client := srv.Client()
	client.Timeout = 20 * time.Second
	resp, err := client.Get(srv.URL + "/o/" + tok + ".gif")
	if err != nil {
		t.Fatalf("GET pixel while the recorder blocks: %v", err)
	}
	checkImage(t, resp, http.MethodGet, "gif")
	resp.Body.Close()

	var ctx context.Context
	select {
	case ctx = <-rec.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("recorder was never called")
	}
	if n := len(rec.recorded()); n != 0 {
		t.Fatalf("recorder finished (%d opens) before being released; the test proves nothing", n)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		t.Fatal("recorder context has no deadline")
	}
	if d := time.Until(deadline); d > time.Hour {
		t.Errorf("recorder deadline is %v away, want at most the 1h RecordTimeout", d)
	}
	release()
	h.drain()
	if n := len(rec.recorded()); n != 1 {
		t.Errorf("recorded %d opens after release, want 1", n)
	}
}

func TestRecordTimeoutEndsRecording(t *testing.T) {
	rec := &fakeRecorder{block: make(chan struct{}), entered: make(chan context.Context, 1)}
	h, ks := newHandler(t, rec, func(o *Options) { o.RecordTimeout = 20 * time.Millisecond })
	// serve waits for the worker: it returns only because the timeout ends
	// the blocked recording.
	checkImage(t, serve(h, http.MethodGet, "/o/"+mint(t, ks, trackpixel.Claims{MessageID: "m@example.com"})+".gif", browserUA), http.MethodGet, "gif")
	ctx := <-rec.entered
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("recorder context error = %v, want deadline exceeded", ctx.Err())
	}
	if n := len(rec.recorded()); n != 0 {
		t.Errorf("recorded %d opens, want 0", n)
	}
}

func TestNewHandlerValidation(t *testing.T) {
	ks := testKeys(t)
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"enabled without keys and recorder", Options{Enabled: true}, []string{"without keys", "without a recorder"}},
		{"bad rules", Options{Rules: []trackpixel.Rule{{Name: "all", Verdict: trackpixel.VerdictMachine}}}, []string{"no condition"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHandler(tt.opts)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("NewHandler error = %v, want it to mention %q", err, w)
				}
			}
		})
	}
	if _, err := NewHandler(Options{Keys: ks}); err != nil {
		t.Errorf("NewHandler(disabled) = %v, want nil", err)
	}
}

func TestLogsNoTokens(t *testing.T) {
	var buf bytes.Buffer
	rec := &fakeRecorder{err: errors.New("store: closed")}
	h, ks := newHandler(t, rec, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	tok := mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Recipient: "bob@example.org"})
	serve(h, http.MethodGet, "/o/"+tok+".gif", browserUA)
	serve(h, http.MethodGet, "/o/"+tok+"x.gif", browserUA)
	out := buf.String()
	if strings.Contains(out, tok) || strings.Contains(out, "bob@example.org") {
		t.Errorf("logs contain the token or the recipient:\n%s", out)
	}
	if !strings.Contains(out, "record open") || !strings.Contains(out, "invalid token") {
		t.Errorf("logs lack the failed recording or the invalid token:\n%s", out)
	}
}

// TestReplayRecordedOnce is the replay attack: one valid pixel URL fetched
// 10,000 times records one open per verdict within the window, and the
// rest are counted as duplicates; after the window a fetch records again.
func TestReplayRecordedOnce(t *testing.T) {
	rec := &fakeRecorder{}
	now := fetchAt
	var mu sync.Mutex // guards now
	h, ks := newHandler(t, rec, func(o *Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		o.QueueSize = 10000
	})
	tok := mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Recipient: "bob@example.org", Sent: sentAt})
	const n = 10000
	for range n {
		r := httptest.NewRequest(http.MethodGet, "/o/"+tok+".gif", nil)
		r.Header.Set("User-Agent", browserUA)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	h.drain()
	if got := len(rec.recorded()); got != 1 {
		t.Fatalf("%d replays recorded %d opens, want 1", n, got)
	}
	if st := h.Stats(); st.Recorded != 1 || st.Duplicates+st.Dropped != n-1 {
		t.Errorf("stats = %+v, want 1 recorded and %d duplicates or dropped", st, n-1)
	}
	// Another client class of the same recipient is a distinct open.
	serve(h, http.MethodHead, "/o/"+tok+".gif", "")
	mu.Lock()
	now = now.Add(DefaultDedupWindow)
	mu.Unlock()
	serve(h, http.MethodGet, "/o/"+tok+".gif", browserUA)
	if got := len(rec.recorded()); got != 3 {
		t.Errorf("recorded %d opens after a machine fetch and the window passing, want 3", got)
	}
}

// TestForgedTokensRecordNothing is the forging attack: 10,000 tokens that
// do not verify record nothing and are counted as invalid.
func TestForgedTokensRecordNothing(t *testing.T) {
	rec := &fakeRecorder{}
	h, ks := newHandler(t, rec, func(o *Options) { o.QueueSize = 100 })
	valid := mint(t, ks, trackpixel.Claims{MessageID: "m@example.com", Recipient: "bob@example.org", Sent: sentAt})
	invalid := 0
	for i := range 10000 {
		// Flip one character of a valid token, at a different place each time.
		b := []byte(valid)
		j := i % len(b)
		b[j] = "AB"[i%2]
		if b[j] == valid[j] {
			b[j] = 'C'
		}
		checkImage(t, serve(h, http.MethodGet, "/o/"+string(b)+".gif", browserUA), http.MethodGet, "gif")
		invalid++
	}
	if got := len(rec.recorded()); got != 0 {
		t.Fatalf("forged tokens recorded %d opens, want none", got)
	}
	if st := h.Stats(); st.Invalid != uint64(invalid) {
		t.Errorf("stats = %+v, want %d invalid", st, invalid)
	}
}
