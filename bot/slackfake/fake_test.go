package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func decode(t *testing.T, s string) []any {
	t.Helper()
	var out []any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, s)
	}
	return out
}

// Slack's own examples, from the reference page of each block and
// element, pass.
func TestDocumentedExamplesPass(t *testing.T) {
	examples := map[string]string{
		// https://docs.slack.dev/reference/block-kit/blocks/section-block
		"section with text and fields": `[{"type":"section","text":{"type":"mrkdwn","text":"A message *with some bold text* and _some italicized text_."},
			"fields":[{"type":"mrkdwn","text":"High"},{"type":"plain_text","emoji":true,"text":"String"}]}]`,
		// https://docs.slack.dev/reference/block-kit/blocks/header-block
		"header": `[{"type":"header","text":{"type":"plain_text","text":"A Heartfelt Header"}}]`,
		// https://docs.slack.dev/reference/block-kit/blocks/context-block
		"context": `[{"type":"context","elements":[{"type":"image","image_url":"https://image.freepik.com/free-photo/red-drawing-pin_1156-445.jpg","alt_text":"images"},
			{"type":"mrkdwn","text":"Location: **Dogpatch**"}]}]`,
		// https://docs.slack.dev/reference/block-kit/blocks/actions-block
		"actions": `[{"type":"actions","block_id":"actions1","elements":[
			{"type":"static_select","placeholder":{"type":"plain_text","text":"Which witch is the witchiest witch?"},"action_id":"select_2",
			 "options":[{"text":{"type":"plain_text","text":"Matilda"},"value":"matilda"},{"text":{"type":"plain_text","text":"Glinda"},"value":"glinda"}]},
			{"type":"button","text":{"type":"plain_text","text":"Cancel"},"value":"cancel","action_id":"button_1"}]}]`,
		// https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element
		"overflow": `[{"type":"section","block_id":"section 890","text":{"type":"mrkdwn","text":"This is a section block with an overflow menu."},
			"accessory":{"type":"overflow","options":[{"text":{"type":"plain_text","text":"*this is plain_text text*"},"value":"value-0"},
			{"text":{"type":"plain_text","text":"*this is plain_text text*"},"value":"value-1"}],"action_id":"overflow"}}]`,
		// https://docs.slack.dev/reference/block-kit/block-elements/date-picker-element
		"datepicker": `[{"type":"section","block_id":"section1234","text":{"type":"mrkdwn","text":"Pick a date for the deadline."},
			"accessory":{"type":"datepicker","action_id":"datepicker123","initial_date":"1990-04-28","placeholder":{"type":"plain_text","text":"Select a date"}}}]`,
		// https://docs.slack.dev/reference/block-kit/block-elements/button-element
		"button with confirm": `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Save"},"style":"primary","value":"click_me_123","action_id":"button",
			"confirm":{"title":{"type":"plain_text","text":"Are you sure?"},"text":{"type":"mrkdwn","text":"Wouldn't you prefer a good game of _chess_?"},
			"confirm":{"type":"plain_text","text":"Do it"},"deny":{"type":"plain_text","text":"Stop, I've changed my mind!"}}}]}]`,
		"divider": `[{"type":"divider"}]`,
	}
	for name, raw := range examples {
		t.Run(name, func(t *testing.T) {
			for _, s := range []Surface{SurfaceMessage, SurfaceHome, SurfaceModal} {
				if errs := CheckBlocks(s, decode(t, raw)); len(errs) > 0 {
					t.Errorf("%s in a %s: %v", name, s, errs)
				}
			}
		})
	}
	// https://docs.slack.dev/reference/views/home-tab-views and .../modal-views
	home := map[string]any{"type": "home", "blocks": decode(t, `[{"type":"section","text":{"type":"mrkdwn","text":"A stack of blocks for the sample Block Kit Home tab."}}]`)}
	if errs := CheckView(SurfaceHome, home); len(errs) > 0 {
		t.Errorf("home tab example: %v", errs)
	}
	modal := map[string]any{"type": "modal", "title": map[string]any{"type": "plain_text", "text": "Modal title"},
		"blocks": decode(t, `[{"type":"section","text":{"type":"mrkdwn","text":"It's Block Kit...but _in a modal_"}}]`)}
	if errs := CheckView(SurfaceModal, modal); len(errs) > 0 {
		t.Errorf("modal example: %v", errs)
	}
}

