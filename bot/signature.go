package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxRequestAge is how old a signed Slack request may be (and how far in
// the future its timestamp may lie) before it is refused as a replay.
const MaxRequestAge = 5 * time.Minute

// Errors from VerifySignature. Callers answer all of them with 401.
var (
	ErrMissingSignature = errors.New("slack request: missing signature or timestamp")
	ErrStaleRequest     = errors.New("slack request: timestamp outside the allowed window")
	ErrBadSignature     = errors.New("slack request: signature mismatch")
)

// VerifySignature checks a Slack request signature (X-Slack-Signature over
// "v0:" + X-Slack-Request-Timestamp + ":" + the raw body, HMAC-SHA256 with
// the app's signing secret) in constant time, and refuses timestamps more
// than MaxRequestAge away from now. It takes the raw values rather than the
// HTTP request so that it can be tested against Slack's documented example.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	if len(secret) == 0 {
		return errors.New("slack request: no signing secret configured")
	}
	if timestamp == "" || signature == "" {
		return ErrMissingSignature
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrMissingSignature, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxRequestAge || d < -MaxRequestAge {
		return ErrStaleRequest
	}
	got, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return ErrBadSignature
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(gotMAC, signatureMAC(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

// signatureMAC computes the v0 request signature MAC.
func signatureMAC(secret []byte, timestamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return mac.Sum(nil)
}
