package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/bot/slackfake"
)

// slackTerm is Slack for `mailack demo`: the strict fake of the Web API,
// which answers and refuses as Slack does, with what the bot posts — DMs,
// card updates, thread replies, answers to commands, modals, App Home and
// the digest — printed to a terminal.
type slackTerm struct {
	fake *slackfake.Server
	base string            // the fake's URL
	word map[string]string // the terminal's words in the demo's language

	mu       sync.Mutex // guards everything below and the writer
	out      io.Writer
	users    map[string]demoUser // by e-mail
	home     map[string]any      // the last App Home published, printed on request
	channels map[string]string   // channel ID → name
}

// demoUser is a member of the demo workspace.
type demoUser struct {
	ID, Name, Email, Locale, TZ string
}

// newSlackTerm returns the endpoint for the given workspace members and a
// public channel the bot joins for the digest (ID; shown as #sales for
// CSALES).
func newSlackTerm(out io.Writer, lang string, users []demoUser, channel string) *slackTerm {
	var members []slackfake.User
	s := &slackTerm{out: out, word: termWords[lang], users: map[string]demoUser{}, channels: map[string]string{}}
	for _, u := range users {
		s.users[strings.ToLower(u.Email)] = u
		members = append(members, slackfake.User{ID: u.ID, Email: u.Email, Locale: u.Locale, TZ: u.TZ, Name: u.Name})
	}
	s.fake = slackfake.New(members...)
	name := strings.ToLower(strings.TrimPrefix(channel, "C"))
	s.fake.AddChannel(slackfake.Channel{ID: channel, Name: name})
	s.channels[channel] = name
	return s
}

func (s *slackTerm) byID(id string) (demoUser, bool) {
	for _, u := range s.users {
		if u.ID == id {
			return u, true
		}
	}
	return demoUser{}, false
}

// params reads a Web API request's arguments, form-encoded or JSON.
func params(body []byte, contentType string) map[string]any {
	out := map[string]any{}
	if strings.HasPrefix(contentType, "application/json") {
		_ = json.Unmarshal(body, &out) // a bad body prints nothing
		return out
	}
	form, _ := url.ParseQuery(string(body))
	for k, v := range form {
		out[k] = v[0]
	}
	return out
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

// ServeHTTP hands the request to the fake and prints what it accepted.
func (s *slackTerm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, r)
	// Print before answering, so that whatever the bot does once Slack
	// answered (acknowledging a notice) happens after the output.
	s.show(r, body, rec.Body.Bytes())
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes()) // the bot reads what it gets
}

// show prints a call the fake answered with answer.
func (s *slackTerm) show(r *http.Request, body, answerBody []byte) {
	var answer struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(answerBody, &answer) != nil || !answer.OK {
		// Lookups of people outside the workspace are refused as a
		// matter of course; anything else refused is shown.
		if answer.Error != "" && answer.Error != "users_not_found" {
			s.mu.Lock()
			fmt.Fprintf(s.out, "  (%s)\n", fmt.Sprintf(s.word["refused"], r.URL.Path, answer.Error))
			s.mu.Unlock()
		}
		return
	}
	p := params(body, r.Header.Get("Content-Type"))
	method := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case method == "chat.postMessage", method == "chat.update", method == "chat.postEphemeral":
		s.printMessage(method, p)
	case strings.HasPrefix(method, "response/"):
		s.printMessage("response", p)
	case method == "views.open":
		s.printModal(p)
	case method == "views.publish":
		s.home = p
	}
}

// homeCurrent reports whether user's App Home was published after the
// last message posted or updated in their direct messages.
func (s *slackTerm) homeCurrent(user string) bool {
	lastDM, lastHome := -1, -1
	for i, c := range s.fake.All(func(c slackfake.Call) bool { return c.OK() }) {
		switch {
		case c.Method == "views.publish" && c.Param("user_id") == user:
			lastHome = i
		case (c.Method == "chat.postMessage" || c.Method == "chat.update") && (c.Param("channel") == "D"+user || c.Param("channel") == user):
			lastDM = i
		}
	}
	return lastHome > lastDM
}

