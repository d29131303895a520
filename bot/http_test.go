package bot_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
)

// The documented example of Slack's "Verifying requests from Slack".
const (
	docTimestamp = "1531420618"
	docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	docBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)

func TestSignHelperMatchesDocumentedExample(t *testing.T) {
	if got := sign(testSecret, docTimestamp, docBody); got != docSignature {
		t.Fatalf("sign(documented example) = %s, want %s", got, docSignature)
	}
}

// Forged, altered, stale and unsigned requests get 401 and cause no Slack
// call, no store change and no answer.
func TestHTTPRefusesForgedRequests(t *testing.T) {
	e := newEnv(t, envOptions{})
	stop := e.run(t)
	sent := time.Now().Add(-time.Hour)
	e.register(t, "m1@example.com", alice.Email, "Quarterly figures", sent, carol.Email)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	cmd := url.Values{"user_id": {alice.ID}, "command": {"/track"}, "text": {"stop m1@example.com"},
		"response_url": {e.responseURL()}}.Encode()
	payload := url.Values{"payload": {`{"type":"block_actions","user":{"id":"UALICE"},"actions":[{"action_id":"done","value":"m1@example.com","type":"button"}]}`}}.Encode()
	tests := []struct {
		name, path, body, ts, sig string
	}{
		{"documented example replayed", bot.PathCommands, docBody, docTimestamp, docSignature},
		{"wrong secret", bot.PathCommands, cmd, now, sign("not-the-secret", now, cmd)},
		{"body altered after signing", bot.PathCommands, cmd, now, sign(testSecret, now, strings.Replace(cmd, "stop", "list", 1))},
		{"stale timestamp", bot.PathInteractivity, payload, strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10), ""},
		{"no signature", bot.PathInteractivity, payload, now, ""},
		{"forged interaction", bot.PathInteractivity, payload, now, "v0=" + strings.Repeat("00", 32)},
		{"forged event", bot.PathEvents, `{"type":"url_verification","challenge":"x"}`, now, "v0=deadbeef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := tc.sig
			if sig == "" && tc.name == "stale timestamp" {
				sig = sign(testSecret, tc.ts, tc.body)
			}
			if rec := e.postSigned(tc.path, tc.body, tc.ts, sig); rec.Code != http.StatusUnauthorized {
				t.Errorf("POST %s = %d, want 401", tc.path, rec.Code)
			}
		})
	}
	stop() // waits for any work a request might have started
	if n := e.fake.Count(); n != 0 {
		t.Errorf("forged requests caused %d slack calls: %s", n, e.fake.Summary())
	}
	m, err := e.store.Mail(t.Context(), "m1@example.com")
	if err != nil || m.Closed() {
		t.Errorf("mail after forged requests: state %q, err %v; want open", m.State, err)
	}
}

func TestHTTPAcceptsSignedCommand(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	resp := e.command(t, alice, "help")
	if got := e.answer(t, resp); !strings.Contains(got, "/track list") {
		t.Errorf("help answer = %q, want the command list", got)
	}
}

func TestHTTPURLVerification(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := e.post(bot.PathEvents, `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	if rec.Code != http.StatusOK || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification = %d %q, want the challenge", rec.Code, rec.Body)
	}
}

// Slack retries an event it thinks was lost; the retry has the same
// event_id and must not publish App Home twice.
func TestHTTPEventsDeduplicated(t *testing.T) {
	e := newEnv(t, envOptions{})
	stop := e.run(t)
	e.register(t, "m1@example.com", alice.Email, "Quarterly figures", time.Now().Add(-time.Hour), carol.Email)
	event := `{"token":"x","team_id":"T1DC2JH3J","api_app_id":"A0MAILACK","type":"event_callback","event_id":"Ev0PV52K21","event_time":1700000000,` +
		`"event":{"type":"app_home_opened","user":"UALICE","channel":"DUALICE","tab":"home","event_ts":"1700000000.000100"}}`
	for range 3 {
		if rec := e.post(bot.PathEvents, event); rec.Code != http.StatusOK {
			t.Fatalf("POST event = %d", rec.Code)
		}
	}
	e.fake.WaitFor(t, "views.publish", method("views.publish", "Quarterly figures", `"value":"m1@example.com carol@example.com"`, "Nudge carol@example.com"))
	stop()
	if got := len(e.fake.Succeeded("views.publish")); got != 1 {
		t.Errorf("views.publish calls = %d, want 1 for one event delivered three times", got)
	}
}