func section(text string) string {
	b, _ := json.Marshal(text)
	return `{"type":"section","text":{"type":"mrkdwn","text":` + string(b) + `}}`
}

func button(id, text, value string) string {
	t, _ := json.Marshal(text)
	v, _ := json.Marshal(value)
	return `{"type":"button","action_id":"` + id + `","text":{"type":"plain_text","text":` + string(t) + `},"value":` + string(v) + `}`
}

func repeat(s string, n int, sep string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

// Payloads that break a documented rule fail, each naming the rule.
func TestBrokenRulesFail(t *testing.T) {
	tests := []struct {
		name    string
		surface Surface
		blocks  string
		want    string
	}{
		{"section text over 3000", SurfaceMessage, `[` + section(strings.Repeat("x", 3001)) + `]`, "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"section text counted in UTF-16", SurfaceMessage, `[` + section(strings.Repeat("😀", 1501)) + `]`, "must be less than 3001"},
		{"empty text", SurfaceMessage, `[` + section("") + `]`, "must be more than 0 characters"},
		{"eleven fields", SurfaceMessage, `[{"type":"section","fields":[` + repeat(`{"type":"mrkdwn","text":"f"}`, 11, ",") + `]}]`, "must be 1 to 10 text objects"},
		{"field over 2000", SurfaceMessage, `[{"type":"section","fields":[{"type":"mrkdwn","text":"` + strings.Repeat("x", 2001) + `"}]}]`, "must be less than 2001"},
		{"header over 150", SurfaceMessage, `[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("x", 151) + `"}}]`, "must be less than 151"},
		{"mrkdwn header", SurfaceMessage, `[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]`, "must be plain_text"},
		{"button text over 75", SurfaceMessage, `[{"type":"actions","elements":[` + button("a", strings.Repeat("x", 76), "v") + `]}]`, "must be less than 76"},
		{"button value over 2000", SurfaceMessage, `[{"type":"actions","elements":[` + button("a", "x", strings.Repeat("v", 2001)) + `]}]`, "at most 2000"},
		{"duplicate action_id in a block", SurfaceHome, `[{"type":"actions","elements":[` + button("nudge", "A", "1") + `,` + button("nudge", "B", "2") + `]}]`, `duplicate action_id "nudge"`},
		{"action_id over 255", SurfaceMessage, `[{"type":"actions","elements":[` + button(strings.Repeat("a", 256), "x", "v") + `]}]`, "must be 1 to 255"},
		{"block_id over 255", SurfaceMessage, `[{"type":"divider","block_id":"` + strings.Repeat("b", 256) + `"}]`, "must be less than 256"},
		{"duplicate block_id", SurfaceMessage, `[{"type":"divider","block_id":"b"},{"type":"divider","block_id":"b"}]`, `duplicate block_id "b"`},
		{"eleven context elements", SurfaceMessage, `[{"type":"context","elements":[` + repeat(`{"type":"mrkdwn","text":"c"}`, 11, ",") + `]}]`, "must be 1 to 10 items"},
		{"twenty-six actions", SurfaceMessage, `[{"type":"actions","elements":[` + repeat(button("a", "x", "v"), 1, "") + strings.Repeat(","+`{"type":"button","text":{"type":"plain_text","text":"x"}}`, 25) + `]}]`, "must be 1 to 25 items"},
		{"six overflow options", SurfaceMessage, `[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"overflow","action_id":"o","options":[` + repeat(`{"text":{"type":"plain_text","text":"o"},"value":"v"}`, 6, ",") + `]}}]`, "must be 1 to 5 options"},
		{"option value over 150", SurfaceMessage, `[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"overflow","action_id":"o","options":[{"text":{"type":"plain_text","text":"o"},"value":"` + strings.Repeat("v", 151) + `"}]}}]`, "at most 150"},
		{"file block in a home tab", SurfaceHome, `[{"type":"file","external_id":"x","source":"remote"}]`, `"file" is not allowed in a home`},
		{"unknown block", SurfaceMessage, `[{"type":"sektion"}]`, "unknown block type"},
		{"datepicker as section text", SurfaceMessage, `[{"type":"section","text":{"type":"datepicker"}}]`, "must be plain_text or mrkdwn"},
		{"fifty-one blocks", SurfaceMessage, `[` + repeat(`{"type":"divider"}`, 51, ",") + `]`, "no more than 50 items"},
		{"too much text in all", SurfaceMessage, `[` + repeat(section(strings.Repeat("x", 2900)), 5, ",") + `]`, "msg_blocks_too_long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckBlocks(tc.surface, decode(t, tc.blocks))
			if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("CheckBlocks = %q, want an error with %q", errs, tc.want)
			}
		})
	}
	var hundredOne []any
	for range 101 {
		hundredOne = append(hundredOne, map[string]any{"type": "divider"})
	}
	if errs := CheckView(SurfaceHome, map[string]any{"type": "home", "blocks": hundredOne}); len(errs) == 0 {
		t.Error("a home view of 101 blocks passed")
	}
	modal := map[string]any{"type": "modal", "title": map[string]any{"type": "plain_text", "text": strings.Repeat("t", 25)}, "blocks": []any{}}
	if errs := CheckView(SurfaceModal, modal); len(errs) == 0 {
		t.Error("a modal title of 25 characters passed")
	}
}

type client struct {
	t     *testing.T
	f     *Server
	hc    *http.Client
	url   string
	token string // sent as a bearer token, when set
}

func newClient(t *testing.T, f *Server) *client {
	return &client{t: t, f: f, hc: f.InProcess(), url: "http://slack.test/", token: "xoxb-test"}
}

// post calls a method with form parameters and returns the answer.
func (c *client) post(method string, params url.Values) (map[string]any, *http.Response) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url+method, strings.NewReader(params.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatal(err)
	}
	return out, resp
}

