package track

import (
	"sync"
	"testing"
	"time"

	"github.com/rickar/cal/v2"
)

func mustCalendar(t *testing.T, cfg CalendarConfig) *Calendar {
	t.Helper()
	c, err := NewCalendar(cfg)
	if err != nil {
		t.Fatalf("NewCalendar(%+v) error = %v", cfg, err)
	}
	return c
}

func mustHolidays(t *testing.T, region string) []*cal.Holiday {
	t.Helper()
	hs, err := Holidays(region)
	if err != nil {
		t.Fatalf("Holidays(%q) error = %v", region, err)
	}
	return hs
}

var everyDay = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}

func TestCalendarAdd(t *testing.T) {
	jst := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, tokyo) }
	nyc := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, newYork) }
	tokyoOffice := mustCalendar(t, CalendarConfig{
		Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: mustHolidays(t, "jp"),
	})
	tokyoNewYear := mustCalendar(t, CalendarConfig{
		Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: mustHolidays(t, "jp"),
		Closed: []Date{{2026, 12, 29}, {2026, 12, 30}, {2026, 12, 31}, {2027, 1, 2}, {2027, 1, 3}},
	})
	tokyoDays := mustCalendar(t, CalendarConfig{Location: tokyo, Holidays: mustHolidays(t, "jp")})
	nycOffice := mustCalendar(t, CalendarConfig{
		Location: newYork, DayStart: 9 * time.Hour, DayEnd: 17 * time.Hour, Holidays: mustHolidays(t, "us"),
	})
	nycAllWeek := mustCalendar(t, CalendarConfig{Location: newYork, Workdays: everyDay})
	nycNight := mustCalendar(t, CalendarConfig{Location: newYork, Workdays: everyDay, DayStart: time.Hour, DayEnd: 3 * time.Hour})

	tests := []struct {
		name  string
		c     *Calendar
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"wall clock without calendar", nil, jst(2026, 5, 1, 17, 0), 24 * time.Hour, jst(2026, 5, 2, 17, 0)},
		{"zero duration", tokyoOffice, jst(2026, 5, 2, 3, 0), 0, jst(2026, 5, 2, 3, 0)},
		{"within a day", tokyoOffice, jst(2026, 3, 2, 10, 0), 3 * time.Hour, jst(2026, 3, 2, 13, 0)},
		{"ends at close", tokyoOffice, jst(2026, 3, 2, 9, 0), 9 * time.Hour, jst(2026, 3, 2, 18, 0)},
		{"starts before hours", tokyoOffice, jst(2026, 3, 2, 7, 0), time.Hour, jst(2026, 3, 2, 10, 0)},
		{"starts after hours", tokyoOffice, jst(2026, 3, 2, 20, 0), time.Hour, jst(2026, 3, 3, 10, 0)},
		{"start given in UTC", tokyoOffice, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Hour, jst(2026, 3, 2, 10, 0)},
		{"24 working hours", tokyoOffice, jst(2026, 3, 2, 10, 0), 24 * time.Hour, jst(2026, 3, 4, 16, 0)},
		{"across a weekend", tokyoOffice, jst(2026, 2, 6, 16, 0), 4 * time.Hour, jst(2026, 2, 9, 11, 0)},
		{"starts on Saturday", tokyoOffice, jst(2026, 2, 7, 12, 0), time.Hour, jst(2026, 2, 9, 10, 0)},
		{"Coming of Age Day", tokyoOffice, jst(2026, 1, 9, 17, 0), 2 * time.Hour, jst(2026, 1, 13, 10, 0)},
		{"National Foundation Day", tokyoOffice, jst(2026, 2, 10, 17, 0), 2 * time.Hour, jst(2026, 2, 12, 10, 0)},
		{"Showa Day", tokyoOffice, jst(2026, 4, 28, 17, 0), 2 * time.Hour, jst(2026, 4, 30, 10, 0)},
		{"Golden Week", tokyoOffice, jst(2026, 5, 1, 17, 0), 2 * time.Hour, jst(2026, 5, 7, 10, 0)},
		{"Golden Week substitute holiday", tokyoOffice, jst(2026, 5, 5, 12, 0), time.Hour, jst(2026, 5, 7, 10, 0)},
		{"24 working hours over Golden Week", tokyoOffice, jst(2026, 4, 30, 9, 0), 24 * time.Hour, jst(2026, 5, 7, 15, 0)},
		{"New Year's Day", tokyoOffice, jst(2025, 12, 31, 17, 0), 2 * time.Hour, jst(2026, 1, 2, 10, 0)},
		{"company New Year break", tokyoNewYear, jst(2026, 12, 28, 17, 0), 2 * time.Hour, jst(2027, 1, 4, 10, 0)},
		{"whole days across a weekend", tokyoDays, jst(2026, 2, 6, 12, 0), 24 * time.Hour, jst(2026, 2, 9, 12, 0)},
		{"whole days across Golden Week", tokyoDays, jst(2026, 5, 1, 12, 0), 24 * time.Hour, jst(2026, 5, 7, 12, 0)},
		{"office hours into daylight saving", nycOffice, nyc(2026, 3, 6, 15, 0), 4 * time.Hour, nyc(2026, 3, 9, 11, 0)},
		{"office hours out of daylight saving", nycOffice, nyc(2026, 10, 30, 15, 0), 4 * time.Hour, nyc(2026, 11, 2, 11, 0)},
		{"Thanksgiving", nycOffice, nyc(2026, 11, 25, 16, 0), 2 * time.Hour, nyc(2026, 11, 27, 10, 0)},
		{"23-hour day", nycAllWeek, nyc(2026, 3, 7, 12, 0), 24 * time.Hour, nyc(2026, 3, 8, 13, 0)},
		{"25-hour day", nycAllWeek, nyc(2026, 10, 31, 12, 0), 24 * time.Hour, nyc(2026, 11, 1, 11, 0)},
		{"hours that lose their middle", nycNight, nyc(2026, 3, 8, 1, 0), 90 * time.Minute, nyc(2026, 3, 9, 1, 30)},
		{"hours that repeat", nycNight, time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC), 150 * time.Minute, time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.Add(tt.start, tt.d)
			if !got.Equal(tt.want) {
				t.Errorf("Add(%v, %v) = %v, want %v", tt.start, tt.d, got, tt.want)
			}
		})
	}
}

