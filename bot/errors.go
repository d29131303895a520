package bot

import (
	"errors"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// failure is how a failed Web API call is retried.
type failure int

// The failure classes.
const (
	// failTemporary: network trouble or a server error; back off and retry.
	failTemporary failure = iota
	// failRateLimited: Slack asked us to slow down; the method waits for
	// its Retry-After.
	failRateLimited
	// failPermanent: Slack refused the request itself; retrying soon will
	// not help and an operator must look.
	failPermanent
)

// defaultRetryAfter is the pause after a rate limit that named no delay.
const defaultRetryAfter = 30 * time.Second

// temporaryCodes are the ok:false errors that a later retry may cure.
var temporaryCodes = map[string]bool{
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"ratelimited":         true,
	"team_is_limited":     true,
}

// classify says how to retry after err, and for a rate limit how long to
// wait.
func classify(err error) (failure, time.Duration) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return failRateLimited, max(rl.RetryAfter, time.Second)
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code == http.StatusTooManyRequests {
			return failRateLimited, defaultRetryAfter
		}
		if sc.Code >= 500 {
			return failTemporary, 0
		}
		return failPermanent, 0
	}
	switch code := slackCode(err); {
	case code == "ratelimited":
		return failRateLimited, defaultRetryAfter
	case code != "" && !temporaryCodes[code]:
		return failPermanent, 0
	}
	return failTemporary, 0
}

// slackCode returns the error code of an ok:false answer, or "".
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
