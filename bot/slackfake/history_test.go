package slackfake

import (
	"net/url"
	"testing"
)

// Metadata is checked as chat.postMessage checks it, kept with the
// message, and returned by conversations.history and .replies only with
// include_all_metadata; reading a direct message's history needs
// im:history.
func TestMetadataAndHistory(t *testing.T) {
	f := New(User{ID: "U1", Email: "a@example.com"})
	f.Grant("chat:write", "im:write")
	f.ExpectInvalid("invalid_metadata_format", "invalid_metadata_schema")
	c := newClient(t, f)
	post := func(meta, thread string) map[string]any {
		v := url.Values{"channel": {"U1"}, "text": {"hello"}}
		if meta != "" {
			v.Set("metadata", meta)
		}
		if thread != "" {
			v.Set("thread_ts", thread)
		}
		a, _ := c.post("chat.postMessage", v)
		return a
	}
	if a := post(`{"event_type":`, ""); errorOf(a) != "invalid_metadata_format" {
		t.Errorf("metadata not JSON = %v", a)
	}
	if a := post(`{"event_type":"x_posted","event_payload":"no"}`, ""); errorOf(a) != "invalid_metadata_schema" {
		t.Errorf("event_payload not an object = %v", a)
	}
	card := post(`{"event_type":"card_posted","event_payload":{"id":"m1"}}`, "")
	ts, _ := card["ts"].(string)
	if card["ok"] != true || ts == "" {
		t.Fatalf("card = %v", card)
	}
	if a := post(`{"event_type":"reply_posted","event_payload":{"key":"k1"}}`, ts); a["ok"] != true {
		t.Fatalf("reply = %v", a)
	}
	post("", "") // a message without metadata

	if a, _ := c.post("conversations.history", url.Values{"channel": {"DU1"}}); errorOf(a) != "missing_scope" || a["needed"] != "im:history" {
		t.Errorf("history without im:history = %v", a)
	}
	f.Grant("chat:write", "im:write", "im:history")
	if a, _ := c.post("conversations.history", url.Values{"channel": {"DNONE"}}); errorOf(a) != "channel_not_found" {
		t.Errorf("history of an unknown channel = %v", a)
	}
	a, _ := c.post("conversations.history", url.Values{"channel": {"DU1"}})
	msgs, _ := a["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("history = %v, want the two top-level messages", a)
	}
	for _, m := range msgs {
		if _, has := m.(map[string]any)["metadata"]; has {
			t.Errorf("metadata returned without include_all_metadata: %v", m)
		}
	}
	a, _ = c.post("conversations.history", url.Values{"channel": {"DU1"}, "include_all_metadata": {"1"}, "limit": {"1"}})
	msgs, _ = a["messages"].([]any)
	if len(msgs) != 1 || a["has_more"] != true {
		t.Fatalf("history with limit 1 = %v", a)
	}
	if _, has := msgs[0].(map[string]any)["metadata"]; has {
		t.Errorf("the newest message, posted without metadata, has some: %v", msgs[0])
	}
	cursor := a["response_metadata"].(map[string]any)["next_cursor"].(string)
	a, _ = c.post("conversations.history", url.Values{"channel": {"DU1"}, "include_all_metadata": {"1"}, "limit": {"1"}, "cursor": {cursor}})
	msgs, _ = a["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["metadata"].(map[string]any)["event_type"] != "card_posted" || a["has_more"] != false {
		t.Fatalf("history's second page = %v, want the card with its metadata", a)
	}
	if a, _ := c.post("conversations.history", url.Values{"channel": {"DU1"}, "cursor": {"zzz"}}); errorOf(a) != "invalid_cursor" {
		t.Errorf("unknown cursor = %v", a)
	}

	if a, _ := c.post("conversations.replies", url.Values{"channel": {"DU1"}, "ts": {"1.000001"}}); errorOf(a) != "thread_not_found" {
		t.Errorf("replies of no message = %v", a)
	}
	a, _ = c.post("conversations.replies", url.Values{"channel": {"DU1"}, "ts": {ts}, "include_all_metadata": {"1"}})
	msgs, _ = a["messages"].([]any)
	if len(msgs) != 2 || msgs[1].(map[string]any)["metadata"].(map[string]any)["event_payload"].(map[string]any)["key"] != "k1" {
		t.Fatalf("replies = %v, want the card and its reply with metadata", a)
	}
}
