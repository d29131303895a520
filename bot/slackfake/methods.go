package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// methodScopes are the bot token scopes each method needs, from the
// "Scopes" fact of its page under https://docs.slack.dev/reference/methods/.
// conversations.info needs channels:read for a public channel and
// groups:read for a private one.
var methodScopes = map[string]string{
	"chat.postMessage":    "chat:write",
	"chat.update":         "chat:write",
	"chat.postEphemeral":  "chat:write",
	"conversations.open":  "im:write",
	"conversations.join":  "channels:join",
	"users.info":          "users:read",
	"users.lookupByEmail": "users:read.email",
}

// MaxViewSize is the largest view views.publish and views.open take, in
// bytes of JSON: "views.publish ... view under 250 KB" (the method's page,
// https://docs.slack.dev/reference/methods/views.publish).
const MaxViewSize = 250 * 1024

// serve answers a call that no injected failure took.
func (f *Server) serve(c *Call, host string) answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if a, refused := f.checkToken(c); refused {
		return a
	}
	if a, limited := f.rateLimit(c, now); limited {
		return a
	}
	if need, ok := methodScopes[c.Method]; ok && f.scopes != nil && !f.scopes[need] {
		a := refuse("missing_scope")
		a.body["needed"] = need
		return a
	}
	switch c.Method {
	case "auth.test":
		return ok("user_id", "UBOT", "team_id", "T1", "user", "mailack", "bot_id", "BBOT")
	case "conversations.open":
		return f.openIM(c)
	case "conversations.info":
		return f.channelInfo(c)
	case "conversations.join":
		return f.join(c)
	case "chat.postMessage":
		return f.postMessage(c, now)
	case "chat.update":
		return f.update(c)
	case "conversations.history":
		return f.history(c, now)
	case "conversations.replies":
		return f.replies(c, now)
	case "chat.postEphemeral":
		return f.postEphemeral(c)
	case "views.publish":
		return f.publish(c)
	case "views.open":
		return f.openView(c, now)
	case "views.update":
		return f.updateView(c)
	case "users.lookupByEmail":
		return f.userAnswer(func(u User) bool { return strings.EqualFold(u.Email, c.Param("email")) }, "users_not_found")
	case "users.info":
		return f.userAnswer(func(u User) bool { return u.ID == c.Param("user") }, "user_not_found")
	case "response":
		return f.respond(c, now)
	case "apps.connections.open":
		if f.socket != nil {
			f.links++
			return ok("url", fmt.Sprintf("ws://%s%s?ticket=%d", host, SocketPath, f.links))
		}
	}
	return refuse("unknown_method")
}

// checkToken refuses a Web API call without a token (not_authed) or with
// one that is not valid for the method (invalid_auth), as every method's
// page lists: "not_authed: No authentication token provided",
// "invalid_auth: Some aspect of authentication cannot be validated"
// (e.g. https://docs.slack.dev/reference/methods/auth.test). Bot tokens
// start with xoxb- and app-level tokens, which only
// apps.connections.open takes, with xapp-
// (https://docs.slack.dev/authentication/tokens). A response_url takes no
// token: the URL is the credential.
func (f *Server) checkToken(c *Call) (answer, bool) {
	if c.Method == "response" {
		return answer{}, false
	}
	tok := c.Token
	if tok == "" {
		tok = c.Param("token")
	}
	prefix := "xoxb-"
	if c.Method == "apps.connections.open" {
		prefix = "xapp-"
	}
	switch {
	case tok == "":
		return refuse("not_authed"), true
	case !strings.HasPrefix(tok, prefix):
		return refuse("invalid_auth"), true
	case prefix == "xoxb-" && f.token != "" && tok != f.token:
		return refuse("invalid_auth"), true
	}
	return answer{}, false
}

// rateLimit answers HTTP 429 with Retry-After when the call is over its
// method's tier: "your app will receive a HTTP 429 Too Many Requests
// error, and a Retry-After HTTP header containing the number of seconds
// until you can retry" (https://docs.slack.dev/apis/web-api/rate-limits).
func (f *Server) rateLimit(c *Call, now time.Time) (answer, bool) {
	if f.noLimits {
		return answer{}, false
	}
	key, t := c.Method, methodTiers[c.Method]
	if c.Method == "chat.postMessage" {
		key, t = c.Method+" "+c.Param("channel"), postMessageRate
	}
	if t.perMinute == 0 {
		return answer{}, false
	}
	wait, allowed := take(f.buckets, key, t, now)
	if allowed {
		return answer{}, false
	}
	a := refuse("ratelimited")
	a.status = http.StatusTooManyRequests
	a.retryAfter = retryAfter(wait)
	return a, true
}

