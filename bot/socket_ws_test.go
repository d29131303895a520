package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/track"
)

// testAppToken is the app-level token Socket Mode connects with.
const testAppToken = "xapp-1-A0MAILACK-1-test"

// linkPingInterval is how often the fake Slack end pings a connection.
const linkPingInterval = 5 * time.Second

// slackLink is Socket Mode's WebSocket end as Slack runs it: it greets
// each connection with hello, carries the envelopes a test sends and
// records the client's acknowledgements.
type slackLink struct {
	upgrader websocket.Upgrader
	mu       sync.Mutex    // guards the fields below
	conns    []*linkConn   // every connection, in order
	acks     []linkAck     // every acknowledgement, in order
	changed  chan struct{} // closed and replaced on every change
}

// linkConn is one Socket Mode connection. Only the test writes to it.
type linkConn struct {
	ws     *websocket.Conn
	ticket string // from the URL apps.connections.open handed out
}

// linkAck is an acknowledgement as the client sends it.
type linkAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func newSlackLink(t *testing.T) *slackLink {
	l := &slackLink{changed: make(chan struct{})}
	// The client sends Slack's own origin, not the test server's.
	l.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range l.conns {
			c.ws.Close() // ends the connection's reader; a closed one stays closed
		}
	})
	return l
}

func (l *slackLink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := l.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the request
	}
	hello := map[string]any{
		"type":            "hello",
		"num_connections": 1,
		"debug_info":      map[string]any{"host": "applink-test", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A0MAILACK"},
	}
	if err := ws.WriteJSON(hello); err != nil {
		ws.Close()
		return
	}
	l.update(func() { l.conns = append(l.conns, &linkConn{ws: ws, ticket: r.URL.Query().Get("ticket")}) })
	// Slack pings every connection: the clients give up on one that has
	// had no ping for 30 seconds (slack-go's socketmode maxPingInterval,
	// @slack/socket-mode's serverPingTimeout) and reconnect, which a test
	// that runs long on a busy machine must not see.
	stopPing := make(chan struct{})
	defer close(stopPing)
	go func() {
		tick := time.NewTicker(linkPingInterval)
		defer tick.Stop()
		for {
			select {
			case <-stopPing:
				return
			case <-tick.C:
				// WriteControl may run beside the test's writes.
				if ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)) != nil {
					return
				}
			}
		}
	}()
	for {
		var a linkAck
		if err := ws.ReadJSON(&a); err != nil {
			ws.Close()
			return
		}
		l.update(func() { l.acks = append(l.acks, a) })
	}
}

func (l *slackLink) update(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait waits until done holds, called with l.mu held; it fails the test
// after a while.
func (l *slackLink) wait(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		changed, ok := l.changed, done()
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("socket mode: no %s", what)
		}
	}
}

// conn waits for the nth connection (from 1) and returns it.
func (l *slackLink) conn(t *testing.T, n int) *linkConn {
	t.Helper()
	var c *linkConn
	l.wait(t, fmt.Sprintf("connection #%d", n), func() bool {
		if len(l.conns) < n {
			return false
		}
		c = l.conns[n-1]
		return true
	})
	return c
}

// ack waits for the acknowledgement of an envelope and returns it.
func (l *slackLink) ack(t *testing.T, envelope string) linkAck {
	t.Helper()
	var a linkAck
	l.wait(t, "ack of "+envelope, func() bool {
		for _, a = range l.acks {
			if a.EnvelopeID == envelope {
				return true
			}
		}
		return false
	})
	return a
}

// acked counts the acknowledgements of each envelope.
func (l *slackLink) acked() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[string]int{}
	for _, a := range l.acks {
		n[a.EnvelopeID]++
	}
	return n
}

func (c *linkConn) send(t *testing.T, msg any) {
	t.Helper()
	if err := c.ws.WriteJSON(msg); err != nil {
		t.Fatalf("send to the socket mode client: %v", err)
	}
}