func errorOf(a map[string]any) string {
	e, _ := a["error"].(string)
	return e
}

func TestChannels(t *testing.T) {
	f := New(User{ID: "U1", Email: "a@example.com"})
	f.AddChannel(Channel{ID: "CPUBLIC", Name: "sales"})
	f.AddChannel(Channel{ID: "CPRIVATE", Name: "board", Private: true})
	f.Grant("chat:write", "channels:join", "channels:read", "im:write")
	f.ExpectInvalid("no_text")
	c := newClient(t, f)
	msg := url.Values{"text": {"hello"}}
	with := func(ch string) url.Values { v := url.Values{"channel": {ch}}; v.Set("text", msg.Get("text")); return v }
	for ch, want := range map[string]string{"CPUBLIC": "not_in_channel", "CPRIVATE": "channel_not_found", "CNONE": "channel_not_found", "DU1": "channel_not_found"} {
		if a, _ := c.post("chat.postMessage", with(ch)); errorOf(a) != want {
			t.Errorf("chat.postMessage to %s = %v, want %s", ch, a, want)
		}
	}
	if a, _ := c.post("conversations.info", url.Values{"channel": {"CPUBLIC"}}); a["channel"].(map[string]any)["is_member"] != false {
		t.Errorf("conversations.info before joining = %v", a)
	}
	if a, _ := c.post("conversations.join", url.Values{"channel": {"CPRIVATE"}}); errorOf(a) != "method_not_supported_for_channel_type" {
		t.Errorf("joining a private channel = %v", a)
	}
	if a, _ := c.post("conversations.join", url.Values{"channel": {"CPUBLIC"}}); a["ok"] != true {
		t.Errorf("joining a public channel = %v", a)
	}
	if a, _ := c.post("chat.postMessage", with("CPUBLIC")); a["ok"] != true {
		t.Errorf("chat.postMessage after joining = %v", a)
	}
	if a, _ := c.post("chat.postMessage", url.Values{"channel": {"CPUBLIC"}}); errorOf(a) != "no_text" {
		t.Errorf("chat.postMessage without text = %v, want no_text", a)
	}
	if a, _ := c.post("users.lookupByEmail", url.Values{"email": {"a@example.com"}}); errorOf(a) != "missing_scope" || a["needed"] != "users:read.email" {
		t.Errorf("users.lookupByEmail without users:read.email = %v", a)
	}
}

