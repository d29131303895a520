package bot_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
)

// endless is a request body that never ends and counts what was read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestHTTPBodiesBoundedBeforeSignature is the memory attack on the HTTP
// mode endpoints: large bodies with missing, stale or malformed signature
// headers, or declaring a size over the cap, are refused before a byte is
// read; a body with plausible headers is read no further than the cap.
func TestHTTPBodiesBoundedBeforeSignature(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	plausible := "v0=" + strings.Repeat("ab", 32)
	tests := []struct {
		name, ts, sig string
		length        int64 // declared Content-Length; -1 for none
		code          int
		maxRead       int64
	}{
		{"declared 2 MiB", now, plausible, 2 << 20, http.StatusRequestEntityTooLarge, 0},
		{"no signature", now, "", -1, http.StatusUnauthorized, 0},
		{"stale timestamp", stale, plausible, -1, http.StatusUnauthorized, 0},
		{"malformed signature", now, "v0=zz", -1, http.StatusUnauthorized, 0},
		{"plausible headers, endless body", now, plausible, -1, http.StatusRequestEntityTooLarge, 256<<10 + 64<<10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := &endless{}
			req := httptest.NewRequest(http.MethodPost, bot.PathCommands, io.NopCloser(body))
			req.ContentLength = tc.length
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Slack-Request-Timestamp", tc.ts)
			if tc.sig != "" {
				req.Header.Set("X-Slack-Signature", tc.sig)
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Errorf("POST = %d, want %d", rec.Code, tc.code)
			}
			if body.n > tc.maxRead {
				t.Errorf("read %d bytes of the body, want at most %d", body.n, tc.maxRead)
			}
		})
	}
	if n := e.fake.Count(); n != 0 {
		t.Errorf("refused requests caused %d slack calls", n)
	}
}