func (f *Server) user(id string) (User, bool) {
	for _, u := range f.users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

func (f *Server) userAnswer(match func(User) bool, notFound string) answer {
	for _, u := range f.users {
		if match(u) {
			return ok("user", map[string]any{
				"id": u.ID, "name": strings.ToLower(u.ID), "real_name": u.Name, "tz": u.TZ, "locale": u.Locale,
				"profile": map[string]any{"email": u.Email, "real_name": u.Name, "display_name": u.Name},
			})
		}
	}
	return refuse(notFound)
}

// openIM: conversations.open with one user opens (or returns) the direct
// message with them.
func (f *Server) openIM(c *Call) answer {
	users := strings.Split(c.Param("users"), ",")
	if len(users) != 1 || users[0] == "" {
		return refuse("users_list_not_supplied")
	}
	if _, ok := f.user(users[0]); !ok {
		return refuse("user_not_found")
	}
	id := "D" + users[0]
	f.ims[id] = true
	return ok("channel", map[string]any{"id": id})
}

// resolve finds where a message to channel goes, or the error Slack
// gives: channel_not_found for a channel that does not exist or that the
// bot cannot see (a private channel it is not in), not_in_channel for a
// public channel it has not joined (chat.postMessage's errors,
// https://docs.slack.dev/reference/methods/chat.postMessage#errors).
// Posting to a user ID posts in the bot's direct message with them.
func (f *Server) resolve(channel string) (string, string) {
	if _, ok := f.user(channel); ok {
		id := "D" + channel
		f.ims[id] = true
		return id, ""
	}
	if strings.HasPrefix(channel, "D") {
		if !f.ims[channel] {
			return "", "channel_not_found"
		}
		return channel, ""
	}
	ch, ok := f.channels[channel]
	switch {
	case !ok, ch.Private && !ch.Member:
		return "", "channel_not_found"
	case ch.Archived:
		return "", "is_archived"
	case !ch.Member && !(f.granted("chat:write.public") && !ch.Private):
		return "", "not_in_channel"
	}
	return channel, ""
}

func (f *Server) granted(scope string) bool { return f.scopes == nil || f.scopes[scope] }

// channelInfo: conversations.info
// (https://docs.slack.dev/reference/methods/conversations.info).
func (f *Server) channelInfo(c *Call) answer {
	id := c.Param("channel")
	if strings.HasPrefix(id, "D") && f.ims[id] {
		return ok("channel", map[string]any{"id": id, "is_im": true})
	}
	ch, found := f.channels[id]
	if !found || ch.Private && !ch.Member {
		return refuse("channel_not_found")
	}
	need := "channels:read"
	if ch.Private {
		need = "groups:read"
	}
	if !f.granted(need) {
		a := refuse("missing_scope")
		a.body["needed"] = need
		return a
	}
	return ok("channel", map[string]any{"id": ch.ID, "name": ch.Name, "is_channel": !ch.Private,
		"is_private": ch.Private, "is_archived": ch.Archived, "is_member": ch.Member})
}

// join: conversations.join joins a public channel; a private one needs an
// invitation (https://docs.slack.dev/reference/methods/conversations.join).
func (f *Server) join(c *Call) answer {
	ch, found := f.channels[c.Param("channel")]
	switch {
	case !found:
		return refuse("channel_not_found")
	case ch.Private:
		return refuse("method_not_supported_for_channel_type")
	case ch.Archived:
		return refuse("is_archived")
	}
	info := map[string]any{"id": ch.ID, "name": ch.Name, "is_channel": true, "is_member": true}
	if ch.Member {
		a := ok("channel", info, "warning", "already_in_channel")
		return a
	}
	ch.Member = true
	return ok("channel", info)
}

// arg returns a parameter as sent: a form value, or a JSON value.
func (c *Call) arg(name string) any {
	if c.JSON != nil {
		return c.JSON[name]
	}
	if v, ok := c.Form[name]; ok && len(v) > 0 {
		return v[0]
	}
	return nil
}

// checkMessage checks a message's text and blocks as chat.postMessage
// does (https://docs.slack.dev/reference/methods/chat.postMessage): one of
// text, blocks or attachments is required (no_text); blocks must be JSON
// (invalid_blocks_format) and follow Block Kit (invalid_blocks); text
// beyond 40,000 characters is msg_too_long. With blocks, text is "used as
// fallback text for notifications" and screen readers, and Slack warns
// when it is missing ("missing_text"): the fake answers ok and records it.
func checkMessage(c *Call) (code string, warning string) {
	text, _ := c.arg("text").(string)
	blocks, err := decodeBlocks(c.arg("blocks"))
	if err != nil {
		c.Invalid = append(c.Invalid, "blocks: "+err.Error())
		return "invalid_blocks_format", ""
	}
	if c.arg("attachments") != nil {
		c.Invalid = append(c.Invalid, "attachments are not used by mailack")
		return "invalid_attachments", ""
	}
	if text == "" && len(blocks) == 0 {
		c.Invalid = append(c.Invalid, "no text and no blocks")
		return "no_text", ""
	}
	if Length(text) > MaxMessageText {
		c.Invalid = append(c.Invalid, fmt.Sprintf("text of %d characters", Length(text)))
		return "msg_too_long", ""
	}
	if errs := CheckBlocks(SurfaceMessage, blocks); len(errs) > 0 {
		c.Invalid = append(c.Invalid, errs...)
		for _, e := range errs {
			if strings.HasPrefix(e, "msg_blocks_too_long") {
				return "msg_blocks_too_long", ""
			}
		}
		return "invalid_blocks", ""
	}
	if strings.TrimSpace(text) == "" {
		c.Invalid = append(c.Invalid, "blocks without top-level text (notification and screen reader text)")
		return "", "missing_text"
	}
	return "", ""
}

func invalid(code string, c *Call) answer {
	a := refuse(code)
	if len(c.Invalid) > 0 {
		a.body["errors"] = c.Invalid
		a.body["response_metadata"] = map[string]any{"messages": prefixed("[ERROR] ", c.Invalid)}
	}
	return a
}

func prefixed(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + x
	}
	return out
}

