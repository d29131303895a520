package bot_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/track"
)

// A correctly signed request sent again within the five minutes its
// timestamp is accepted is refused each time, also with its signature
// spelt in upper case: the command and the button press run once.
func TestHTTPRefusesReplayedRequests(t *testing.T) {
	e := newEnv(t, envOptions{})
	stop := e.run(t)
	e.register(t, "m1@example.com", alice.Email, "Quarterly figures", time.Now().Add(-time.Hour), carol.Email)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	cmdURL := e.responseURL()
	cmd := commandForm(alice, "snooze m1@example.com 1d", cmdURL, e.fake.TriggerID()).Encode()
	pressURL := e.responseURL()
	raw, err := json.Marshal(actionPayload(alice, blockAction{ActionID: "done", Value: "m1@example.com"}, pressURL, e.fake.TriggerID()))
	if err != nil {
		t.Fatal(err)
	}
	press := url.Values{"payload": {string(raw)}}.Encode()
	for _, r := range []struct{ path, body string }{{bot.PathCommands, cmd}, {bot.PathInteractivity, press}} {
		sig := sign(testSecret, ts, r.body)
		if rec := e.postSigned(r.path, r.body, ts, sig); rec.Code != http.StatusOK {
			t.Fatalf("first POST %s = %d, want 200", r.path, rec.Code)
		}
		for _, replay := range []string{sig, sig, "v0=" + strings.ToUpper(strings.TrimPrefix(sig, "v0="))} {
			if rec := e.postSigned(r.path, r.body, ts, replay); rec.Code != http.StatusUnauthorized {
				t.Errorf("replayed POST %s = %d, want 401", r.path, rec.Code)
			}
		}
	}
	e.answer(t, cmdURL)
	e.answer(t, pressURL)
	stop()
	for _, u := range []string{cmdURL, pressURL} {
		path := strings.TrimPrefix(u, e.base)
		if n := len(e.fake.All(func(c call) bool { return c.Path == path })); n != 1 {
			t.Errorf("%d answers at %s, want 1: the request ran more than once", n, path)
		}
	}
	if m, err := e.store.Mail(t.Context(), "m1@example.com"); err != nil || m.State != track.StateDone {
		t.Errorf("mail after snooze and done = %q, %v; want done", m.State, err)
	}
	if !strings.Contains(e.logged(), "refused replayed slack request") {
		t.Error("replays were not logged")
	}
	// A new request of the same user, signed anew, still works.
	if got := e.answer(t, e.command(t, alice, "help")); !strings.Contains(got, "/track list") {
		t.Errorf("a fresh request after replays = %q, want the help", got)
	}
}

// A replayed event is acknowledged (Slack would only retry a refusal) and
// not handled.
func TestHTTPReplayedEventAcknowledged(t *testing.T) {
	e := newEnv(t, envOptions{})
	stop := e.run(t)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	event := `{"token":"x","team_id":"T1DC2JH3J","api_app_id":"A0MAILACK","type":"event_callback","event_id":"Ev0REPLAY1","event_time":1700000000,` +
		`"event":{"type":"app_home_opened","user":"UALICE","channel":"DUALICE","tab":"home","event_ts":"1700000000.000100"}}`
	sig := sign(testSecret, ts, event)
	for range 3 {
		if rec := e.postSigned(bot.PathEvents, event, ts, sig); rec.Code != http.StatusOK {
			t.Fatalf("POST event = %d, want 200", rec.Code)
		}
	}
	e.fake.WaitFor(t, "views.publish", func(c call) bool { return c.Method == "views.publish" })
	stop()
	if got := len(e.fake.Succeeded("views.publish")); got != 1 {
		t.Errorf("views.publish calls = %d, want 1", got)
	}
	if !strings.Contains(e.logged(), "refused replayed slack request") {
		t.Error("the replays were not logged")
	}
}
