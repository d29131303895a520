package demo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/slackfake"
)

// What people do in Slack reaches the bot as Slack sends it: a signed
// HTTP request to its endpoints, with a response_url and a trigger_id
// that the fake Slack handed out.

// post sends a signed request to one of the bot's endpoints.
func (d *demo) post(path string, form url.Values) error {
	_, err := d.postBody(path, form)
	return err
}

// postBody is post returning the body of the answer.
func (d *demo) postBody(path string, form url.Values) ([]byte, error) {
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(d.secret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	d.slack.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("demo: %s answered %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes(), nil
}

// interact posts an interactivity payload and returns the answer's body.
func (d *demo) interact(payload map[string]any) ([]byte, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return d.postBody(bot.PathInteractivity, url.Values{"payload": {string(raw)}})
}

// waitBot waits for the bot to finish what a request started.
func (d *demo) waitBot() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.drain(ctx); err != nil {
		return err
	}
	d.pause()
	return nil
}

// pressHome has u press a button in their App Home, which answers by
// publishing App Home again.
func (d *demo) pressHome(u demoUser, label, actionID, value string) error {
	fmt.Fprintf(d.out, "  %s\n", fmt.Sprintf(d.term.word["presses"], u.Name, label))
	_, err := d.interact(map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": "TDEMO", "domain": "demo"},
		"user":       map[string]any{"id": u.ID, "username": strings.ToLower(u.ID), "team_id": "TDEMO"},
		"api_app_id": "AMAILACK",
		"container":  map[string]any{"type": "view", "view_id": "VHOME"},
		"trigger_id": d.term.fake.TriggerID(),
		"view":       map[string]any{"id": "VHOME", "type": "home"},
		"actions":    []map[string]any{{"action_id": actionID, "block_id": "home_tabs", "type": "button", "value": value, "action_ts": "1700000000.000001"}},
	})
	if err != nil {
		return err
	}
	if err := d.waitBot(); err != nil {
		return err
	}
	d.term.printHome()
	return nil
}

// shortcut has u open the "Track a sent mail" shortcut and type query in
// its search, and shows the Sent-folder mails Slack lists as they type.
func (d *demo) shortcut(u demoUser, query string) error {
	fmt.Fprintf(d.out, "  %s\n", fmt.Sprintf(d.term.word["shortcut"], u.Name, d.t("Track a sent mail", "送信済みメールを追跡")))
	user := map[string]any{"id": u.ID, "username": strings.ToLower(u.ID), "team_id": "TDEMO"}
	if _, err := d.interact(map[string]any{"type": "shortcut", "callback_id": bot.ShortcutTrackSent, "trigger_id": d.term.fake.TriggerID(),
		"user": user, "team": map[string]any{"id": "TDEMO"}}); err != nil {
		return err
	}
	if err := d.waitBot(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  %s\n", fmt.Sprintf(d.term.word["types"], u.Name, query))
	body, err := d.interact(map[string]any{"type": "block_suggestion", "action_id": "pick_sent", "block_id": "pick", "value": query,
		"user": user, "team": map[string]any{"id": "TDEMO"}, "view": map[string]any{"id": "V1", "type": "modal", "callback_id": "track_modal"}})
	if err != nil {
		return err
	}
	var answer slack.OptionsResponse
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("demo: suggestions: %w", err)
	}
	fmt.Fprintln(d.out, "  ┌─ Slack · "+d.t("search as you type", "入力中の検索結果"))
	for _, o := range answer.Options {
		line := "  │ ▸ " + o.Text.Text
		if o.Description != nil {
			line += "  " + o.Description.Text
		}
		fmt.Fprintln(d.out, line)
	}
	fmt.Fprintln(d.out, "  └─")
	d.pause()
	return nil
}

// command has u type /track text and waits for the answer.
func (d *demo) command(u demoUser, text string) error {
	fmt.Fprintf(d.out, "  %s: /track %s\n", u.Name, text)
	respURL := d.term.fake.ResponseURL(d.term.base)
	form := url.Values{
		"team_id": {"TDEMO"}, "team_domain": {"demo"}, "channel_id": {"D" + u.ID}, "channel_name": {"directmessage"},
		"user_id": {u.ID}, "user_name": {strings.ToLower(u.ID)}, "command": {"/track"}, "text": {text},
		"api_app_id": {"AMAILACK"}, "response_url": {respURL}, "trigger_id": {d.term.fake.TriggerID()},
	}
	if err := d.post(bot.PathCommands, form); err != nil {
		return err
	}
	return d.answered(respURL)
}

// press has u press a button (actionID, value) on the message ts in
// channel, and waits until the bot is done with it.
func (d *demo) press(u demoUser, label, actionID, value, channel, ts string) error {
	fmt.Fprintf(d.out, "  %s\n", fmt.Sprintf(d.term.word["presses"], u.Name, label))
	respURL := d.term.fake.ResponseURL(d.term.base)
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "TDEMO", "domain": "demo"},
		"user":         map[string]any{"id": u.ID, "username": strings.ToLower(u.ID), "team_id": "TDEMO"},
		"api_app_id":   "AMAILACK",
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id":   d.term.fake.TriggerID(),
		"channel":      map[string]any{"id": channel},
		"message":      map[string]any{"type": "message", "ts": ts},
		"response_url": respURL,
		"actions":      []map[string]any{{"action_id": actionID, "block_id": "b", "type": "button", "value": value, "action_ts": ts}},
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	if err := d.post(bot.PathInteractivity, url.Values{"payload": {string(raw)}}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.drain(ctx); err != nil {
		return err
	}
	d.pause()
	return nil
}

// answered waits until the bot answered at respURL.
func (d *demo) answered(respURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	path := strings.TrimPrefix(respURL, d.term.base)
	if _, err := d.term.fake.Await(ctx, func(c slackfake.Call) bool { return c.Path == path }); err != nil {
		return fmt.Errorf("demo: no answer to the command: %w", err)
	}
	if err := d.drain(ctx); err != nil {
		return err
	}
	d.pause()
	return nil
}

// message returns the last message the bot posted in channel whose text
// has all of words, with its timestamp.
func (d *demo) message(channel string, words ...string) (slackfake.Call, error) {
	calls := d.term.fake.All(func(c slackfake.Call) bool {
		return slackfake.Method("chat.postMessage", words...)(c) && c.Param("thread_ts") == "" && (channel == "" || c.Param("channel") == channel)
	})
	if len(calls) == 0 {
		return slackfake.Call{}, fmt.Errorf("demo: no message with %q", words)
	}
	return calls[len(calls)-1], nil
}
