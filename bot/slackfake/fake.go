package slackfake

import (
	"context"
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

// Call is one request the fake received.
type Call struct {
	Method string         // Web API method, or "response" for a response_url
	Path   string         // the request path
	Form   url.Values     // form-encoded parameters
	JSON   map[string]any // JSON body
	Raw    string         // the body as sent
	Token  string         // the bearer token it carried
	At     time.Time      // when it arrived (the fake clock under synctest)
	Status int            // HTTP status answered
	Error  string         // ok:false error answered, if any
	// Invalid lists the payload's breaches of Slack's rules: the reasons
	// of an invalid_blocks (and similar) refusal, or what Slack only warns
	// about.
	Invalid []string
	// Warning is the warning of an ok answer, such as missing_text.
	Warning string
	// TS is the timestamp of the message a chat.postMessage posted.
	TS string
	// Lost is set when the call took effect but its answer was a failure
	// (Failure.Lost).
	Lost bool
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.Status == http.StatusOK && c.Error == "" }

// Posted reports whether the call took effect in the workspace: it
// succeeded, or its answer was lost (Failure.Lost).
func (c Call) Posted() bool { return c.OK() || c.Lost }

// Param returns a form parameter or a top-level JSON string.
func (c Call) Param(name string) string {
	if v := c.Form.Get(name); v != "" {
		return v
	}
	s, _ := c.JSON[name].(string)
	return s
}

// Text is everything a person would read in the call: text and blocks,
// with JSON string escapes undone so that assertions can use plain words.
func (c Call) Text() string {
	var b strings.Builder
	b.WriteString(c.Form.Get("text") + "\n")
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, k := range []string{"blocks", "view"} {
		var v any
		if json.Unmarshal([]byte(c.Form.Get(k)), &v) == nil {
			_ = enc.Encode(v) // decoded JSON always encodes
		}
	}
	if c.JSON != nil {
		_ = enc.Encode(c.JSON)
	}
	return b.String()
}

// Failure is how the fake answers a call it is told to fail.
type Failure struct {
	Status     int    // HTTP status; 0 means 200
	RetryAfter string // Retry-After header
	Error      string // ok:false error code
	Hang       bool   // answer only when the caller gives up
	// Lost makes the call take effect as if it had succeeded (a message
	// is posted) while its caller gets the failure: an answer lost on
	// the way, or a caller that died before reading it.
	Lost bool
}

// User is a workspace member.
type User struct {
	ID, Email, Locale, TZ, Name string
}

// Channel is a public or private channel of the workspace.
type Channel struct {
	ID, Name string
	Private  bool
	Archived bool
	// Member says whether the bot is in the channel.
	Member bool
}

// Server is the fake Web API. Build it with New; it is an http.Handler.
type Server struct {
	mu       sync.Mutex           // guards the fields below
	calls    []Call               // every call, in order
	fail     map[string][]Failure // queued failures per method ("*" for any)
	down     func(method string) *Failure
	users    []User
	channels map[string]*Channel
	scopes   map[string]bool // nil grants every scope
	noLimits bool
	buckets  map[string]*bucket
	ims      map[string]bool            // DM channels opened
	posted   map[string]map[string]bool // channel → timestamps of messages
	messages map[string][]message       // channel → messages posted, oldest first
	triggers map[string]trigger
	views    map[string]string // modal view ID → hash of its last version
	hooks    map[string]*hook  // response_url paths handed out
	expected map[string]bool   // errors a test expects to cause
	seq      int
	posts    int           // messages posted, for their timestamps
	changed  chan struct{} // closed and replaced on every call
	socket   http.Handler  // serves SocketPath, when Socket Mode is offered
	links    int           // Socket Mode URLs handed out
	token    string        // the only bot token accepted, when set
}

type trigger struct {
	at   time.Time
	used bool
}

type hook struct {
	at   time.Time
	uses int
}

// SocketPath is where the fake serves Socket Mode's WebSocket.
const SocketPath = "/link"

// Lifetimes of what Slack hands to a request: "trigger_id ... expires
// after 3 seconds" and can be used once
// (https://docs.slack.dev/interactivity/handling-user-interaction#modal_responses);
// a response_url takes "up to 5 times within 30 minutes"
// (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses).
const (
	TriggerLifetime     = 3 * time.Second
	ResponseURLLifetime = 30 * time.Minute
	ResponseURLUses     = 5
)

// New returns a fake workspace with the users and every scope granted.
func New(users ...User) *Server {
	return &Server{
		fail: map[string][]Failure{}, users: users, channels: map[string]*Channel{},
		buckets: map[string]*bucket{}, ims: map[string]bool{}, posted: map[string]map[string]bool{}, messages: map[string][]message{},
		triggers: map[string]trigger{}, views: map[string]string{}, hooks: map[string]*hook{}, expected: map[string]bool{},
		changed: make(chan struct{}),
	}
}

// AddChannel adds a channel to the workspace.
func (f *Server) AddChannel(c Channel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[c.ID] = &c
}

// RequireToken makes the fake accept only this bot token; any other
// answers invalid_auth. Without it every well-formed bot token is valid.
func (f *Server) RequireToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = token
}