// disconnect asks the client to reconnect, as Slack does before it
// refreshes a connection or when Socket Mode is turned off.
func (c *linkConn) disconnect(t *testing.T, reason string) {
	t.Helper()
	c.send(t, map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "applink-test"}})
}

// commandEnvelope carries u's /track text, shaped as Slack sends it over
// Socket Mode.
func commandEnvelope(id string, u fakeUser, text, respURL string) map[string]any {
	payload := map[string]string{}
	for k, v := range commandForm(u, text, respURL, staleTrigger) {
		payload[k] = v[0]
	}
	return map[string]any{"envelope_id": id, "type": "slash_commands", "payload": payload, "accepts_response_payload": true}
}

// homeEnvelope carries u opening the bot's App Home tab.
func homeEnvelope(id, eventID string, u fakeUser) map[string]any {
	return map[string]any{
		"envelope_id": id,
		"type":        "events_api",
		"payload": map[string]any{
			"token":      "xyzz0WbapA4vBCDEFasx0q6G",
			"team_id":    "T1DC2JH3J",
			"api_app_id": "A0MAILACK",
			"type":       "event_callback",
			"event_id":   eventID,
			"event_time": 1700000100,
			"event": map[string]any{
				"type": "app_home_opened", "user": u.ID, "channel": "D" + u.ID, "tab": "home", "event_ts": "1700000100.000100",
			},
		},
		"accepts_response_payload": false,
		"retry_attempt":            0,
		"retry_reason":             "",
	}
}

// actionEnvelope carries u pressing a on a card.
func actionEnvelope(id string, u fakeUser, a blockAction, respURL string) map[string]any {
	return map[string]any{"envelope_id": id, "type": "interactive", "payload": actionPayload(u, a, respURL, staleTrigger), "accepts_response_payload": false}
}

// newSocketEnv is an env whose bot runs in Socket Mode against link.
func newSocketEnv(t *testing.T) (*env, *slackLink) {
	t.Helper()
	e := newEnv(t, envOptions{config: func(c *bot.Config) {
		c.Mode = bot.ModeSocket
		c.AppToken = testAppToken
	}})
	link := newSlackLink(t)
	e.fake.OfferSocket(link)
	return e, link
}

// runSocket runs the bot until the returned stop is first called. stop
// fails the test if Run failed, did not return soon after its context
// ended or left Socket Mode goroutines behind.
func runSocket(t *testing.T, e *env) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.bot.Run(ctx) }()
	return sync.OnceFunc(func() {
		cancel()
		deadline := time.NewTimer(20 * time.Second)
		defer deadline.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v", err)
			}
		case <-deadline.C:
			t.Fatalf("Run did not return after its context ended; goroutines:\n%s", socketGoroutines())
		}
		waitSocketGone(t)
	})
}

// waitSocketGone waits until no goroutine runs the bot or Socket Mode
// code; it fails the test after a while.
func waitSocketGone(t *testing.T) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		left := socketGoroutines()
		if left == "" {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("goroutines left after Run returned:\n%s", left)
		}
	}
}

// socketGoroutines returns the stacks of the goroutines that run the bot
// or Socket Mode code.
func socketGoroutines() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var left []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/slack-go/slack/socketmode.") || strings.Contains(g, "github.com/mailack/mailack/bot.") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

