package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/track"
)

// limited returns the calls Slack refused for a rate limit.
func limited(f *fakeSlack) []call {
	return f.All(func(c call) bool { return c.Status == 429 || c.Error == "ratelimited" })
}

// inChannel returns the cards posted to channel, in order.
func inChannel(f *fakeSlack, channel string) []call {
	var out []call
	for _, c := range cards(f) {
		if c.Param("channel") == channel {
			out = append(out, c)
		}
	}
	return out
}

// Alice has a dozen cards due at once, more than one channel takes within
// its one message a second; Bob's one card, due after all of hers, is
// not held behind them, and her cards keep to her channel's pace without
// a single 429.
func TestWriterSendersNotSerialised(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		sent := time.Now().Add(-time.Hour)
		const many = 12
		for i := range many {
			id := fmt.Sprintf("a%02d@example.com", i)
			e.register(t, id, alice.Email, fmt.Sprintf("Alice's order %02d", i), sent, carol.Email)
			e.observe(t, id, carol.Email, track.StatusDelivered, "", sent)
		}
		e.register(t, "b1@example.com", bob.Email, "Bob's quote", sent, carol.Email)
		e.observe(t, "b1@example.com", carol.Email, track.StatusDelivered, "", sent)
		defer e.run(t)()
		settle(time.Minute)

		all := cards(e.fake)
		if len(all) != many+1 {
			t.Fatalf("cards = %d, want %d; calls: %s", len(all), many+1, e.fake.Summary())
		}
		if l := limited(e.fake); len(l) != 0 {
			t.Errorf("%d calls refused for a rate limit, want none: %s", len(l), e.fake.Summary())
		}
		var bobs call
		for _, c := range all {
			if strings.Contains(c.Text(), "Bob's quote") {
				bobs = c
			}
		}
		aliceCh := ""
		for _, c := range all {
			if strings.Contains(c.Text(), "Alice's order") {
				aliceCh = c.Param("channel")
				break
			}
		}
		hers := inChannel(e.fake, aliceCh)
		if len(hers) != many || bobs.Param("channel") == aliceCh {
			t.Fatalf("alice's channel %q has %d cards, want %d, and bob's card elsewhere", aliceCh, len(hers), many)
		}
		// Bob's card comes before the first of Alice's that had to wait
		// for her channel's turn.
		if !bobs.At.Before(hers[bot.PerChannelBurst].At) {
			t.Errorf("bob's card at %v, after alice's card %d at %v: held behind her channel",
				bobs.At.Sub(hers[0].At), bot.PerChannelBurst+1, hers[bot.PerChannelBurst].At.Sub(hers[0].At))
		}
		// One message a second per channel after a short burst
		// (https://docs.slack.dev/apis/web-api/rate-limits, "Posting
		// messages"): any n+burst of her cards span at least n seconds.
		for j := range hers {
			for i := j + bot.PerChannelBurst; i < len(hers); i++ {
				want := time.Duration(i-j-bot.PerChannelBurst+1) * time.Second
				if d := hers[i].At.Sub(hers[j].At); d < want {
					t.Errorf("alice's cards %d to %d within %v, want at least %v", j+1, i+1, d, want)
				}
			}
		}
	})
}

// Alice has more cards due than the writer reads at a time, and Bob's
// one card is queued after all of them: the writer looks past her items,
// whose lane is busy, and Bob's card goes out at once instead of after
// hers have drained at her channel's pace.
func TestWriterLooksPastBusySenders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		sent := time.Now().Add(-time.Hour)
		many := bot.OutboxBatch + 20
		for i := range many {
			id := fmt.Sprintf("a%03d@example.com", i)
			e.register(t, id, alice.Email, fmt.Sprintf("Alice's order %03d", i), sent, carol.Email)
			e.observe(t, id, carol.Email, track.StatusDelivered, "", sent)
		}
		e.register(t, "b1@example.com", bob.Email, "Bob's quote", sent, carol.Email)
		e.observe(t, "b1@example.com", carol.Email, track.StatusDelivered, "", sent)
		defer e.run(t)()
		settle(10 * time.Second)

		var bobs, hers []call
		for _, c := range cards(e.fake) {
			switch {
			case strings.Contains(c.Text(), "Bob's quote"):
				bobs = append(bobs, c)
			case strings.Contains(c.Text(), "Alice's order"):
				hers = append(hers, c)
			}
		}
		if len(bobs) != 1 {
			t.Fatalf("bob's cards after 10 s = %d, want 1 (alice's %d cards posted so far, of %d); calls: %s", len(bobs), len(hers), many, e.fake.Summary())
		}
		if len(hers) >= many/2 {
			t.Fatalf("alice's cards after 10 s = %d, want her channel's pace (about 10)", len(hers))
		}
	})
}

// The bot stops while Alice's cards wait for her channel's turn, and its
// last attempt runs out of time waiting too: the notices left are still
// due, none counted as a failed delivery, and nothing says one failed.
func TestWriterStopWhileWaitingFailsNoNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, envOptions{inProcess: true})
		sent := time.Now().Add(-time.Hour)
		const many = 20
		for i := range many {
			id := fmt.Sprintf("s%02d@example.com", i)
			e.register(t, id, alice.Email, fmt.Sprintf("Order %02d", i), sent, carol.Email)
			e.observe(t, id, carol.Email, track.StatusDelivered, "", sent)
		}
		stop := e.run(t)
		// Between two turns of her channel, so that the last attempt's
		// deadline falls between two turns as well.
		settle(2500 * time.Millisecond)
		stop()

		left := e.pending(t)
		if len(left) == 0 || len(cards(e.fake)) == 0 {
			t.Fatalf("%d cards posted and %d notices left, want some of each; calls: %s", len(cards(e.fake)), len(left), e.fake.Summary())
		}
		for _, it := range left {
			if it.Attempts != 0 {
				t.Errorf("notice %d of %s: %d failed attempts, want 0 (it only waited for its turn)", it.Seq, it.Notice.MessageID, it.Attempts)
			}
		}
		if log := e.logged(); strings.Contains(log, "notice delivery failed") || strings.Contains(log, "would exceed context deadline") {
			t.Errorf("log reports a failed delivery:\n%s", log)
		}
	})
}