func TestCalendarWorking(t *testing.T) {
	c := mustCalendar(t, CalendarConfig{Location: tokyo, Holidays: mustHolidays(t, "jp"), Closed: []Date{{2026, 12, 30}}})
	tests := []struct {
		day  Date
		want bool
	}{
		{Date{2026, 4, 28}, true},
		{Date{2026, 4, 29}, false}, // Showa Day
		{Date{2026, 5, 2}, false},  // Saturday
		{Date{2026, 5, 3}, false},  // Constitution Memorial Day, a Sunday
		{Date{2026, 5, 4}, false},  // Greenery Day
		{Date{2026, 5, 5}, false},  // Children's Day
		{Date{2026, 5, 6}, false},  // substitute for 3 May
		{Date{2026, 5, 7}, true},
		{Date{2026, 1, 1}, false},
		{Date{2026, 1, 2}, true},
		{Date{2026, 12, 30}, false}, // closed by configuration
	}
	for _, tt := range tests {
		at := time.Date(tt.day.Year, tt.day.Month, tt.day.Day, 12, 0, 0, 0, tokyo)
		if got := c.Working(at); got != tt.want {
			t.Errorf("Working(%s) = %v, want %v", tt.day, got, tt.want)
		}
	}
	var none *Calendar
	if !none.Working(t0) {
		t.Errorf("(*Calendar)(nil).Working(%v) = false, want true", t0)
	}
}

func TestNewCalendarErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  CalendarConfig
	}{
		{"start after end", CalendarConfig{DayStart: 18 * time.Hour, DayEnd: 9 * time.Hour}},
		{"start equals end", CalendarConfig{DayStart: 9 * time.Hour, DayEnd: 9 * time.Hour}},
		{"end past midnight", CalendarConfig{DayStart: 9 * time.Hour, DayEnd: 25 * time.Hour}},
		{"negative start", CalendarConfig{DayStart: -time.Hour, DayEnd: 9 * time.Hour}},
		{"no working days", CalendarConfig{Workdays: []time.Weekday{}}},
		{"bad weekday", CalendarConfig{Workdays: []time.Weekday{9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := NewCalendar(tt.cfg); err == nil {
				t.Errorf("NewCalendar(%+v) = %v, nil, want an error", tt.cfg, c)
			}
		})
	}
}

func TestCalendarAllDaysOff(t *testing.T) {
	var closed []Date
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2037; d = d.AddDate(0, 0, 1) {
		closed = append(closed, dateOf(d))
	}
	c := mustCalendar(t, CalendarConfig{Closed: closed})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.Add(start, time.Hour); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("Add(%v, 1h) = %v, want the wall-clock fallback %v", start, got, start.Add(time.Hour))
	}
}

func TestCalendarConcurrent(t *testing.T) {
	c := mustCalendar(t, CalendarConfig{Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: mustHolidays(t, "jp")})
	start := time.Date(2026, 4, 30, 9, 0, 0, 0, tokyo)
	want := time.Date(2026, 5, 7, 15, 0, 0, 0, tokyo)
	var wg sync.WaitGroup
	results := make([]time.Time, 8)
	for i := range results {
		wg.Go(func() { results[i] = c.Add(start.AddDate(i, 0, 0), 24*time.Hour) })
	}
	wg.Wait()
	if !results[0].Equal(want) {
		t.Errorf("Add(%v, 24h) = %v, want %v", start, results[0], want)
	}
}

func TestHolidays(t *testing.T) {
	for _, region := range []string{"jp", "US", " jp "} {
		if hs, err := Holidays(region); err != nil || len(hs) == 0 {
			t.Errorf("Holidays(%q) = %d holidays, %v, want some", region, len(hs), err)
		}
	}
	if _, err := Holidays("atlantis"); err == nil {
		t.Errorf("Holidays(%q) error = nil, want one", "atlantis")
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{"2026-12-29", Date{2026, 12, 29}, false},
		{" 2027-01-03 ", Date{2027, 1, 3}, false},
		{"2026-02-30", Date{}, true},
		{"29/12/2026", Date{}, true},
		{"", Date{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseDate(%q) = %v, %v, want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if s := (Date{2026, 5, 6}).String(); s != "2026-05-06" {
		t.Errorf("Date.String() = %q, want %q", s, "2026-05-06")
	}
}
