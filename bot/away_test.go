package bot_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// fakeClock is a clock a test sets.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// A recipient away by their automatic reply gets their nudge button back
// at the start of the next working day in the working calendar (09:00 in
// Tokyo after a Japanese holiday), not at midnight UTC after the date, and
// the card is drawn again then by the deadline sweep, once.
func TestAwayNudgeReturnsNextWorkingDay(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	holidays, err := track.Holidays("jp")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := track.NewCalendar(track.CalendarConfig{Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: holidays})
	if err != nil {
		t.Fatal(err)
	}
	// Saturday 22 November 2025, 09:30 in Tokyo: midnight UTC after the
	// Friday the reply gave has passed, but nobody is back at work.
	clock := &fakeClock{t: time.Date(2025, 11, 22, 0, 30, 0, 0, time.UTC)}
	e := newEnv(t, envOptions{calendar: cal, config: func(c *bot.Config) { c.Now = clock.now }})
	defer e.run(t)()

	const id = "away1@example.com"
	sent := time.Date(2025, 11, 19, 1, 0, 0, 0, time.UTC)
	e.register(t, id, alice.Email, "Quote for December", sent, carol.Email)
	ar := report.Report{Kind: report.KindAutoReply, OriginalMessageID: id, InReplyTo: id, Recipient: carol.Email,
		ReportMessageID: "oof1@example.com", Date: sent.Add(time.Hour), Subject: "Automatic reply: Quote for December",
		AutoReply: report.AutoReplyAway, AwayUntil: time.Date(2025, 11, 21, 0, 0, 0, 0, time.UTC)}
	if _, err := e.store.ApplyReport(t.Context(), store.ApplyInput{Reports: []report.Report{ar}, Now: sent.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	nudge := `"value":"` + id + " " + carol.Email + `"`
	card := e.fake.WaitFor(t, "card with the away line", method("chat.postMessage", "Quote for December", "away until Fri 21 Nov"))
	if strings.Contains(card.Text(), nudge) {
		t.Errorf("card offers a nudge on Saturday, before the recipient is back:\n%s", card.Text())
	}

	// Monday 24 November is a holiday in Japan (振替休日): still away.
	holiday := time.Date(2025, 11, 24, 1, 0, 0, 0, time.UTC)
	if res, err := e.store.SweepDue(t.Context(), holiday); err != nil || len(res.Redraws) != 0 {
		t.Fatalf("SweepDue(Japanese holiday) = %d redraws, %v; want none", len(res.Redraws), err)
	}
	// Tuesday 25 November, 09:00 in Tokyo.
	back := time.Date(2025, 11, 25, 0, 0, 0, 0, time.UTC)
	clock.set(back)
	res, err := e.store.SweepDue(t.Context(), back)
	if err != nil || len(res.Redraws) != 1 || res.Redraws[0].MessageID != id || res.Redraws[0].Kind != track.NoticeRedraw {
		t.Fatalf("SweepDue(back at work) = %+v, %v; want one redraw of %s", res.Redraws, err, id)
	}
	e.bot.Wake()
	e.fake.WaitFor(t, "card drawn again with the nudge button", method("chat.update", "Quote for December", nudge))
	if res, err := e.store.SweepDue(t.Context(), back.Add(time.Hour)); err != nil || len(res.Redraws) != 0 {
		t.Errorf("SweepDue(again) = %d redraws, %v; want none", len(res.Redraws), err)
	}
	if err := e.store.Check(t.Context()); err != nil {
		t.Errorf("store Check() after the redraw = %v", err)
	}
}
