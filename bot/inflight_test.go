package bot_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// posted returns the top-level messages that took effect in alice's direct
// message, whatever their caller heard back.
func postedCards(f *fakeSlack, subject string) []call {
	return f.All(func(c call) bool {
		return c.Method == "chat.postMessage" && c.Posted() && c.Param("thread_ts") == "" && c.Param("channel") == "D"+alice.ID &&
			strings.Contains(c.Text(), subject)
	})
}

func postedReplies(f *fakeSlack, ts string) []call {
	return f.All(func(c call) bool { return c.Method == "chat.postMessage" && c.Posted() && c.Param("thread_ts") == ts })
}

// A card whose post took effect but whose answer was lost (the deliverer
// died, or the connection broke, before it could acknowledge the notice)
// is found in the direct message's history by its metadata, and not
// posted again; the same for a thread reply, found in the card's thread.
func TestWriterPostsOnceWhenAnswersAreLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		e.fake.FailNext("chat.postMessage", failure{Status: http.StatusServiceUnavailable, Lost: true})
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m-lost@example.com", alice.Email, "Lost answer", sent, carol.Email, outsider)
		e.observe(t, "m-lost@example.com", carol.Email, track.StatusDelivered, "", sent.Add(time.Minute))
		settle(10 * time.Minute)

		cs := postedCards(e.fake, "Lost answer")
		if len(cs) != 1 || !cs[0].Lost {
			t.Fatalf("cards posted = %d (first lost: %v), want the one whose answer was lost; calls: %s", len(cs), len(cs) > 0 && cs[0].Lost, e.fake.Summary())
		}
		ts := cs[0].TS
		if h := e.fake.Succeeded("conversations.history"); len(h) != 1 || h[0].Param("include_all_metadata") != "1" {
			t.Errorf("conversations.history = %v, want one call with include_all_metadata", h)
		}
		if n := len(updates(e.fake, ts)); n != 1 {
			t.Errorf("chat.update of the found card = %d, want 1", n)
		}
		if n := len(postedReplies(e.fake, ts)); n != 0 {
			t.Errorf("replies = %d, want none: the card posted told of the notice", n)
		}
		if p := e.pending(t); len(p) != 0 {
			t.Fatalf("outbox = %v, want empty", p)
		}

		// The reply's answer is lost too.
		e.fake.FailNext("chat.postMessage", failure{Status: http.StatusServiceUnavailable, Lost: true})
		e.observe(t, "m-lost@example.com", outsider, track.StatusFailed, report.ReasonMailboxFull, time.Now())
		settle(10 * time.Minute)
		rs := postedReplies(e.fake, ts)
		if len(rs) != 1 || !rs[0].Lost || !strings.Contains(rs[0].Text(), "bounced (mailbox full)") {
			t.Fatalf("replies = %d, want the one whose answer was lost; calls: %s", len(rs), e.fake.Summary())
		}
		if r := e.fake.Succeeded("conversations.replies"); len(r) != 1 || r[0].Param("ts") != ts {
			t.Errorf("conversations.replies = %v, want one call in the card's thread", r)
		}
		if n := len(postedCards(e.fake, "Lost answer")); n != 1 {
			t.Errorf("cards = %d, want 1", n)
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox = %v, want empty", p)
		}
		if !strings.Contains(e.logged(), "thread reply found in slack; not posted again") {
			t.Error("the log does not say the reply was found")
		}
	})
}

// A post that failed without taking effect is made again: marked in
// flight, it is looked for first and not found.
func TestWriterPostsAgainWhenNothingWasPosted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		e.fake.FailNext("chat.postMessage", failure{Status: http.StatusServiceUnavailable})
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m-fail@example.com", alice.Email, "Failed post", sent, carol.Email)
		e.observe(t, "m-fail@example.com", carol.Email, track.StatusDelivered, "", sent.Add(time.Minute))
		settle(10 * time.Minute)
		cs := postedCards(e.fake, "Failed post")
		if len(cs) != 1 || cs[0].Lost || !cs[0].OK() {
			t.Fatalf("cards posted = %d, want one, posted by the second attempt; calls: %s", len(cs), e.fake.Summary())
		}
		if h := e.fake.Succeeded("conversations.history"); len(h) != 1 {
			t.Errorf("conversations.history = %d calls, want 1 (looking before posting again)", len(h))
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox = %v, want empty", p)
		}
	})
}