// ChannelState returns a channel as it is now.
func (f *Server) ChannelState(id string) (Channel, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.channels[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// Grant limits the bot token to scopes; calls that need another answer
// missing_scope.
func (f *Server) Grant(scopes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scopes = map[string]bool{}
	for _, s := range scopes {
		f.scopes[s] = true
	}
}

// NoRateLimits turns the rate limit tiers off, for tests of something
// else that make many calls in a moment of real time.
func (f *Server) NoRateLimits() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noLimits = true
}

// ExpectInvalid declares that the test sends payloads the fake refuses
// with code on purpose, so the end-of-test check lets them pass.
func (f *Server) ExpectInvalid(codes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range codes {
		f.expected[c] = true
	}
}

// FailNext makes the next calls of method fail as fs.
func (f *Server) FailNext(method string, fs ...Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], fs...)
}

// SetDown makes every call fail as fn says while fn returns non-nil.
func (f *Server) SetDown(fn func(method string) *Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = fn
}

// OfferSocket makes apps.connections.open hand out the URL of SocketPath
// on the fake, and h serve it.
func (f *Server) OfferSocket(h http.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.socket = h
}

// TriggerID hands out a trigger_id, as Slack puts in an interaction
// payload; it is valid for TriggerLifetime and one use.
func (f *Server) TriggerID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("%d.47445629121.%032x", 398738663000+f.seq, f.seq)
	f.triggers[id] = trigger{at: time.Now()}
	return id
}

// ResponseURL hands out a response_url on the fake at base (its URL), as
// Slack puts in a command or interaction payload.
func (f *Server) ResponseURL(base string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	path := fmt.Sprintf("/response/%d", f.seq)
	f.hooks[path] = &hook{at: time.Now()}
	return base + path
}

// Serve starts the fake on a loopback server for the test, and checks at
// its end that the fake refused no payload the test did not expect.
func (f *Server) Serve(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.CheckAtEnd(t)
	return srv
}

// CheckAtEnd fails t, when it ends, for every call whose payload broke
// Slack's rules, unless ExpectInvalid declared its error.
func (f *Server) CheckAtEnd(t testing.TB) {
	t.Cleanup(func() {
		for _, c := range f.Invalid() {
			t.Errorf("slack would refuse %s (%s): %s", c.Method, c.Error, strings.Join(c.Invalid, "; "))
		}
	})
}

// Invalid returns the calls whose payload broke Slack's rules and that the
// test did not declare expected.
func (f *Server) Invalid() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if len(c.Invalid) > 0 && !f.expected[c.Error+c.Warning] {
			out = append(out, c)
		}
	}
	return out
}