func TestMessageRules(t *testing.T) {
	f := New(User{ID: "U1"})
	f.ExpectInvalid("invalid_blocks", "msg_too_long")
	c := newClient(t, f)
	blocks := `[` + section("x") + `]`
	a, _ := c.post("chat.postMessage", url.Values{"channel": {"U1"}, "blocks": {blocks}})
	if a["ok"] != true || a["warning"] != "missing_text" {
		t.Errorf("blocks without text = %v, want ok with the missing_text warning", a)
	}
	if got := f.Invalid(); len(got) != 1 {
		t.Errorf("calls recorded as breaking a rule = %d, want 1 (the missing text)", len(got))
	}
	a, _ = c.post("chat.postMessage", url.Values{"channel": {"U1"}, "text": {"x"}, "blocks": {`[` + section(strings.Repeat("y", 3001)) + `]`}})
	if errorOf(a) != "invalid_blocks" || !strings.Contains(strings.Join(anyStrings(a["errors"]), " "), "/blocks/0/text/text") {
		t.Errorf("long section = %v, want invalid_blocks naming the field", a)
	}
	if a, _ := c.post("chat.postMessage", url.Values{"channel": {"U1"}, "text": {strings.Repeat("z", 40001)}}); errorOf(a) != "msg_too_long" {
		t.Errorf("text of 40,001 characters = %v, want msg_too_long", a)
	}
}

func anyStrings(v any) []string {
	var out []string
	xs, _ := v.([]any)
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// A method over its tier answers 429 with Retry-After until the bucket
// refills; chat.postMessage is limited per channel.
func TestRateLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := New(User{ID: "U1", Email: "a@example.com"}, User{ID: "U2"})
		c := newClient(t, f)
		for i := range 50 {
			if a, _ := c.post("users.lookupByEmail", url.Values{"email": {"a@example.com"}}); a["ok"] != true {
				t.Fatalf("lookup %d within Tier 3 = %v", i, a)
			}
		}
		a, resp := c.post("users.lookupByEmail", url.Values{"email": {"a@example.com"}})
		if resp.StatusCode != http.StatusTooManyRequests || errorOf(a) != "ratelimited" || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("51st lookup in a minute = %d %v Retry-After %q, want 429 ratelimited after 2 s", resp.StatusCode, a, resp.Header.Get("Retry-After"))
		}
		time.Sleep(2 * time.Second)
		if a, _ := c.post("users.lookupByEmail", url.Values{"email": {"a@example.com"}}); a["ok"] != true {
			t.Errorf("lookup after Retry-After = %v", a)
		}
		for range 20 {
			c.post("chat.postMessage", url.Values{"channel": {"U1"}, "text": {"x"}})
		}
		if _, resp := c.post("chat.postMessage", url.Values{"channel": {"U1"}, "text": {"x"}}); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("21st post in a moment = %d, want 429", resp.StatusCode)
		}
		if a, _ := c.post("chat.postMessage", url.Values{"channel": {"U2"}, "text": {"x"}}); a["ok"] != true {
			t.Errorf("post to another channel = %v, want ok (the limit is per channel)", a)
		}
	})
}