// quiet waits until Slack has had no call for a moment: the bot has
// finished what it was doing.
func (s *slackTerm) quiet(ctx context.Context) error {
	for {
		n := s.fake.Count()
		t := time.NewTimer(80 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if s.fake.Count() == n {
			return nil
		}
	}
}

// termWords are the terminal's words around what Slack shows.
var termWords = map[string]map[string]string{
	"en": {"chat.postMessage": "new message", "chat.update": "message updated", "chat.postEphemeral": "only visible to you",
		"response": "only visible to you", "thread": "thread reply", "dm": "DM to %s", "home": "App Home of %s", "window": "window",
		"presses": "%s presses [%s]", "refused": "Slack refused %s: %s",
		"shortcut": "%s opens the shortcut [%s]", "types": "%s types “%s”"},
	"ja": {"chat.postMessage": "新しいメッセージ", "chat.update": "メッセージを更新", "chat.postEphemeral": "本人だけに表示",
		"response": "本人だけに表示", "thread": "スレッドへの返信", "dm": "%s さんへのDM", "home": "%s さんのホームタブ", "window": "ウィンドウ",
		"presses": "%s さんが［%s］を押します", "refused": "Slackが %s を拒否: %s",
		"shortcut": "%s さんがショートカット［%s］を開きます", "types": "%s さんが「%s」と入力します"},
}

// to names a channel for the terminal: a DM with its user, or the channel.
func (s *slackTerm) to(channel string) string {
	if id, ok := strings.CutPrefix(channel, "D"); ok {
		if u, ok := s.byID(id); ok {
			return fmt.Sprintf(s.word["dm"], u.Name)
		}
	}
	if u, ok := s.byID(channel); ok {
		return fmt.Sprintf(s.word["dm"], u.Name)
	}
	if name, ok := s.channels[channel]; ok {
		return "#" + name
	}
	return "#" + channel
}

func (s *slackTerm) printMessage(method string, p map[string]any) {
	what := s.word[method]
	if str(p, "thread_ts") != "" {
		what = s.word["thread"]
	}
	if method == "response" {
		fmt.Fprintf(s.out, "  ┌─ Slack · %s\n", what)
	} else {
		fmt.Fprintf(s.out, "  ┌─ Slack · %s · %s\n", s.to(str(p, "channel")), what)
	}
	lines := renderBlocks(p["blocks"])
	if len(lines) == 0 {
		lines = []string{plainMrkdwn(str(p, "text"))}
	}
	for _, l := range lines {
		fmt.Fprintf(s.out, "  │ %s\n", s.withNames(l))
	}
	fmt.Fprintln(s.out, "  └─")
}

// names shows mentions of members by their names, as Slack does.
func (s *slackTerm) withNames(line string) string {
	for _, u := range s.users {
		line = strings.ReplaceAll(line, "@"+u.ID, "@"+u.Name)
	}
	return line
}

// printHome prints the App Home the bot published last.
func (s *slackTerm) printHome() {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.home
	if p == nil {
		return
	}
	view := viewOf(p)
	name := str(p, "user_id")
	if u, ok := s.byID(name); ok {
		name = u.Name
	}
	fmt.Fprintf(s.out, "  ┌─ Slack · %s\n", fmt.Sprintf(s.word["home"], name))
	for _, l := range renderBlocks(view["blocks"]) {
		fmt.Fprintf(s.out, "  │ %s\n", s.withNames(l))
	}
	fmt.Fprintln(s.out, "  └─")
}

// printModal prints a modal the bot opened.
func (s *slackTerm) printModal(p map[string]any) {
	view := viewOf(p)
	title, _ := view["title"].(map[string]any)
	fmt.Fprintf(s.out, "  ┌─ Slack · %s · %s\n", s.word["window"], str(title, "text"))
	for _, l := range renderBlocks(view["blocks"]) {
		fmt.Fprintf(s.out, "  │ %s\n", l)
	}
	fmt.Fprintln(s.out, "  └─")
}

// viewOf reads the view argument, a JSON string or object.
func viewOf(p map[string]any) map[string]any {
	switch v := p["view"].(type) {
	case map[string]any:
		return v
	case string:
		var out map[string]any
		_ = json.Unmarshal([]byte(v), &out) // the fake accepted it as JSON
		return out
	}
	return nil
}

// renderBlocks renders Block Kit blocks, a JSON string or decoded JSON,
// as terminal lines.
func renderBlocks(v any) []string {
	raw, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v) // decoded JSON encodes
		raw = string(b)
	}
	if raw == "" || raw == "null" {
		return nil
	}
	var bs slack.Blocks
	if err := json.Unmarshal([]byte(raw), &bs); err != nil {
		return []string{"(blocks that could not be read: " + err.Error() + ")"}
	}
	var out []string
	for _, b := range bs.BlockSet {
		out = append(out, renderBlock(b)...)
	}
	return out
}