func withWarning(a answer, warning string) answer {
	if warning != "" {
		a.body["warning"] = warning
		a.body["response_metadata"] = map[string]any{"warnings": []string{warning}}
	}
	return a
}

func (f *Server) postMessage(c *Call, now time.Time) answer {
	ch, code := f.resolve(c.Param("channel"))
	if code != "" {
		return refuse(code)
	}
	code, warning := checkMessage(c)
	if code != "" {
		return invalid(code, c)
	}
	meta, code := checkMetadata(c)
	if code != "" {
		return invalid(code, c)
	}
	thread := c.Param("thread_ts")
	if thread != "" && !f.posted[ch][thread] {
		return refuse("thread_not_found")
	}
	f.posts++
	// A message's ts is the time it was posted, unique in its channel.
	ts := fmt.Sprintf("%d.%06d", now.Unix(), f.posts%1000000)
	if f.posted[ch] == nil {
		f.posted[ch] = map[string]bool{}
	}
	f.posted[ch][ts] = true
	f.messages[ch] = append(f.messages[ch], message{TS: ts, ThreadTS: thread, Metadata: meta})
	return withWarning(ok("channel", ch, "ts", ts), warning)
}

// update: chat.update of a message the bot posted
// (https://docs.slack.dev/reference/methods/chat.update).
func (f *Server) update(c *Call) answer {
	ch, code := f.resolve(c.Param("channel"))
	if code != "" {
		return refuse(code)
	}
	if !f.posted[ch][c.Param("ts")] {
		// "cant_update_message: Authenticated user does not have
		// permission to update this message" (chat.update's errors).
		for _, m := range f.messages[ch] {
			if m.TS == c.Param("ts") {
				return refuse("cant_update_message")
			}
		}
		return refuse("message_not_found")
	}
	if code, warning := checkMessage(c); code != "" {
		return invalid(code, c)
	} else if _, code := checkMetadata(c); code != "" {
		return invalid(code, c)
	} else {
		return withWarning(ok("channel", ch, "ts", c.Param("ts")), warning)
	}
}

