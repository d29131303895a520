package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Level is how much a user wants to be told.
type Level string

// The notification levels.
const (
	// LevelAll replies in the card's thread for every change.
	LevelAll Level = "all"
	// LevelProblems replies only for bounces, delays and passed deadlines,
	// not for answers (reads, replies) nor out-of-office notices; the card
	// is still kept current.
	LevelProblems Level = "problems"
)

// UserSettings are one user's preferences. The zero value follows the
// Slack locale, notifies on everything, uses the default deadline and has
// no quiet hours.
type UserSettings struct {
	// Language overrides the Slack locale; empty follows it.
	Language Lang `json:"lang,omitempty"`
	// Level is the notification level; empty means LevelAll.
	Level Level `json:"level,omitempty"`
	// Deadline is the deadline of mail tracked with /track: zero uses the
	// default and a negative value tracks without one.
	Deadline time.Duration `json:"deadline,omitempty"`
	// Quiet are the hours in which no message is sent to the user.
	Quiet QuietHours `json:"quiet,omitempty"`
	// Welcomed is set once the user dismissed App Home's welcome.
	Welcomed bool `json:"welcomed,omitempty"`
	// Summary is the personal morning summary; SummarySent the day
	// (YYYY-MM-DD, the user's) the last one was sent.
	Summary     Summary `json:"summary,omitempty"`
	SummarySent string  `json:"summary_sent,omitempty"`
	// Notify holds what the user chose to be told of for the mails they
	// started tracking from the "Track a sent mail" modal, oldest first.
	Notify []NotifyPref `json:"notify,omitempty"`
	// Home is where the user is in App Home, so that it opens there
	// again, also after a restart.
	Home HomeView `json:"home,omitzero"`
}

// HomeView is where a user is in App Home: a tab ("waiting", "answered",
// "closed" or "settings"; empty is waiting) and a page of it, from 0.
type HomeView struct {
	Tab  string `json:"tab,omitempty"`
	Page int    `json:"page,omitempty"`
}

// NotifyPref is what a user wants to be told of for one mail.
type NotifyPref struct {
	MessageID string `json:"id"`
	On        Notify `json:"on"`
}

// notifyOf is what the user chose for a mail; NotifyAll when nothing.
func (s UserSettings) notifyOf(id string) Notify {
	for _, p := range s.Notify {
		if p.MessageID == id {
			return p.On
		}
	}
	return NotifyAll
}

// Summary is when a user gets their morning summary: on working days
// (Monday to Friday) at At minutes after midnight in their time zone.
type Summary struct {
	On bool `json:"on,omitempty"`
	At int  `json:"at,omitempty"`
}

func (s UserSettings) level() Level {
	if s.Level == "" {
		return LevelAll
	}
	return s.Level
}

// QuietHours is a daily span in the user's time zone, as minutes after
// midnight; it may wrap past midnight (22:00–07:00). Start == End means
// none.
type QuietHours struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Off reports whether there are no quiet hours.
func (q QuietHours) Off() bool { return q.Start == q.End }

// Until reports whether t falls in the quiet hours, in loc, and when
// they end.
func (q QuietHours) Until(t time.Time, loc *time.Location) (time.Time, bool) {
	if q.Off() {
		return time.Time{}, false
	}
	t = t.In(loc)
	y, mo, d := t.Date()
	midnight := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	now := t.Hour()*60 + t.Minute()
	end := midnight.Add(time.Duration(q.End) * time.Minute)
	switch {
	case q.Start < q.End && now >= q.Start && now < q.End:
		return end, true
	case q.Start > q.End && now >= q.Start:
		return time.Date(y, mo, d+1, 0, 0, 0, 0, loc).Add(time.Duration(q.End) * time.Minute), true
	case q.Start > q.End && now < q.End:
		return end, true
	}
	return time.Time{}, false
}

func (q QuietHours) String() string {
	if q.Off() {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// ParseQuietHours reads "22:00-07:00", or "off".
func ParseQuietHours(s string) (QuietHours, error) {
	if s == "off" {
		return QuietHours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", s)
	}
	a, err := parseClock(from)
	if err != nil {
		return QuietHours{}, err
	}
	b, err := parseClock(to)
	if err != nil {
		return QuietHours{}, err
	}
	return QuietHours{Start: a, End: b}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	return hh*60 + mm, nil
}

// ParseDeadline reads a deadline setting: "default", "off", or a duration
// in days or hours ("2d", "36h").
func ParseDeadline(s string) (time.Duration, error) {
	switch s {
	case "default":
		return 0, nil
	case "off":
		return -1, nil
	}
	unit := time.Hour
	num := strings.TrimSuffix(s, "h")
	if d, ok := strings.CutSuffix(s, "d"); ok {
		num, unit = d, 24*time.Hour
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > 365*24 || num == s && !strings.HasSuffix(s, "h") {
		return 0, fmt.Errorf("deadline %q: want e.g. 2d, 36h, default or off", s)
	}
	return time.Duration(n) * unit, nil
}

// formatDeadline is the inverse of ParseDeadline.
func formatDeadline(d time.Duration) string {
	switch {
	case d == 0:
		return "default"
	case d < 0:
		return "off"
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return strconv.Itoa(int(d/time.Hour)) + "h"
}
