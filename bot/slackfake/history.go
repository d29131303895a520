package slackfake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// message is a message the bot posted, as the history methods return it.
type message struct {
	TS, ThreadTS string
	Metadata     map[string]any // nil when posted without
	BotID, User  string         // another app's message (PostByOther); empty for the bot's
}

// MaxMetadataSize bounds the metadata of a message, in bytes of JSON. Slack
// does not publish the figure; chat.postMessage refuses metadata that is
// too large ("metadata_too_large",
// https://docs.slack.dev/reference/methods/chat.postMessage#errors), and the
// fake takes 8 KB, far beyond what mailack sends.
const MaxMetadataSize = 8 * 1024

// checkMetadata checks the metadata argument of chat.postMessage and
// chat.update: a JSON object with an event_type string and an
// event_payload object (https://docs.slack.dev/messaging/message-metadata).
// Not JSON is invalid_metadata_format; JSON of another shape is
// invalid_metadata_schema; too large is metadata_too_large (the methods'
// errors). It returns the metadata as Slack keeps it.
func checkMetadata(c *Call) (map[string]any, string) {
	raw := c.arg("metadata")
	if raw == nil {
		return nil, ""
	}
	var m map[string]any
	switch v := raw.(type) {
	case string:
		if len(v) > MaxMetadataSize {
			c.Invalid = append(c.Invalid, fmt.Sprintf("metadata of %d bytes", len(v)))
			return nil, "metadata_too_large"
		}
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			c.Invalid = append(c.Invalid, "metadata: "+err.Error())
			return nil, "invalid_metadata_format"
		}
	case map[string]any:
		m = v
	default:
		c.Invalid = append(c.Invalid, fmt.Sprintf("metadata is a %T", raw))
		return nil, "invalid_metadata_format"
	}
	et, _ := m["event_type"].(string)
	_, isObject := m["event_payload"].(map[string]any)
	if et == "" || !isObject || len(m) != 2 {
		c.Invalid = append(c.Invalid, "metadata wants exactly event_type (a string) and event_payload (an object)")
		return nil, "invalid_metadata_schema"
	}
	return m, ""
}

// History limits of conversations.history and conversations.replies for
// an internal app: "limit ... Maximum of 999", default 100
// (https://docs.slack.dev/reference/methods/conversations.history).
const (
	HistoryMaxLimit     = 999
	HistoryDefaultLimit = 100
)

// historyScope is the scope reading a conversation's history needs: the
// "Scopes" fact of conversations.history and conversations.replies lists
// channels:history, groups:history, im:history and mpim:history, one per
// kind of conversation.
func (f *Server) historyScope(ch string) string {
	switch c := f.channels[ch]; {
	case c == nil:
		return "im:history"
	case c.Private:
		return "groups:history"
	}
	return "channels:history"
}

// readable checks that the bot may read channel's history: it exists and
// the bot is in it (channel_not_found, not_in_channel; "Bot token ... Any
// conversation the relevant bot is a member of"), with the scope
// (missing_scope).
func (f *Server) readable(channel string) (answer, bool) {
	c, known := f.channels[channel]
	switch {
	case !known && !f.ims[channel], known && c.Private && !c.Member:
		return refuse("channel_not_found"), false
	case known && !c.Member:
		return refuse("not_in_channel"), false
	}
	if need := f.historyScope(channel); !f.granted(need) {
		a := refuse("missing_scope")
		a.body["needed"] = need
		return a, false
	}
	return answer{}, true
}