func renderBlock(b slack.Block) []string {
	switch b := b.(type) {
	case *slack.HeaderBlock:
		return []string{"■ " + textOf(b.Text)}
	case *slack.SectionBlock:
		var out []string
		if b.Text != nil {
			out = append(out, strings.Split(textOf(b.Text), "\n")...)
		}
		for _, f := range b.Fields {
			out = append(out, strings.Split(textOf(f), "\n")...)
		}
		if a := b.Accessory; a != nil && len(out) > 0 {
			switch {
			case a.SelectElement != nil:
				out[0] += "  " + elementText(a.SelectElement)
			case a.OverflowElement != nil:
				out[0] += "  [⋯]"
			}
		}
		return out
	case *slack.ContextBlock:
		var parts []string
		for _, e := range b.ContextElements.Elements {
			if t, ok := e.(*slack.TextBlockObject); ok {
				parts = append(parts, textOf(t))
			}
		}
		return []string{"  " + strings.Join(parts, "  ")}
	case *slack.DividerBlock:
		return []string{strings.Repeat("─", 40)}
	case *slack.InputBlock:
		return []string{textOf(b.Label) + ": " + elementText(b.Element)}
	case *slack.ActionBlock:
		var parts []string
		for _, e := range b.Elements.ElementSet {
			switch e := e.(type) {
			case *slack.ButtonBlockElement:
				parts = append(parts, "["+textOf(e.Text)+"]")
			case *slack.OverflowBlockElement:
				parts = append(parts, "[…]")
			case *slack.SelectBlockElement:
				parts = append(parts, "["+textOf(e.Placeholder)+" ▾]")
			default:
				parts = append(parts, elementText(e))
			}
		}
		return []string{strings.Join(parts, " ")}
	}
	return nil
}

// elementText shows an input element as a terminal can.
func elementText(e slack.BlockElement) string {
	switch e := e.(type) {
	case *slack.SelectBlockElement:
		if e.InitialOption != nil {
			return "[" + textOf(e.InitialOption.Text) + " ▾]"
		}
		return "[" + textOf(e.Placeholder) + " ▾]"
	case *slack.DatePickerBlockElement:
		return "[📅]"
	case *slack.DateTimePickerBlockElement:
		return "[📅 🕘]"
	case *slack.TimePickerBlockElement:
		if e.InitialTime != "" {
			return "[🕘 " + e.InitialTime + "]"
		}
		return "[🕘]"
	case *slack.PlainTextInputBlockElement:
		return "[____]"
	case *slack.RadioButtonsBlockElement:
		var opts []string
		for _, o := range e.Options {
			mark := "○"
			if e.InitialOption != nil && e.InitialOption.Value == o.Value {
				mark = "●"
			}
			opts = append(opts, mark+" "+textOf(o.Text))
		}
		return strings.Join(opts, "  ")
	}
	return ""
}

func textOf(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		return plainMrkdwn(t.Text)
	}
	return t.Text
}

var (
	linkRe     = regexp.MustCompile(`<([^|>]+)\|([^>]+)>`)
	dateRe     = regexp.MustCompile(`<!date\^\d+\^[^|>]*\|([^>]+)>`)
	mentionRe  = regexp.MustCompile(`<@(U[A-Z0-9]+)>`)
	emphasisRe = regexp.MustCompile(`(^|[\s(])[*_~]([^*_~\n]+)[*_~]`)
)

// emoji shows the emoji codes a terminal cannot as the characters it can.
var emoji = strings.NewReplacer(
	":warning:", "⚠️", ":white_check_mark:", "✅", ":hourglass_flowing_sand:", "⏳", ":hourglass:", "⌛",
	":incoming_envelope:", "📨", ":no_entry_sign:", "🚫", ":eyes:", "👀", ":zzz:", "💤", ":x:", "❌",
	":wastebasket:", "🗑️", ":handshake:", "🤝", ":outbox_tray:", "📤", ":mailbox_with_mail:", "📬",
	":robot_face:", "🤖", ":speech_balloon:", "💬", ":beach_with_umbrella:", "🏖", ":calendar:", "📅", ":bell:", "🔔", ":information_source:", "ℹ️",
)

// plainMrkdwn reduces Slack mrkdwn to plain text.
func plainMrkdwn(s string) string {
	s = dateRe.ReplaceAllString(s, "$1")
	s = linkRe.ReplaceAllString(s, "$2")
	s = mentionRe.ReplaceAllString(s, "@$1")
	s = emphasisRe.ReplaceAllString(s, "$1$2")
	return emoji.Replace(strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s))
}
