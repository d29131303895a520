package bot_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// call is one request the fake received.
type call struct {
	Method string         // Web API method, or "response" for a response_url
	Path   string         // the request path
	Form   url.Values     // form-encoded parameters
	JSON   map[string]any // JSON body
	Raw    string         // the body as sent
	Token  string         // the bearer token it carried
	At     time.Time      // when it arrived (the fake clock under synctest)
	Status int            // HTTP status answered
	Error  string         // ok:false error answered, if any
}

// ok reports whether the call succeeded.
func (c call) ok() bool { return c.Status == http.StatusOK && c.Error == "" }

// param returns a form parameter or a top-level JSON string.
func (c call) param(name string) string {
	if v := c.Form.Get(name); v != "" {
		return v
	}
	s, _ := c.JSON[name].(string)
	return s
}

// text is everything a person would read in the call: text and blocks,
// with JSON string escapes undone so that assertions can use plain words.
func (c call) text() string {
	var b strings.Builder
	b.WriteString(c.Form.Get("text") + "\n")
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	var blocks any
	if json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks) == nil {
		_ = enc.Encode(blocks) // decoded JSON always encodes
	}
	if c.JSON != nil {
		_ = enc.Encode(c.JSON)
	}
	return b.String()
}

// failure is how the fake answers a call it is told to fail.
type failure struct {
	Status     int    // HTTP status; 0 means 200
	RetryAfter string // Retry-After header
	Error      string // ok:false error code
	Hang       bool   // answer only when the caller gives up
}

// fakeUser is a workspace member.
type fakeUser struct {
	ID, Email, Locale, TZ string
}

// fakeSlack speaks the Web API shapes mailack uses, records every call and
// fails on demand.
type fakeSlack struct {
	mu      sync.Mutex           // guards the fields below
	calls   []call               // every call, in order
	fail    map[string][]failure // queued failures per method ("*" for any)
	down    func(method string) *failure
	users   []fakeUser
	posted  map[string]bool // timestamps of posted messages
	seq     int
	changed chan struct{} // closed and replaced on every call
	socket  http.Handler  // serves socketPath, when Socket Mode is offered
	links   int           // Socket Mode URLs handed out
}

// socketPath is where the fake serves Socket Mode's WebSocket.
const socketPath = "/link"

// offerSocket makes apps.connections.open hand out the URL of socketPath
// on the fake, and h serve it.
func (f *fakeSlack) offerSocket(h http.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.socket = h
}

func newFakeSlack(users ...fakeUser) *fakeSlack {
	return &fakeSlack{fail: map[string][]failure{}, users: users, posted: map[string]bool{}, changed: make(chan struct{})}
}

// failNext makes the next call of method fail as f.
func (f *fakeSlack) failNext(method string, fs ...failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], fs...)
}

// setDown makes every call fail as fn says while fn returns non-nil.
func (f *fakeSlack) setDown(fn func(method string) *failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = fn
}

// serve starts the fake on a loopback server.
func (f *fakeSlack) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

// inProcess is an HTTP client that hands requests straight to the fake,
// with no network, so that testing/synctest can fake the clock.
func (f *fakeSlack) inProcess() *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		if r.Body == nil {
			r.Body = http.NoBody
		}
		f.ServeHTTP(rec, r)
		if err := r.Context().Err(); err != nil {
			return nil, err
		}
		return rec.Result(), nil
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return rt(r) }

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	socket := f.socket
	f.mu.Unlock()
	if socket != nil && r.URL.Path == socketPath {
		socket.ServeHTTP(w, r)
		return
	}
	c := call{Method: strings.TrimPrefix(r.URL.Path, "/"), Path: r.URL.Path, At: time.Now(), Status: http.StatusOK}
	c.Token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.HasPrefix(c.Method, "response/") {
		c.Method = "response"
	}
	body, _ := io.ReadAll(r.Body) // an in-memory body reads whole
	c.Raw = string(body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &c.JSON) // a bad body shows as a missing parameter
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	if fl := f.failure(c.Method); fl != nil {
		f.answerFailure(w, r, &c, fl)
		return
	}
	resp := f.answer(&c, r.Host)
	f.record(c)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp) // the client reads what it gets
}

// failure returns the failure due for method, if any.
func (f *fakeSlack) failure(method string) *failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		if fl := f.down(method); fl != nil {
			return fl
		}
	}
	for _, m := range []string{method, "*"} {
		if q := f.fail[m]; len(q) > 0 {
			f.fail[m] = q[1:]
			return &q[0]
		}
	}
	return nil
}

