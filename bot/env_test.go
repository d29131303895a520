package bot_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/botstore"
	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// The workspace of the tests.
var (
	alice  = fakeUser{ID: "UALICE", Email: "alice@example.com", Locale: "en-US", TZ: "America/New_York", Name: "Alice Adams"}
	bob    = fakeUser{ID: "UBOB", Email: "bob@example.com", Locale: "en-GB", TZ: "Europe/London"}
	hanako = fakeUser{ID: "UHANAKO", Email: "hanako@example.jp", Locale: "ja-JP", TZ: "Asia/Tokyo"}
	carol  = fakeUser{ID: "UCAROL", Email: "carol@example.com", Locale: "en-US", TZ: "America/Chicago"}
	admin  = fakeUser{ID: "UADMIN", Email: "admin@example.com", Locale: "en-US", TZ: "UTC"}
)

// outsider has no Slack user.
const outsider = "someone@partner.example"

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// env is a bot wired to a real store and the Slack fake.
type env struct {
	fake     *fakeSlack
	base     string // the fake's URL
	store    *store.Store
	settings *botstore.Settings
	sent     *fakeSent
	bot      *bot.Bot
	handler  http.Handler
	logs     *strings.Builder
	logMu    *sync.Mutex
	// cfg, log and settingsPath build the bot again (restart).
	cfg          bot.Config
	log          *slog.Logger
	settingsPath string
}

type envOptions struct {
	// inProcess connects the bot to the fake without a network, for
	// testing/synctest.
	inProcess bool
	config    func(*bot.Config)
	// calendar counts the store's working time (out-of-office deadlines,
	// when an away recipient is back); nil counts plain time.
	calendar *track.Calendar
	// settings wraps the settings store the bot is given.
	settings func(bot.Settings) bot.Settings
	// openStore opens the store instead of a bbolt file; the test closes
	// it.
	openStore func(t *testing.T) *store.Store
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{fake: newFakeSlack(alice, bob, hanako, carol, admin), logs: &strings.Builder{}, logMu: &sync.Mutex{}}
	var hc *http.Client
	e.fake.Grant(manifestScopes(t)...)
	for _, ch := range []slackfake.Channel{
		{ID: "C0GENERAL", Name: "general"},
		{ID: "C0REDACTED", Name: "sales-redacted"},
		{ID: "C0OPEN", Name: "sales"},
		{ID: "C0QUIET", Name: "quiet"},
		{ID: "C0PRIVATE", Name: "board", Private: true},
	} {
		e.fake.AddChannel(ch)
	}
	if o.inProcess {
		e.base, hc = "http://slack.test", e.fake.InProcess()
		e.fake.CheckAtEnd(t)
	} else {
		srv := e.fake.Serve(t)
		e.base, hc = srv.URL, srv.Client()
	}
	dir := t.TempDir()
	var st *store.Store
	var err error
	if o.openStore != nil {
		st = o.openStore(t)
	} else if st, err = store.Open(filepath.Join(dir, "mailack.db"), store.Options{NoSync: true, Calendar: o.calendar}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	e.store = st
	e.settingsPath = filepath.Join(dir, "settings.json")
	if e.settings, err = botstore.OpenSettings(e.settingsPath); err != nil {
		t.Fatal(err)
	}
	e.sent = &fakeSent{store: st, mails: map[string][]sentCopy{}}
	cfg := bot.Defaults()
	cfg.Mode = bot.ModeHTTP
	cfg.BotToken = "xoxb-test-token"
	cfg.SigningSecret = testSecret
	cfg.APIURL = e.base + "/"
	cfg.HTTPClient = hc
	cfg.ResponseURLPrefix = e.base + "/response/"
	cfg.Admins = []string{admin.ID}
	cfg.Poll = 50 * time.Millisecond
	cfg.DontRecover = true
	if o.config != nil {
		o.config(&cfg)
	}
	log := slog.New(slog.NewTextHandler(&syncWriter{mu: e.logMu, w: e.logs, t: t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.cfg, e.log = cfg, log
	deps := botstore.New(st).Deps(e.settings, e.sent)
	if o.settings != nil {
		deps.Settings = o.settings(deps.Settings)
	}
	e.bot, err = bot.New(cfg, deps, log)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = e.bot.Handler()
	// A request a test sent without running the bot leaves its work
	// running after the ack: it ends before the store and the fake close,
	// and never runs into the next test.
	t.Cleanup(func() { e.bot.WaitWork() })
	return e
}

// restart builds the bot anew on the same store, with the settings read
// again from their file, as a new process would; the old bot must have
// been stopped.
func (e *env) restart(t *testing.T) {
	t.Helper()
	var err error
	if e.settings, err = botstore.OpenSettings(e.settingsPath); err != nil {
		t.Fatal(err)
	}
	if e.bot, err = bot.New(e.cfg, botstore.New(e.store).Deps(e.settings, e.sent), e.log); err != nil {
		t.Fatal(err)
	}
	e.handler = e.bot.Handler()
}

// syncWriter sends the bot's log to the test's output and keeps a copy.
type syncWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
	t  *testing.T
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Write(p)
	return s.t.Output().Write(p)
}

func (e *env) logged() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

// run runs the bot until the returned stop is called; stop fails the test
// if Run failed.
func (e *env) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.bot.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	}
}

// register tracks a mail from sender to the recipients, sent at sentAt.
func (e *env) register(t *testing.T, id, sender, subject string, sentAt time.Time, rcpts ...string) track.Mail {
	t.Helper()
	m := track.Mail{MessageID: id, Sender: sender, Subject: subject, SentAt: sentAt, Requested: track.Requested{ReadReceipt: true}}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, track.Recipient{Address: r})
	}
	m, err := track.Register(m, 48*time.Hour, nil, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.store.RegisterMail(t.Context(), store.RegisterInput{Mail: m, Now: sentAt})
	if err != nil {
		t.Fatal(err)
	}
	return res.Mail
}

