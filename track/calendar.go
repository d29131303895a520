package track

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/us"
)

// maxCalendarDays bounds how far Add walks, so a calendar whose every day
// is a holiday cannot loop for ever.
const maxCalendarDays = 3660

// Date is a calendar day without a time or a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a date written as 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: %w", s, err)
	}
	return dateOf(t), nil
}

func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats d as 2006-01-02.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Holidays returns the public holidays of a region: "jp" (Japan) or "us"
// (United States federal holidays).
func Holidays(region string) ([]*cal.Holiday, error) {
	switch strings.ToLower(strings.TrimSpace(region)) {
	case "jp":
		return jp.Holidays, nil
	case "us":
		return us.Holidays, nil
	}
	return nil, fmt.Errorf("holidays for region %q: unknown region", region)
}

// CalendarConfig describes working time.
type CalendarConfig struct {
	// Location is the time zone working time is counted in; nil means UTC.
	Location *time.Location
	// Workdays are the working days of the week; nil means Monday to Friday.
	Workdays []time.Weekday
	// DayStart and DayEnd bound the working hours as offsets from midnight,
	// such as 9h and 18h. Both zero make whole working days count.
	DayStart, DayEnd time.Duration
	// Holidays are days off every year, such as those Holidays returns;
	// both the day itself and the day it is observed on are off.
	Holidays []*cal.Holiday
	// Closed are further days off, such as a company's New Year break.
	Closed []Date
}

// Calendar counts working time. It is safe for concurrent use.
type Calendar struct {
	loc        *time.Location
	workdays   [7]bool
	start, end time.Duration
	holidays   []*cal.Holiday
	closed     map[Date]bool

	mu    sync.Mutex            // guards years
	years map[int]map[Date]bool // holiday days by year, filled on demand
}

// NewCalendar checks cfg and builds a Calendar from it.
func NewCalendar(cfg CalendarConfig) (*Calendar, error) {
	c := &Calendar{
		loc:      cfg.Location,
		start:    cfg.DayStart,
		end:      cfg.DayEnd,
		holidays: cfg.Holidays,
		closed:   map[Date]bool{},
		years:    map[int]map[Date]bool{},
	}
	if c.loc == nil {
		c.loc = time.UTC
	}
	if c.start == 0 && c.end == 0 {
		c.end = 24 * time.Hour
	}
	if c.start < 0 || c.end > 24*time.Hour || c.start >= c.end {
		return nil, fmt.Errorf("calendar: working hours %s to %s: want 0 <= start < end <= 24h", cfg.DayStart, cfg.DayEnd)
	}
	days := cfg.Workdays
	if days == nil {
		days = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			return nil, fmt.Errorf("calendar: weekday %d out of range", d)
		}
		c.workdays[d] = true
	}
	if len(days) == 0 {
		return nil, fmt.Errorf("calendar: no working days")
	}
	for _, d := range cfg.Closed {
		c.closed[d] = true
	}
	return c, nil
}

// Add returns the instant d of working time after start. Time outside
// working hours, on days off and on holidays does not count; an end that
// falls exactly at the close of a working day stays on that day. Working
// hours are wall-clock times in the calendar's zone, so a day that gains
// or loses an hour to daylight saving counts the hours it really has. A
// nil Calendar counts wall-clock time.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if c == nil {
		return start.Add(d)
	}
	if d <= 0 {
		return start
	}
	t := start.In(c.loc)
	for range maxCalendarDays {
		if from, to, ok := c.window(t); ok {
			if t.Before(from) {
				t = from
			}
			if left := to.Sub(t); left > 0 {
				if d <= left {
					return t.Add(d)
				}
				d -= left
			}
		}
		y, m, day := t.Date()
		t = time.Date(y, m, day+1, 0, 0, 0, 0, c.loc)
	}
	return start.Add(d)
}

// Next returns the first instant of working time at or after t: t itself
// within working hours, else the start of the next working hours. A nil
// Calendar returns t.
func (c *Calendar) Next(t time.Time) time.Time {
	if c == nil {
		return t
	}
	t = t.In(c.loc)
	for range maxCalendarDays {
		if from, to, ok := c.window(t); ok {
			if t.Before(from) {
				return from
			}
			if t.Before(to) {
				return t
			}
		}
		y, m, day := t.Date()
		t = time.Date(y, m, day+1, 0, 0, 0, 0, c.loc)
	}
	return t
}

// window returns the working hours of t's day, and false on a day off.
func (c *Calendar) window(t time.Time) (from, to time.Time, ok bool) {
	if !c.Working(t) {
		return time.Time{}, time.Time{}, false
	}
	y, m, d := t.Date()
	return c.clock(y, m, d, c.start), c.clock(y, m, d, c.end), true
}

// clock is the wall-clock time off after midnight on a day; computing it
// from hours and minutes rather than adding to midnight keeps it right on
// days that change to or from daylight saving time.
func (c *Calendar) clock(y int, m time.Month, d int, off time.Duration) time.Time {
	h := int(off / time.Hour)
	mi := int(off % time.Hour / time.Minute)
	s := int(off % time.Minute / time.Second)
	return time.Date(y, m, d, h, mi, s, 0, c.loc)
}

// Working reports whether t's day, in the calendar's zone, is a working
// day. Every day is one for a nil Calendar.
func (c *Calendar) Working(t time.Time) bool {
	if c == nil {
		return true
	}
	t = t.In(c.loc)
	day := dateOf(t)
	return c.workdays[t.Weekday()] && !c.closed[day] && !c.holiday(day)
}

func (c *Calendar) holiday(d Date) bool {
	if len(c.holidays) == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	set, ok := c.years[d.Year]
	if !ok {
		set = c.holidaysOf(d.Year)
		c.years[d.Year] = set
	}
	return set[d]
}

// holidaysOf lists a year's holidays, including days observed in it for
// holidays of the neighbouring years (1 January observed on 31 December).
func (c *Calendar) holidaysOf(year int) map[Date]bool {
	set := map[Date]bool{}
	for _, h := range c.holidays {
		for y := year - 1; y <= year+1; y++ {
			actual, observed := h.Calc(y)
			for _, t := range []time.Time{actual, observed} {
				if !t.IsZero() && t.Year() == year {
					set[dateOf(t)] = true
				}
			}
		}
	}
	return set
}