func (f *fakeSlack) answerFailure(w http.ResponseWriter, r *http.Request, c *call, fl *failure) {
	if fl.Hang {
		<-r.Context().Done()
		c.Status = 0
		c.Error = "hung"
		f.record(*c)
		return
	}
	c.Status = http.StatusOK
	if fl.Status != 0 {
		c.Status = fl.Status
	}
	c.Error = fl.Error
	f.record(*c)
	if fl.RetryAfter != "" {
		w.Header().Set("Retry-After", fl.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(c.Status)
	if fl.Error != "" {
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, fl.Error)
	}
}

func (f *fakeSlack) record(c call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	close(f.changed)
	f.changed = make(chan struct{})
}

// answer is the successful answer to a call that reached host.
func (f *fakeSlack) answer(c *call, host string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch c.Method {
	case "auth.test":
		return map[string]any{"ok": true, "user_id": "UBOT", "team_id": "T1", "user": "mailack"}
	case "conversations.open":
		return map[string]any{"ok": true, "channel": map[string]any{"id": "D" + c.param("users")}}
	case "chat.postMessage":
		f.seq++
		ts := fmt.Sprintf("1700000000.%06d", f.seq)
		f.posted[ts] = true
		return map[string]any{"ok": true, "channel": c.param("channel"), "ts": ts}
	case "chat.update":
		if !f.posted[c.param("ts")] {
			c.Error = "message_not_found"
			return map[string]any{"ok": false, "error": c.Error}
		}
		return map[string]any{"ok": true, "channel": c.param("channel"), "ts": c.param("ts")}
	case "chat.postEphemeral":
		f.seq++
		return map[string]any{"ok": true, "message_ts": "1700000000." + strconv.Itoa(f.seq)}
	case "views.publish", "views.open":
		return map[string]any{"ok": true, "view": map[string]any{"id": "V1"}}
	case "users.lookupByEmail":
		return f.userAnswer(c, func(u fakeUser) bool { return strings.EqualFold(u.Email, c.param("email")) }, "users_not_found")
	case "users.info":
		return f.userAnswer(c, func(u fakeUser) bool { return u.ID == c.param("user") }, "user_not_found")
	case "response":
		return map[string]any{"ok": true}
	case "apps.connections.open":
		if f.socket == nil {
			break
		}
		f.links++
		return map[string]any{"ok": true, "url": fmt.Sprintf("ws://%s%s?ticket=%d", host, socketPath, f.links)}
	}
	c.Error = "unknown_method"
	return map[string]any{"ok": false, "error": c.Error}
}

func (f *fakeSlack) userAnswer(c *call, match func(fakeUser) bool, notFound string) map[string]any {
	for _, u := range f.users {
		if match(u) {
			return map[string]any{"ok": true, "user": map[string]any{
				"id": u.ID, "name": strings.ToLower(u.ID), "tz": u.TZ, "locale": u.Locale,
				"profile": map[string]any{"email": u.Email},
			}}
		}
	}
	c.Error = notFound
	return map[string]any{"ok": false, "error": notFound}
}

// all returns the calls so far that pass keep.
func (f *fakeSlack) all(keep func(call) bool) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// succeeded returns the successful calls of a method.
func (f *fakeSlack) succeeded(method string) []call {
	return f.all(func(c call) bool { return c.Method == method && c.ok() })
}

// count returns how many calls there were so far.
func (f *fakeSlack) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// waitFor waits until a call passes keep, and returns it; it fails the
// test after a while. It wakes on every call, so it never sleeps.
func (f *fakeSlack) waitFor(t *testing.T, what string, keep func(call) bool) call {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		changed := f.changed
		for _, c := range f.calls {
			if keep(c) {
				f.mu.Unlock()
				return c
			}
		}
		f.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no %s; calls: %s", what, f.summary())
		}
	}
}

// summary lists the calls for a failure message.
func (f *fakeSlack) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, c := range f.calls {
		parts = append(parts, fmt.Sprintf("%s(%d %s)", c.Method, c.Status, c.Error))
	}
	return strings.Join(parts, " ")
}

// method matches successful calls of one Web API method whose text has
// every one of words.
func method(name string, words ...string) func(call) bool {
	return func(c call) bool {
		if c.Method != name || !c.ok() {
			return false
		}
		for _, w := range words {
			if !strings.Contains(c.text(), w) {
				return false
			}
		}
		return true
	}
}