// InProcess is an HTTP client that hands requests straight to the fake,
// with no network, so that testing/synctest can fake the clock.
func (f *Server) InProcess() *http.Client {
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

// answer is what the fake sends back.
type answer struct {
	status     int
	retryAfter int
	body       map[string]any
}

func ok(fields ...any) answer {
	body := map[string]any{"ok": true}
	for i := 0; i+1 < len(fields); i += 2 {
		body[fields[i].(string)] = fields[i+1]
	}
	return answer{status: http.StatusOK, body: body}
}

func refuse(code string) answer {
	return answer{status: http.StatusOK, body: map[string]any{"ok": false, "error": code}}
}

func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	socket := f.socket
	f.mu.Unlock()
	if socket != nil && r.URL.Path == SocketPath {
		socket.ServeHTTP(w, r)
		return
	}
	c := Call{Method: strings.TrimPrefix(r.URL.Path, "/"), Path: r.URL.Path, At: time.Now(), Status: http.StatusOK}
	c.Token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.HasPrefix(c.Method, "response/") {
		c.Method = "response"
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The client went away before sending the whole request (its
		// context was cancelled at shutdown): Slack never saw a call, so
		// none is recorded or judged.
		return
	}
	c.Raw = string(body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && len(body) > 0 {
		if err := json.Unmarshal(body, &c.JSON); err != nil {
			c.Invalid = []string{"body is not JSON: " + err.Error()}
		}
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	if fl := f.failure(c.Method); fl != nil {
		f.answerFailure(w, r, &c, fl)
		return
	}
	a := f.serve(&c, r.Host)
	c.Status = a.status
	if e, _ := a.body["error"].(string); e != "" && a.body["ok"] == false {
		c.Error = e
	}
	c.Warning, _ = a.body["warning"].(string)
	if c.Method == "chat.postMessage" && c.Error == "" {
		c.TS, _ = a.body["ts"].(string)
	}
	f.record(c)
	w.Header().Set("Content-Type", "application/json")
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body) // the client reads what it gets
}

// failure returns the failure due for method, if any.
func (f *Server) failure(method string) *Failure {
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

func (f *Server) answerFailure(w http.ResponseWriter, r *http.Request, c *Call, fl *Failure) {
	if fl.Lost {
		a := f.serve(c, r.Host)
		if a.body["ok"] == true {
			c.Lost = true
			if ts, _ := a.body["ts"].(string); c.Method == "chat.postMessage" {
				c.TS = ts
			}
		}
	}
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

func (f *Server) record(c Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	close(f.changed)
	f.changed = make(chan struct{})
}

// All returns the calls so far that pass keep (every call when keep is nil).
func (f *Server) All(keep func(Call) bool) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if keep == nil || keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// Succeeded returns the successful calls of a method.
func (f *Server) Succeeded(method string) []Call {
	return f.All(func(c Call) bool { return c.Method == method && c.OK() })
}

// Count returns how many calls there were so far.
func (f *Server) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// WaitFor waits until a call passes keep, and returns it; it fails the
// test after a while. It wakes on every call, so it never sleeps.
func (f *Server) WaitFor(t testing.TB, what string, keep func(Call) bool) Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := f.Await(ctx, keep)
	if err != nil {
		t.Fatalf("no %s; calls: %s", what, f.Summary())
	}
	return c
}

// Await waits until a call passes keep and returns it, or ctx's error.
func (f *Server) Await(ctx context.Context, keep func(Call) bool) (Call, error) {
	for {
		f.mu.Lock()
		changed := f.changed
		for _, c := range f.calls {
			if keep(c) {
				f.mu.Unlock()
				return c, nil
			}
		}
		f.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Call{}, ctx.Err()
		}
	}
}

// Summary lists the calls for a failure message.
func (f *Server) Summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, c := range f.calls {
		parts = append(parts, fmt.Sprintf("%s(%d %s)", c.Method, c.Status, c.Error))
	}
	return strings.Join(parts, " ")
}

// Method matches successful calls of one Web API method ("*" for any)
// whose text has every one of words.
func Method(name string, words ...string) func(Call) bool {
	return func(c Call) bool {
		if name != "*" && c.Method != name || !c.OK() {
			return false
		}
		text := c.Text()
		for _, w := range words {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	}
}
