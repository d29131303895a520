package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/slack-go/slack"
)

// slackTerm is a Slack Web API endpoint for `mailack demo`: it answers the
// methods the bot calls as Slack does and prints what the bot posts — DMs,
// card updates, thread replies, App Home and the digest — to a terminal.
type slackTerm struct {
	mu       sync.Mutex // guards everything below and the writer
	out      io.Writer
	users    map[string]demoUser // by e-mail
	seq      int
	calls    map[string]int
	home     map[string]any    // the last App Home published, printed on request
	answered int               // Web API calls answered so far
	lastDM   map[string]int    // user ID → number of the last call that posted or updated in their DM
	homeAt   map[string]int    // user ID → number of the call that last published their App Home
	channels map[string]string // channel ID → name
}

// demoUser is a member of the demo workspace.
type demoUser struct {
	ID, Name, Email, Locale, TZ string
}

// newSlackTerm returns the endpoint for the given workspace members and
// channels (IDs; shown as #sales for CSALES).
func newSlackTerm(out io.Writer, users []demoUser, channels ...string) *slackTerm {
	s := &slackTerm{out: out, users: map[string]demoUser{}, calls: map[string]int{}, channels: map[string]string{},
		lastDM: map[string]int{}, homeAt: map[string]int{}}
	for _, c := range channels {
		s.channels[c] = strings.ToLower(strings.TrimPrefix(c, "C"))
	}
	for _, u := range users {
		s.users[strings.ToLower(u.Email)] = u
	}
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
func params(r *http.Request) map[string]any {
	out := map[string]any{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&out)
		return out
	}
	r.ParseForm()
	for k, v := range r.Form {
		out[k] = v[0]
	}
	return out
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

func (s *slackTerm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	p := params(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	s.answered++
	reply := map[string]any{"ok": true}
	switch method {
	case "auth.test":
		reply["user_id"], reply["team_id"], reply["bot_id"] = "UMAILACK", "TDEMO", "BMAILACK"
	case "users.lookupByEmail":
		u, ok := s.users[strings.ToLower(str(p, "email"))]
		if !ok {
			reply = map[string]any{"ok": false, "error": "users_not_found"}
			break
		}
		reply["user"] = userJSON(u)
	case "users.info":
		u, ok := s.byID(str(p, "user"))
		if !ok {
			reply = map[string]any{"ok": false, "error": "user_not_found"}
			break
		}
		reply["user"] = userJSON(u)
	case "conversations.open":
		reply["channel"] = map[string]any{"id": "D" + strings.TrimPrefix(str(p, "users"), "U")}
	case "chat.postMessage", "chat.postEphemeral", "chat.update":
		s.seq++
		ts := fmt.Sprintf("1790000000.%06d", s.seq)
		if method == "chat.update" {
			ts = str(p, "ts")
		}
		reply["channel"], reply["ts"], reply["message_ts"] = str(p, "channel"), ts, ts
		if u, ok := s.dmUser(str(p, "channel")); ok {
			s.lastDM[u.ID] = s.answered
		}
		s.printMessage(method, p)
	case "views.publish":
		s.home = p
		s.homeAt[str(p, "user_id")] = s.answered
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(reply)
}

func userJSON(u demoUser) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "real_name": u.Name, "locale": u.Locale, "tz": u.TZ,
		"profile": map[string]any{"email": u.Email, "real_name": u.Name, "display_name": u.Name}}
}

// dmUser returns the user whose DM channel is, given as the DM's ID or
// as the user's.
func (s *slackTerm) dmUser(channel string) (demoUser, bool) {
	if id, ok := strings.CutPrefix(channel, "D"); ok {
		return s.byID("U" + id)
	}
	return s.byID(channel)
}

// to names a channel for the terminal: a DM with its user, or the channel.
func (s *slackTerm) to(channel string) string {
	if u, ok := s.dmUser(channel); ok {
		return "DM to " + u.Name
	}
	if name, ok := s.channels[channel]; ok {
		return "#" + name
	}
	return "#" + channel
}

func (s *slackTerm) printMessage(method string, p map[string]any) {
	what := map[string]string{"chat.postMessage": "new message", "chat.update": "card updated", "chat.postEphemeral": "only visible to you"}[method]
	if str(p, "thread_ts") != "" {
		what = "thread reply"
	}
	fmt.Fprintf(s.out, "  ┌─ Slack · %s · %s\n", s.to(str(p, "channel")), what)
	lines := renderBlocksJSON(str(p, "blocks"))
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

// homeCurrent reports whether the App Home of user was published after
// the last message posted or updated in their DM.
func (s *slackTerm) homeCurrent(user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.homeAt[user] > s.lastDM[user]
}

// printHome prints the App Home the bot published last.
func (s *slackTerm) printHome() {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.home
	if p == nil {
		return
	}
	view, _ := p["view"].(map[string]any)
	b, _ := json.Marshal(view["blocks"])
	name := str(p, "user_id")
	if u, ok := s.byID(name); ok {
		name = u.Name
	}
	fmt.Fprintf(s.out, "  ┌─ Slack · App Home of %s\n", name)
	for _, l := range renderBlocksJSON(string(b)) {
		fmt.Fprintf(s.out, "  │ %s\n", l)
	}
	fmt.Fprintln(s.out, "  └─")
}

// renderBlocksJSON renders Block Kit blocks as terminal lines.
func renderBlocksJSON(raw string) []string {
	if raw == "" {
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
			case *slack.DatePickerBlockElement:
				parts = append(parts, "[📅]")
			}
		}
		return []string{strings.Join(parts, " ")}
	}
	return nil
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
	":robot_face:", "🤖", ":speech_balloon:", "💬", ":calendar:", "📅", ":bell:", "🔔",
)

// plainMrkdwn reduces Slack mrkdwn to plain text.
func plainMrkdwn(s string) string {
	s = dateRe.ReplaceAllString(s, "$1")
	s = linkRe.ReplaceAllString(s, "$2")
	s = mentionRe.ReplaceAllString(s, "@$1")
	s = emphasisRe.ReplaceAllString(s, "$1$2")
	return emoji.Replace(strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s))
}