// observe applies evidence that a recipient reached sig, as a report
// would, and returns the notices it caused.
func (e *env) observe(t *testing.T, id, rcpt string, sig track.Status, reason report.Reason, at time.Time) []track.Notice {
	t.Helper()
	src := track.SourceDSN
	if sig == track.StatusRead || sig == track.StatusDeclined || sig == track.StatusDeletedUnread {
		src = track.SourceMDN
	}
	ev := track.Evidence{
		ID: fmt.Sprintf("test-%s-%s-%s", id, rcpt, sig), MessageID: id, Recipient: rcpt, Source: src,
		Signal: sig, Reason: reason, At: at, Seen: at, Confidence: track.ConfidenceExact,
	}
	res, err := e.store.ApplyReport(t.Context(), store.ApplyInput{Evidence: []track.Evidence{ev}, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return res.Notices
}

// pending returns what is left in the outbox.
func (e *env) pending(t *testing.T) []store.OutboxItem {
	t.Helper()
	items, err := e.store.Pending(t.Context(), time.Now().Add(1000*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// post sends a signed request to the bot's HTTP handler.
func (e *env) post(path, body string) *httptest.ResponseRecorder {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return e.postSigned(path, body, ts, sign(testSecret, ts, body))
}

func (e *env) postSigned(path, body, ts, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

func sign(secret, ts, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// responseURL returns a fresh response_url for one request, as Slack
// hands one out.
func (e *env) responseURL() string { return e.fake.ResponseURL(e.base) }

// command sends /track text as u, shaped as Slack sends slash commands,
// and returns the response_url its answer will go to.
func (e *env) command(t *testing.T, u fakeUser, text string) string {
	t.Helper()
	respURL := e.responseURL()
	body := commandForm(u, text, respURL, e.fake.TriggerID()).Encode()
	if rec := e.post(bot.PathCommands, body); rec.Code != http.StatusOK {
		t.Fatalf("POST %s = %d %s", bot.PathCommands, rec.Code, rec.Body)
	}
	return respURL
}

// commandForm holds the fields of u's /track text as Slack sends them.
func commandForm(u fakeUser, text, respURL, trigger string) url.Values {
	return url.Values{
		"token":        {"xyzz0WbapA4vBCDEFasx0q6G"},
		"team_id":      {"T1DC2JH3J"},
		"team_domain":  {"example"},
		"channel_id":   {"C0GENERAL"},
		"channel_name": {"general"},
		"user_id":      {u.ID},
		"user_name":    {strings.ToLower(u.ID)},
		"command":      {"/track"},
		"text":         {text},
		"api_app_id":   {"A0MAILACK"},
		"response_url": {respURL},
		"trigger_id":   {trigger},
	}
}

// answer waits for the answer to a request and returns its text.
func (e *env) answer(t *testing.T, respURL string) string {
	t.Helper()
	path := strings.TrimPrefix(respURL, e.base)
	c := e.fake.WaitFor(t, "answer at "+path, func(c call) bool { return c.Path == path })
	return c.Text()
}

// blockAction is one element of an interactivity payload's actions.
type blockAction struct {
	ActionID     string `json:"action_id"`
	BlockID      string `json:"block_id"`
	Value        string `json:"value,omitempty"`
	Type         string `json:"type"`
	SelectedDate string `json:"selected_date,omitempty"`
	// SelectedOption is the option picked in a select or overflow menu.
	SelectedOption *pickedOption `json:"selected_option,omitempty"`
	SelectedTime   string        `json:"selected_time,omitempty"`
	ActionTS       string        `json:"action_ts"`
	// OnMessage is the timestamp of the message pressed on, when the test
	// knows it.
	OnMessage string `json:"-"`
	// InHome presses the button in App Home, which has no response_url.
	InHome bool `json:"-"`
}

// pickedOption is an option as block_actions reports it.
type pickedOption struct {
	Text  map[string]any `json:"text"`
	Value string         `json:"value"`
}

func picked(value string) *pickedOption {
	return &pickedOption{Text: map[string]any{"type": "plain_text", "text": value}, Value: value}
}

// press sends a block_actions payload as u, shaped as Slack sends it
// (form-encoded, the JSON in payload), and returns its response_url.
func (e *env) press(t *testing.T, u fakeUser, a blockAction) string {
	t.Helper()
	respURL := e.responseURL()
	raw, err := json.Marshal(actionPayload(u, a, respURL, e.fake.TriggerID()))
	if err != nil {
		t.Fatal(err)
	}
	body := url.Values{"payload": {string(raw)}}.Encode()
	if rec := e.post(bot.PathInteractivity, body); rec.Code != http.StatusOK {
		t.Fatalf("POST %s = %d %s", bot.PathInteractivity, rec.Code, rec.Body)
	}
	return respURL
}

// actionPayload is the block_actions payload of u pressing a on a card in
// their direct messages.
func actionPayload(u fakeUser, a blockAction, respURL, trigger string) map[string]any {
	if a.Type == "" {
		a.Type = "button"
	}
	a.ActionTS = "1700000100.000200"
	msgTS := "1700000000.000001"
	if a.OnMessage != "" {
		msgTS = a.OnMessage
	}
	if a.InHome {
		return map[string]any{
			"type":       "block_actions",
			"team":       map[string]any{"id": "T1DC2JH3J", "domain": "example"},
			"user":       map[string]any{"id": u.ID, "username": strings.ToLower(u.ID), "team_id": "T1DC2JH3J"},
			"api_app_id": "A0MAILACK",
			"token":      "xyzz0WbapA4vBCDEFasx0q6G",
			"container":  map[string]any{"type": "view", "view_id": "V0HOME"},
			"trigger_id": trigger,
			"view":       map[string]any{"id": "V0HOME", "type": "home", "team_id": "T1DC2JH3J"},
			"actions":    []blockAction{a},
		}
	}
	return map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "T1DC2JH3J", "domain": "example"},
		"user":         map[string]any{"id": u.ID, "username": strings.ToLower(u.ID), "team_id": "T1DC2JH3J"},
		"api_app_id":   "A0MAILACK",
		"token":        "xyzz0WbapA4vBCDEFasx0q6G",
		"container":    map[string]any{"type": "message", "message_ts": msgTS, "channel_id": "D" + u.ID, "is_ephemeral": false},
		"trigger_id":   trigger,
		"channel":      map[string]any{"id": "D" + u.ID, "name": "directmessage"},
		"message":      map[string]any{"type": "message", "ts": msgTS, "text": "card"},
		"response_url": respURL,
		"actions":      []blockAction{a},
	}
}

// sentCopy is a mail in a fake Sent folder.
type sentCopy struct {
	bot.SentMail
	rcpts []string
	// as is the sender the copy is registered as; the folder's owner when
	// empty.
	as string
}

// fakeSent is a Sent-folder search over fixed mails; tracking registers
// in the real store.
type fakeSent struct {
	store *store.Store
	mu    sync.Mutex            // guards mails
	mails map[string][]sentCopy // by sender
}

func (f *fakeSent) add(sender string, m bot.SentMail) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mails[sender] = append(f.mails[sender], sentCopy{SentMail: m, rcpts: m.To})
}

func (f *fakeSent) FindSent(_ context.Context, sender, query string, limit int) ([]bot.SentMail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []bot.SentMail
	for _, m := range f.mails[sender] {
		if strings.Contains(strings.ToLower(m.Subject), strings.ToLower(query)) && len(out) < limit {
			out = append(out, m.SentMail)
		}
	}
	return out, nil
}

func (f *fakeSent) TrackSent(ctx context.Context, sender, id string, deadline time.Duration) (track.Mail, error) {
	f.mu.Lock()
	var found *sentCopy
	for _, m := range f.mails[sender] {
		if m.MessageID == id {
			found = &m
		}
	}
	f.mu.Unlock()
	if found == nil {
		return track.Mail{}, bot.ErrNotFound
	}
	m := track.Mail{MessageID: id, Sender: sender, Subject: found.Subject, SentAt: found.SentAt, Deadline: deadline}
	if found.as != "" {
		m.Sender = found.as
	}
	for _, r := range found.rcpts {
		m.Recipients = append(m.Recipients, track.Recipient{Address: r})
	}
	m, err := track.Register(m, 48*time.Hour, nil, time.Now())
	if err != nil {
		return track.Mail{}, err
	}
	res, err := f.store.RegisterMail(ctx, store.RegisterInput{Mail: m, Now: time.Now()})
	return res.Mail, err
}

func bytesReader(b []byte) *strings.Reader { return strings.NewReader(string(b)) }

// staleTrigger is a trigger_id the fake never handed out.
const staleTrigger = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"

// manifestScopes are the bot scopes the app manifest asks for: the fake
// grants exactly those, so a call needing another fails.
func manifestScopes(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../configs/slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m slack.Manifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m.OAuthConfig.Scopes.Bot
}