// Over a real WebSocket, every request Slack sends in Socket Mode is
// acknowledged and then handled: /track help is answered, opening App
// Home publishes it, and a button press on someone else's card changes
// nothing while the sender's own press does.
func TestSocketModeOverWebSocket(t *testing.T) {
	e, link := newSocketEnv(t)
	id := "ws1@example.com"
	e.register(t, id, alice.Email, "Quarterly figures", time.Now().Add(-time.Hour), carol.Email)
	stop := runSocket(t, e)
	defer stop()
	c := link.conn(t, 1)
	if opened := e.fake.Succeeded("apps.connections.open"); len(opened) != 1 || opened[0].Token != testAppToken {
		t.Errorf("apps.connections.open calls = %+v, want one with the app-level token", opened)
	}

	// A message of a type the client does not know is skipped, and the
	// connection stays up.
	c.send(t, map[string]any{"envelope_id": "env-odd", "type": "no_such_type", "payload": map[string]any{}})

	respURL := e.responseURL()
	c.send(t, commandEnvelope("env-help", alice, "help", respURL))
	help := string(link.ack(t, "env-help").Payload)
	if !strings.Contains(help, "/track list") {
		help = e.answer(t, respURL)
	}
	for _, want := range []string{"follow up on the mail you sent", "/track list", "/track snooze"} {
		if !strings.Contains(help, want) {
			t.Errorf("answer to /track help = %s, want %q", help, want)
		}
	}

	c.send(t, homeEnvelope("env-home", "Ev0WSHOME", alice))
	link.ack(t, "env-home")
	e.fake.WaitFor(t, "App Home of alice", func(c call) bool {
		return method("views.publish", "Quarterly figures")(c) && c.Param("user_id") == alice.ID
	})

	bobURL := e.responseURL()
	c.send(t, actionEnvelope("env-bob", bob, blockAction{ActionID: "done", Value: id}, bobURL))
	link.ack(t, "env-bob")
	if got := e.answer(t, bobURL); !strings.Contains(got, "You can only act on mail you sent.") {
		t.Errorf("bob pressing done on alice's card: answer %s, want refused", got)
	}
	if m, err := e.store.Mail(t.Context(), id); err != nil || m.State != track.StateOpen {
		t.Errorf("alice's mail after bob pressed done: state %q, %v; want open", m.State, err)
	}

	aliceURL := e.responseURL()
	c.send(t, actionEnvelope("env-alice", alice, blockAction{ActionID: "done", Value: id}, aliceURL))
	link.ack(t, "env-alice")
	if got := e.answer(t, aliceURL); !strings.Contains(got, "Marked “Quarterly figures” done") {
		t.Errorf("alice pressing done on her card: answer %s, want done", got)
	}
	if m, err := e.store.Mail(t.Context(), id); err != nil || m.State != track.StateDone {
		t.Errorf("alice's mail after she pressed done: state %q, %v; want done", m.State, err)
	}

	stop()
	acked := link.acked()
	for _, env := range []string{"env-help", "env-home", "env-bob", "env-alice"} {
		if acked[env] != 1 {
			t.Errorf("envelope %s acknowledged %d times, want once", env, acked[env])
		}
	}
	if !strings.Contains(e.logged(), "socket mode message ignored") {
		t.Error("the message of an unknown type was not logged")
	}
	link.mu.Lock()
	defer link.mu.Unlock()
	if len(link.conns) != 1 {
		t.Errorf("%d connections, want 1", len(link.conns))
	}
}

// However a Socket Mode connection ends, the bot opens a new one with a
// fresh URL from apps.connections.open, and requests sent over it are
// handled.
func TestSocketModeReconnects(t *testing.T) {
	ends := []struct {
		name string
		end  func(t *testing.T, c *linkConn)
	}{
		{"refresh requested", func(t *testing.T, c *linkConn) { c.disconnect(t, "refresh_requested") }},
		{"link disabled", func(t *testing.T, c *linkConn) { c.disconnect(t, "link_disabled") }},
		{"closed by slack", func(t *testing.T, c *linkConn) {
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server restart")
			if err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
		}},
		{"connection lost", func(t *testing.T, c *linkConn) { c.ws.NetConn().Close() }},
	}
	for _, tc := range ends {
		t.Run(tc.name, func(t *testing.T) {
			e, link := newSocketEnv(t)
			stop := runSocket(t, e)
			defer stop()
			first := link.conn(t, 1)
			first.send(t, commandEnvelope("env-before", alice, "help", e.responseURL()))
			link.ack(t, "env-before")

			tc.end(t, first)
			second := link.conn(t, 2)
			if n := len(e.fake.Succeeded("apps.connections.open")); n != 2 {
				t.Errorf("apps.connections.open called %d times, want 2", n)
			}
			if second.ticket == first.ticket {
				t.Errorf("reconnected with the old URL (ticket %s)", first.ticket)
			}
			respURL := e.responseURL()
			second.send(t, commandEnvelope("env-after", alice, "help", respURL))
			link.ack(t, "env-after")
			if got := e.answer(t, respURL); !strings.Contains(got, "/track list") {
				t.Errorf("answer to /track help after reconnecting = %s, want the help", got)
			}
		})
	}
}

