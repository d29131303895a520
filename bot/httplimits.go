package bot

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// precheck refuses a request to the HTTP mode endpoints before its body is
// read: a declared body over maxRequestBody (413), or signature headers
// that cannot belong to a valid request from Slack now (401): missing, a
// timestamp outside MaxRequestAge, a signature that is not "v0=" and 64
// hex digits. Only requests that pass are read, under maxRequestBody, and
// have their HMAC checked (VerifySignature).
func precheck(r *http.Request, now time.Time) (int, error) {
	if r.ContentLength > maxRequestBody {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes declared, at most %d accepted", r.ContentLength, maxRequestBody)
	}
	ts, sig := r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature")
	if ts == "" || sig == "" {
		return http.StatusUnauthorized, ErrMissingSignature
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return http.StatusUnauthorized, fmt.Errorf("%w: timestamp %q", ErrMissingSignature, ts)
	}
	if d := now.Sub(time.Unix(n, 0)); d > MaxRequestAge || d < -MaxRequestAge {
		return http.StatusUnauthorized, ErrStaleRequest
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok || len(hexSig) != 64 || strings.Trim(hexSig, "0123456789abcdefABCDEF") != "" {
		return http.StatusUnauthorized, ErrBadSignature
	}
	return 0, nil
}