// Every post the writer makes carries metadata naming what it shows.
func TestWriterTagsPostsWithMetadata(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m-meta@example.com", alice.Email, "Tagged", sent, carol.Email)
		e.observe(t, "m-meta@example.com", carol.Email, track.StatusDelivered, "", sent.Add(time.Minute))
		settle(10 * time.Second)
		e.observe(t, "m-meta@example.com", carol.Email, track.StatusRead, "", time.Now())
		settle(10 * time.Second)
		cs := postedCards(e.fake, "Tagged")
		if len(cs) != 1 || !strings.Contains(cs[0].Param("metadata"), `"event_type":"mailack_card_posted"`) ||
			!strings.Contains(cs[0].Param("metadata"), `"message_id":"m-meta@example.com"`) {
			t.Fatalf("card metadata = %v", cs)
		}
		rs := postedReplies(e.fake, cs[0].TS)
		if len(rs) != 1 || !strings.Contains(rs[0].Param("metadata"), `"event_type":"mailack_notice_posted"`) {
			t.Fatalf("reply metadata = %v", rs)
		}
	})
}

// A message another app posted in the user's direct message with the bot
// (with a token of that user), carrying the metadata of a card, is not
// taken for mailack's card: the card is posted, and no notice is lost.
func TestWriterIgnoresOtherAppsMetadata(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		e.fake.FailNext("chat.postMessage", failure{Status: http.StatusServiceUnavailable})
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m-forged@example.com", alice.Email, "Forged card", sent, carol.Email)
		e.fake.PostByOther("D"+alice.ID, "", "BOTHER", alice.ID, map[string]any{"event_type": "mailack_card_posted",
			"event_payload": map[string]any{"message_id": "m-forged@example.com"}})
		e.observe(t, "m-forged@example.com", carol.Email, track.StatusDelivered, "", sent.Add(time.Minute))
		settle(10 * time.Minute)
		cs := postedCards(e.fake, "Forged card")
		if len(cs) != 1 || !cs[0].OK() {
			t.Fatalf("cards posted = %d, want one: another app's message is not the card; calls: %s", len(cs), e.fake.Summary())
		}
		if h := e.fake.Succeeded("conversations.history"); len(h) != 1 {
			t.Errorf("conversations.history = %d calls, want 1 (looking before posting again)", len(h))
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox = %v, want empty", p)
		}
	})
}

// A thread reply whose post failed is posted again even when another app,
// posting on the user's behalf in the card's thread, left a message with
// the notice's metadata: only the bot's own messages count as posted.
func TestWriterIgnoresOtherAppsReplyMetadata(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		defer e.run(t)()
		sent := time.Now().Add(-time.Hour)
		e.register(t, "m-forged2@example.com", alice.Email, "Forged reply", sent, carol.Email, outsider)
		e.observe(t, "m-forged2@example.com", carol.Email, track.StatusDelivered, "", sent.Add(time.Minute))
		settle(time.Minute)
		cs := postedCards(e.fake, "Forged reply")
		if len(cs) != 1 {
			t.Fatalf("cards = %d, want 1; calls: %s", len(cs), e.fake.Summary())
		}
		ts := cs[0].TS
		e.fake.FailNext("chat.postMessage", failure{Status: http.StatusServiceUnavailable})
		e.observe(t, "m-forged2@example.com", outsider, track.StatusFailed, report.ReasonMailboxFull, time.Now())
		settle(time.Second)
		p := e.pending(t)
		if len(p) != 1 || p[0].InFlight == "" {
			t.Fatalf("outbox = %+v, want the reply in flight", p)
		}
		e.fake.PostByOther("D"+alice.ID, ts, "BOTHER", alice.ID, map[string]any{"event_type": "mailack_notice_posted",
			"event_payload": map[string]any{"key": p[0].Notice.Key}})
		settle(10 * time.Minute)
		if rs := postedReplies(e.fake, ts); len(rs) != 1 || !rs[0].OK() {
			t.Fatalf("replies posted = %d, want one: another app's message is not the reply; calls: %s", len(rs), e.fake.Summary())
		}
		if p := e.pending(t); len(p) != 0 {
			t.Errorf("outbox = %v, want empty", p)
		}
	})
}