// A failure to open a connection is retried, except when Slack refuses
// the app-level token: then Run stops with the error.
func TestSocketModeOpenFails(t *testing.T) {
	t.Run("temporary", func(t *testing.T) {
		e, link := newSocketEnv(t)
		e.fake.FailNext("apps.connections.open", failure{Error: "internal_error"}, failure{Status: http.StatusServiceUnavailable})
		stop := runSocket(t, e)
		defer stop()
		c := link.conn(t, 1)
		respURL := e.responseURL()
		c.send(t, commandEnvelope("env-1", alice, "help", respURL))
		link.ack(t, "env-1")
		e.answer(t, respURL)
		if n := len(e.fake.All(func(c call) bool { return c.Method == "apps.connections.open" })); n != 3 {
			t.Errorf("apps.connections.open called %d times, want 3", n)
		}
		if got := strings.Count(e.logged(), "socket mode cannot connect; retrying"); got != 2 {
			t.Errorf("%d connection failures logged, want 2", got)
		}
	})
	for _, code := range []string{"invalid_auth", "token_revoked"} {
		t.Run(code, func(t *testing.T) {
			e, _ := newSocketEnv(t)
			e.fake.SetDown(func(method string) *failure {
				if method == "apps.connections.open" {
					return &failure{Error: code}
				}
				return nil
			})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- e.bot.Run(ctx) }()
			deadline := time.NewTimer(20 * time.Second)
			defer deadline.Stop()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), code) || !strings.Contains(err.Error(), "socket mode: connection ended") {
					t.Errorf("Run() = %v, want the socket mode connection to end with the %s error", err, code)
				}
			case <-deadline.C:
				cancel()
				<-done
				t.Fatalf("Run kept going after Slack refused the app-level token with %s; calls: %s", code, e.fake.Summary())
			}
			waitSocketGone(t)
		})
	}
}

// In Socket Mode an external select's options and a modal's errors travel
// in the acknowledgement's payload, since Slack waits for them there.
func TestSocketModeAnswersInTheAck(t *testing.T) {
	e, link := newSocketEnv(t)
	e.sent.add(alice.Email, bot.SentMail{MessageID: "ws-q@example.com", Subject: "Quote over the socket", SentAt: time.Now().Add(-time.Hour), To: []string{carol.Email}})
	stop := runSocket(t, e)
	defer stop()
	c := link.conn(t, 1)
	c.send(t, map[string]any{"envelope_id": "env-suggest", "type": "interactive", "accepts_response_payload": true, "payload": map[string]any{
		"type": "block_suggestion", "action_id": "pick_sent", "block_id": "pick", "value": "socket",
		"user": userOf(alice), "team": map[string]any{"id": "T1DC2JH3J"}, "view": map[string]any{"id": "V1", "type": "modal", "callback_id": "track_modal"},
	}})
	opts := link.ack(t, "env-suggest").Payload
	if errs := slackfake.CheckOptions(opts); len(errs) > 0 || !strings.Contains(string(opts), `"value":"ws-q@example.com"`) {
		t.Errorf("suggestions in the ack = %s (%v)", opts, errs)
	}
	c.send(t, map[string]any{"envelope_id": "env-submit", "type": "interactive", "accepts_response_payload": true, "payload": submission(alice, "", "", "all", 0)})
	if got := string(link.ack(t, "env-submit").Payload); !strings.Contains(got, `"response_action":"errors"`) || !strings.Contains(got, `"pick"`) {
		t.Errorf("errors in the ack = %s", got)
	}
}