// page cuts msgs, newest or oldest first as given, at the call's limit and
// cursor (an index into msgs). Slack's cursors are opaque; an unknown one
// is invalid_cursor.
func page(c *Call, msgs []map[string]any) (answer, bool) {
	limit := HistoryDefaultLimit
	if v := c.Param("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return refuse("invalid_limit"), false
		}
		limit = min(n, HistoryMaxLimit)
	}
	start := 0
	if cur := c.Param("cursor"); cur != "" {
		n, err := strconv.Atoi(cur)
		if err != nil || n <= 0 || n > len(msgs) {
			return refuse("invalid_cursor"), false
		}
		start = n
	}
	end := min(start+limit, len(msgs))
	a := ok("messages", msgs[start:end], "has_more", end < len(msgs))
	if end < len(msgs) {
		a.body["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	return a, true
}

// bounds reads oldest and latest (Unix timestamps; latest defaults to
// now), exclusive unless inclusive is set, as both methods take them.
func bounds(c *Call, now time.Time) (func(ts string) bool, string) {
	parse := func(name string, def float64) (float64, bool) {
		v := c.Param(name)
		if v == "" {
			return def, true
		}
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	oldest, ok1 := parse("oldest", 0)
	latest, ok2 := parse("latest", float64(now.UnixNano())/1e9+1)
	if !ok1 || !ok2 {
		return nil, "invalid_ts_oldest"
	}
	inclusive := c.Param("inclusive") == "1" || c.Param("inclusive") == "true"
	return func(ts string) bool {
		t, _ := strconv.ParseFloat(ts, 64)
		if inclusive {
			return t >= oldest && t <= latest
		}
		return t > oldest && t < latest
	}, ""
}

// render is a message as the history methods return it: metadata only
// with include_all_metadata.
func (m message) render(c *Call) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "bot_id": "BBOT", "user": "UBOT"}
	if m.BotID != "" {
		out["bot_id"], out["user"] = m.BotID, m.User
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Metadata != nil && (c.Param("include_all_metadata") == "1" || c.Param("include_all_metadata") == "true") {
		out["metadata"] = m.Metadata
	}
	return out
}

// history: conversations.history
// (https://docs.slack.dev/reference/methods/conversations.history): the
// channel's messages, not the replies in threads, newest first.
func (f *Server) history(c *Call, now time.Time) answer {
	ch := c.Param("channel")
	if a, ok := f.readable(ch); !ok {
		return a
	}
	in, code := bounds(c, now)
	if code != "" {
		return refuse(code)
	}
	var msgs []map[string]any
	all := f.messages[ch]
	for i := len(all) - 1; i >= 0; i-- {
		if m := all[i]; m.ThreadTS == "" && in(m.TS) {
			msgs = append(msgs, m.render(c))
		}
	}
	a, _ := page(c, msgs)
	return a
}

// replies: conversations.replies
// (https://docs.slack.dev/reference/methods/conversations.replies): the
// thread of ts, its parent first, then its replies oldest first. "ts must
// be the timestamp of an existing message" (thread_not_found otherwise).
func (f *Server) replies(c *Call, now time.Time) answer {
	ch := c.Param("channel")
	if a, ok := f.readable(ch); !ok {
		return a
	}
	ts := c.Param("ts")
	if ts == "" {
		return refuse("invalid_arguments")
	}
	if !f.posted[ch][ts] {
		return refuse("thread_not_found")
	}
	in, code := bounds(c, now)
	if code != "" {
		return refuse(code)
	}
	var msgs []map[string]any
	for _, m := range f.messages[ch] {
		if m.TS == ts || m.ThreadTS == ts && in(m.TS) {
			r := m.render(c)
			r["thread_ts"] = ts
			msgs = append(msgs, r)
		}
	}
	a, _ := page(c, msgs)
	return a
}

// PostByOther adds to channel (in the thread of threadTS, when set) a
// message that another app, bot botID, posted on behalf of user with
// metadata, and returns its ts: any app a user installed with chat:write
// can post so in the conversations that user is in, their direct message
// with the bot included, and attach any metadata
// (https://docs.slack.dev/messaging/message-metadata). The bot can neither
// update it (cant_update_message) nor is it among the bot's posts.
func (f *Server) PostByOther(channel, threadTS, botID, user string, metadata map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), f.posts%1000000)
	f.messages[channel] = append(f.messages[channel], message{TS: ts, ThreadTS: threadTS, Metadata: metadata, BotID: botID, User: user})
	return ts
}