// postEphemeral: chat.postEphemeral
// (https://docs.slack.dev/reference/methods/chat.postEphemeral).
func (f *Server) postEphemeral(c *Call) answer {
	if _, ok := f.user(c.Param("user")); !ok {
		return refuse("user_not_found")
	}
	if _, code := f.resolve(c.Param("channel")); code != "" {
		return refuse(code)
	}
	code, warning := checkMessage(c)
	if code != "" {
		return invalid(code, c)
	}
	f.seq++
	return withWarning(ok("message_ts", fmt.Sprintf("1700000000.%06d", f.seq)), warning)
}

// decodeView reads the view argument: a JSON object, as a string (form
// encoding) or already decoded (JSON body), and its size in bytes.
func decodeView(v any) (map[string]any, int, error) {
	var raw []byte
	switch view := v.(type) {
	case string:
		raw = []byte(view)
	case map[string]any:
		var err error
		if raw, err = json.Marshal(view); err != nil {
			return nil, 0, err
		}
	default:
		return nil, 0, fmt.Errorf("view is required")
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, 0, err
	}
	return out, len(raw), nil
}

// checkView checks a view for a surface and returns the error code, if
// any.
func checkView(c *Call, surface Surface) string {
	view, size, err := decodeView(c.arg("view"))
	if err != nil {
		c.Invalid = append(c.Invalid, err.Error())
		return "invalid_arguments"
	}
	if size > MaxViewSize {
		c.Invalid = append(c.Invalid, fmt.Sprintf("view of %d bytes", size))
		return "view_too_large"
	}
	if errs := CheckView(surface, view); len(errs) > 0 {
		c.Invalid = append(c.Invalid, errs...)
		return "invalid_arguments"
	}
	return ""
}

// publish: views.publish (https://docs.slack.dev/reference/methods/views.publish).
func (f *Server) publish(c *Call) answer {
	if _, ok := f.user(c.Param("user_id")); !ok {
		return refuse("user_not_found")
	}
	if code := checkView(c, SurfaceHome); code != "" {
		return invalid(code, c)
	}
	f.seq++
	return ok("view", map[string]any{"id": fmt.Sprintf("V%d", f.seq), "type": "home"})
}

// openView: views.open with a trigger_id
// (https://docs.slack.dev/reference/methods/views.open).
func (f *Server) openView(c *Call, now time.Time) answer {
	id := c.Param("trigger_id")
	tr, found := f.triggers[id]
	switch {
	case !found:
		return refuse("invalid_trigger_id")
	case tr.used:
		return refuse("exchanged_trigger_id")
	case now.Sub(tr.at) > TriggerLifetime:
		return refuse("expired_trigger_id")
	}
	if code := checkView(c, SurfaceModal); code != "" {
		return invalid(code, c)
	}
	tr.used = true
	f.triggers[id] = tr
	f.seq++
	v := fmt.Sprintf("V%d", f.seq)
	hash := fmt.Sprintf("%d.%d", f.seq, f.seq)
	f.views[v] = hash
	return ok("view", map[string]any{"id": v, "type": "modal", "hash": hash})
}

// updateView: views.update of a modal the bot opened, by view_id or
// external_id, with the hash of its last version when one is given
// (https://docs.slack.dev/reference/methods/views.update: "Either view_id
// or external_id is required", errors not_found and hash_conflict "when
// the provided hash doesn't match the current stored value").
func (f *Server) updateView(c *Call) answer {
	id := c.Param("view_id")
	if id == "" && c.Param("external_id") == "" {
		return refuse("invalid_arguments")
	}
	hash, found := f.views[id]
	if !found {
		return refuse("not_found")
	}
	if h := c.Param("hash"); h != "" && h != hash {
		return refuse("hash_conflict")
	}
	if code := checkView(c, SurfaceModal); code != "" {
		return invalid(code, c)
	}
	f.seq++
	hash = fmt.Sprintf("%s.%d", id, f.seq)
	f.views[id] = hash
	return ok("view", map[string]any{"id": id, "type": "modal", "hash": hash})
}

// respond takes a message posted to a response_url: within its lifetime
// and uses, and shaped as a message. Slack answers a spent or unknown URL
// with HTTP 404.
func (f *Server) respond(c *Call, now time.Time) answer {
	h, found := f.hooks[c.Path]
	if !found || h.uses >= ResponseURLUses || now.Sub(h.at) > ResponseURLLifetime {
		a := refuse("expired_url")
		a.status = http.StatusNotFound
		return a
	}
	h.uses++
	if code, warning := checkMessage(c); code != "" {
		return invalid(code, c)
	} else {
		return withWarning(ok(), warning)
	}
}
