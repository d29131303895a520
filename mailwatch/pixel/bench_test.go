package pixel

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	trackpixel "github.com/mailack/mailack/track/pixel"
)

// loadClients is how many clients the load loop runs at once.
const loadClients = 32

// loadResult is what one load run measured.
type loadResult struct {
	rps float64
	p99 time.Duration
}

// load sends requests GETs to url from loadClients concurrent clients over
// kept-alive connections, and returns the rate and the 99th percentile
// latency. It stops once every request is answered.
func load(b *testing.B, url string, requests int) loadResult {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	lat := make([][]time.Duration, loadClients)
	errs := make([]error, loadClients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range loadClients {
		wg.Go(func() {
			for next.Add(1) <= int64(requests) {
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					errs[i] = err
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					errs[i] = err
					if err == nil {
						errs[i] = &statusError{resp.StatusCode}
					}
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			b.Fatalf("load %s: %v", url, err)
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return loadResult{rps: float64(len(all)) / elapsed.Seconds(), p99: all[(len(all)*99)/100]}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.code) }

// countRecorder counts the opens it records.
type countRecorder struct{ n atomic.Int64 }

func (c *countRecorder) RecordOpen(ctx context.Context, o Open) error {
	c.n.Add(1)
	return nil
}

// BenchmarkPixel drives the pixel handler, recording every open, and a
// bare net/http handler serving the same bytes, both on loopback in the
// same run, and reports requests/s and p99 latency of each and the ratio
// of the rates. Run it with a fixed count for stable figures:
//
//	go test ./mailwatch/pixel -run '^$' -bench Pixel -benchtime 20000x
func BenchmarkPixel(b *testing.B) {
	ks := testKeys(b)
	rec := &countRecorder{}
	h, err := NewHandler(Options{Enabled: true, Keys: ks, Recorder: rec, Logger: slog.New(slog.DiscardHandler),
		DedupWindow: -1, QueueSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Header().Set("Content-Length", strconv.Itoa(len(gifImage)))
		w.Header().Set("Cache-Control", "no-store")
		w.Write(gifImage)
	})
	pixelSrv, bareSrv := httptest.NewServer(h), httptest.NewServer(bare)
	defer pixelSrv.Close()
	defer bareSrv.Close()
	path := "/o/" + mint(b, ks, trackpixel.Claims{MessageID: "bench@example.com", Recipient: "bob@example.org", Sent: time.Now().Add(-time.Hour)}) + ".gif"

	// Warm both servers up (connections, buffers) before measuring.
	const warmup = 500
	load(b, bareSrv.URL+path, warmup)
	load(b, pixelSrv.URL+path, warmup)
	b.ResetTimer()
	base := load(b, bareSrv.URL+path, b.N)
	px := load(b, pixelSrv.URL+path, b.N)
	b.StopTimer()
	pixelSrv.Close()
	h.drain()
	if got := rec.n.Load() + int64(h.Stats().Dropped); got != int64(b.N+warmup) {
		b.Fatalf("recorded or dropped %d opens, want %d", got, b.N+warmup)
	}
	b.ReportMetric(px.rps, "pixel-req/s")
	b.ReportMetric(base.rps, "bare-req/s")
	b.ReportMetric(px.rps/base.rps, "pixel/bare")
	b.ReportMetric(float64(px.p99)/float64(time.Millisecond), "pixel-p99-ms")
	b.ReportMetric(float64(base.p99)/float64(time.Millisecond), "bare-p99-ms")
}

// BenchmarkServeHTTP is the handler's own cost per hit, without the
// network: routing, writing the image, verifying the token, classifying
// and recording.
func BenchmarkServeHTTP(b *testing.B) {
	ks := testKeys(b)
	rec := &countRecorder{}
	h, err := NewHandler(Options{Enabled: true, Keys: ks, Recorder: rec, Logger: slog.New(slog.DiscardHandler), DedupWindow: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	path := "/o/" + mint(b, ks, trackpixel.Claims{MessageID: "bench@example.com", Recipient: "bob@example.org", Sent: time.Now().Add(-time.Hour)}) + ".gif"
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("User-Agent", browserUA)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	h.drain()
	if rec.n.Load() == 0 {
		b.Fatal("nothing recorded")
	}
}

// BenchmarkValidVersusForged measures, over loopback HTTP, how long a
// client waits for the image with a valid token and with a forged one,
// alternating the two on one kept-alive connection, and reports both
// medians: they should be the same, since the request does the same work
// for both. Run it with a fixed count:
//
//	go test ./mailwatch/pixel -run '^$' -bench ValidVersusForged -benchtime 2000x
func BenchmarkValidVersusForged(b *testing.B) {
	ks := testKeys(b)
	rec := &slowRecorder{}
	h, err := NewHandler(Options{Enabled: true, Keys: ks, Recorder: rec, Logger: slog.New(slog.DiscardHandler), DedupWindow: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	valid := mint(b, ks, trackpixel.Claims{MessageID: "bench@example.com", Recipient: "bob@example.org", Sent: time.Now().Add(-time.Hour)})
	other, _ := trackpixel.NewKeys(trackpixel.Key{ID: 1, Secret: []byte("ffffffffffffffffffffffffffffffff")})
	forged := mint(b, other, trackpixel.Claims{MessageID: "bench@example.com", Recipient: "bob@example.org", Sent: time.Now().Add(-time.Hour)})
	client := srv.Client()
	get := func(tok string) time.Duration {
		t0 := time.Now()
		resp, err := client.Get(srv.URL + "/o/" + tok + ".gif")
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET = %d, %v", resp.StatusCode, err)
		}
		return time.Since(t0)
	}
	get(valid) // warm up the connection
	var v, f []time.Duration
	b.ResetTimer()
	for b.Loop() {
		v = append(v, get(valid))
		f = append(f, get(forged))
	}
	b.StopTimer()
	h.drain()
	if rec.n.Load() == 0 {
		b.Fatal("no valid hit was recorded")
	}
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / float64(time.Microsecond)
	}
	b.ReportMetric(med(v), "valid-median-µs")
	b.ReportMetric(med(f), "forged-median-µs")
}

// slowRecorder takes as long as a bbolt write with fsync (about 2 ms), so
// that recording on the request's path would show in the valid median.
type slowRecorder struct{ n atomic.Int64 }

func (s *slowRecorder) RecordOpen(ctx context.Context, o Open) error {
	t := time.NewTimer(2 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.n.Add(1)
	return nil
}