func TestTriggerAndResponseURL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := New(User{ID: "U1"})
		c := newClient(t, f)
		view := `{"type":"modal","title":{"type":"plain_text","text":"Follow-up"},"blocks":[` + section("x") + `]}`
		trig := f.TriggerID()
		if a, _ := c.post("views.open", url.Values{"trigger_id": {trig}, "view": {view}}); a["ok"] != true {
			t.Errorf("views.open with a fresh trigger = %v", a)
		}
		if a, _ := c.post("views.open", url.Values{"trigger_id": {trig}, "view": {view}}); errorOf(a) != "exchanged_trigger_id" {
			t.Errorf("views.open with a used trigger = %v", a)
		}
		late := f.TriggerID()
		time.Sleep(4 * time.Second)
		if a, _ := c.post("views.open", url.Values{"trigger_id": {late}, "view": {view}}); errorOf(a) != "expired_trigger_id" {
			t.Errorf("views.open after 4 s = %v", a)
		}

		hook := strings.TrimPrefix(f.ResponseURL(""), "/")
		for i := range ResponseURLUses {
			if a, _ := c.post(hook, url.Values{"text": {"x"}}); a["ok"] != true {
				t.Fatalf("response %d = %v", i+1, a)
			}
		}
		if _, resp := c.post(hook, url.Values{"text": {"x"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("sixth response = %d, want 404", resp.StatusCode)
		}
		old := strings.TrimPrefix(f.ResponseURL(""), "/")
		time.Sleep(31 * time.Minute)
		if _, resp := c.post(old, url.Values{"text": {"x"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("response after 31 minutes = %d, want 404", resp.StatusCode)
		}
	})
}

// Input blocks, the elements of a modal and the answers given in an
// acknowledgement follow Slack's rules: documented shapes pass, and what
// Slack refuses is refused.
func TestModalRules(t *testing.T) {
	good := map[string]string{
		// https://docs.slack.dev/reference/block-kit/blocks/input-block
		"input": `[{"type":"input","element":{"type":"plain_text_input","action_id":"a"},"label":{"type":"plain_text","text":"Label"},"hint":{"type":"plain_text","text":"Hint"}}]`,
		// https://docs.slack.dev/reference/block-kit/block-elements/datetime-picker-element
		"datetimepicker": `[{"type":"input","element":{"type":"datetimepicker","action_id":"d","initial_date_time":1628633820},"label":{"type":"plain_text","text":"When"}}]`,
		"timepicker":     `[{"type":"actions","elements":[{"type":"timepicker","action_id":"t","initial_time":"13:37","placeholder":{"type":"plain_text","text":"Select time"}}]}]`,
		"external select": `[{"type":"input","element":{"type":"external_select","action_id":"e","min_query_length":3,"placeholder":{"type":"plain_text","text":"Select"},
			"initial_option":{"text":{"type":"plain_text","text":"One"},"value":"1"}},"label":{"type":"plain_text","text":"Pick"}}]`,
		"radio buttons": `[{"type":"input","element":{"type":"radio_buttons","action_id":"r","options":[{"text":{"type":"plain_text","text":"A"},"value":"a"},{"text":{"type":"plain_text","text":"B"},"value":"b"}],
			"initial_option":{"text":{"type":"plain_text","text":"B"},"value":"b"}},"label":{"type":"plain_text","text":"Which"}}]`,
	}
	for name, raw := range good {
		if errs := CheckBlocks(SurfaceModal, decode(t, raw)); len(errs) > 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
	bad := map[string]string{
		"button in an input": `[{"type":"input","element":{"type":"button","text":{"type":"plain_text","text":"x"}},"label":{"type":"plain_text","text":"L"}}]`,
		"initial option not offered": `[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"static_select","action_id":"s",
			"options":[{"text":{"type":"plain_text","text":"A"},"value":"a"}],"initial_option":{"text":{"type":"plain_text","text":"B"},"value":"b"}}}]`,
		"external select with options": `[{"type":"input","element":{"type":"external_select","action_id":"e","options":[{"text":{"type":"plain_text","text":"A"},"value":"a"}]},"label":{"type":"plain_text","text":"L"}}]`,
		"time not HH:mm":               `[{"type":"actions","elements":[{"type":"timepicker","action_id":"t","initial_time":"7:5"}]}]`,
		"datetime as text":             `[{"type":"input","element":{"type":"datetimepicker","action_id":"d","initial_date_time":"tomorrow"},"label":{"type":"plain_text","text":"L"}}]`,
		"eleven radio buttons": `[{"type":"input","element":{"type":"radio_buttons","action_id":"r","options":[` + strings.Repeat(`{"text":{"type":"plain_text","text":"A"},"value":"a"},`, 10) +
			`{"text":{"type":"plain_text","text":"A"},"value":"a"}]},"label":{"type":"plain_text","text":"L"}}]`,
		"input too long": `[{"type":"input","element":{"type":"plain_text_input","action_id":"a","max_length":3001},"label":{"type":"plain_text","text":"L"}}]`,
	}
	for name, raw := range bad {
		if errs := CheckBlocks(SurfaceModal, decode(t, raw)); len(errs) == 0 {
			t.Errorf("%s passed, Slack refuses it", name)
		}
	}

	opts := `{"options":[` + strings.Repeat(`{"text":{"type":"plain_text","text":"A"},"value":"a"},`, 100) + `{"text":{"type":"plain_text","text":"A"},"value":"a"}]}`
	for raw, ok := range map[string]bool{`{"options":[]}`: true, `{"options":[{"text":{"type":"plain_text","text":"A"},"value":"a"}]}`: true, opts: false, `{}`: false, `[]`: false,
		`{"options":[{"text":{"type":"plain_text","text":"A"},"value":"` + strings.Repeat("v", 151) + `"}]}`: false} {
		if errs := CheckOptions([]byte(raw)); (len(errs) == 0) != ok {
			t.Errorf("CheckOptions(%.60s) = %v, want ok %v", raw, errs, ok)
		}
	}
	view := map[string]any{"blocks": []any{map[string]any{"type": "input", "block_id": "pick"}}}
	for raw, ok := range map[string]bool{`{"response_action":"errors","errors":{"pick":"Pick one"}}`: true, `{"response_action":"errors","errors":{"other":"x"}}`: false,
		`{"response_action":"errors"}`: false, `{"response_action":"close"}`: false} {
		if errs := CheckSubmissionResponse([]byte(raw), view); (len(errs) == 0) != ok {
			t.Errorf("CheckSubmissionResponse(%s) = %v, want ok %v", raw, errs, ok)
		}
	}
}

// views.update takes only a modal the bot opened, with its latest hash.
func TestViewsUpdate(t *testing.T) {
	f := New(User{ID: "U1"})
	srv := f.Serve(t)
	modal := `{"type":"modal","title":{"type":"plain_text","text":"T"},"blocks":[{"type":"divider"}]}`
	call := func(method string, form url.Values) map[string]any {
		form.Set("token", "xoxb-test")
		resp, err := srv.Client().PostForm(srv.URL+"/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	opened := call("views.open", url.Values{"trigger_id": {f.TriggerID()}, "view": {modal}})
	v, _ := opened["view"].(map[string]any)
	id, _ := v["id"].(string)
	hash, _ := v["hash"].(string)
	if id == "" || hash == "" {
		t.Fatalf("views.open = %v", opened)
	}
	if got := call("views.update", url.Values{"view_id": {"VNOPE"}, "view": {modal}}); got["error"] != "not_found" {
		t.Errorf("update of an unknown view = %v, want not_found", got)
	}
	if got := call("views.update", url.Values{"view_id": {id}, "hash": {"stale"}, "view": {modal}}); got["error"] != "hash_conflict" {
		t.Errorf("update with a stale hash = %v, want hash_conflict", got)
	}
	if got := call("views.update", url.Values{"view_id": {id}, "hash": {hash}, "view": {modal}}); got["ok"] != true {
		t.Errorf("update with the latest hash = %v", got)
	}
	if got := call("views.update", url.Values{"view_id": {id}, "hash": {hash}, "view": {modal}}); got["error"] != "hash_conflict" {
		t.Errorf("update with the hash of a replaced version = %v, want hash_conflict", got)
	}
}

// TestTokens: a call without a token is not_authed, one with a token of the
// wrong type or not the workspace's is invalid_auth, and a response_url
// needs none.
func TestTokens(t *testing.T) {
	f := New()
	f.RequireToken("xoxb-right")
	c := newClient(t, f)
	for _, tc := range []struct {
		token, method, want string
	}{
		{"", "auth.test", "not_authed"},
		{"xoxp-user", "auth.test", "invalid_auth"},
		{"xoxb-wrong", "auth.test", "invalid_auth"},
		{"xoxb-right", "apps.connections.open", "invalid_auth"},
		{"xoxb-right", "auth.test", ""},
	} {
		c.token = tc.token
		a, _ := c.post(tc.method, url.Values{})
		if got := errorOf(a); got != tc.want {
			t.Errorf("%s with token %q = %q, want %q", tc.method, tc.token, got, tc.want)
		}
	}
	c.token = ""
	a, _ := c.post("auth.test", url.Values{"token": {"xoxb-right"}})
	if got := errorOf(a); got != "" {
		t.Errorf("auth.test with the token as a form field = %q, want ok", got)
	}
}

// A request cut off mid-body (the client's context cancelled at shutdown)
// never reached Slack: it is neither recorded nor judged invalid.
func TestCutOffRequestIsNotACall(t *testing.T) {
	f := New()
	srv := f.Serve(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"user_id":"U1","view":{"type":"home","blocks":[`
	fmt.Fprintf(conn, "POST /views.publish HTTP/1.1\r\nHost: slack.test\r\nAuthorization: Bearer xoxb-test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+100, body)
	conn.(*net.TCPConn).CloseWrite()
	// The server answers nothing for a cut-off request; wait until it
	// has closed the connection, so the handler has returned.
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if calls := f.All(nil); len(calls) != 0 {
		t.Errorf("a cut-off request was recorded: %+v", calls)
	}
}
