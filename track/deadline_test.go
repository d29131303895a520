package track

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

func TestRegister(t *testing.T) {
	m := Mail{
		MessageID: " <Abc@Example.COM> ",
		Sender:    "Alice <Alice@Example.com>",
		SentAt:    t0,
		Recipients: []Recipient{
			{Address: "Bob@Example.org", Field: FieldTo},
			{Address: "bob@example.org", Field: FieldCc},
			{Address: "carol@example.org", Field: FieldBcc},
			{Address: "   "},
			{Address: "dave@example.org"},
		},
	}
	got, err := Register(m, 24*time.Hour, nil, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Register() error = %v", err)
	}
	if got.MessageID != "Abc@example.com" || got.Sender != "alice@example.com" || got.State != StateOpen {
		t.Errorf("Register() = %s from %s %s, want Abc@example.com from alice@example.com open", got.MessageID, got.Sender, got.State)
	}
	var addrs []string
	for _, r := range got.Recipients {
		addrs = append(addrs, string(r.Field)+":"+r.Address)
		if r.Status != StatusPending || r.Best != StatusPending {
			t.Errorf("Register() recipient %s = %v/%v, want pending", r.Address, r.Status, r.Best)
		}
	}
	if want := []string{"to:bob@example.org", "bcc:carol@example.org", "to:dave@example.org"}; !slices.Equal(addrs, want) {
		t.Errorf("Register() recipients = %v, want %v", addrs, want)
	}
	if want := t0.Add(24 * time.Hour); !got.DueAt.Equal(want) {
		t.Errorf("Register() DueAt = %v, want %v", got.DueAt, want)
	}
	if !got.CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("Register() CreatedAt = %v, want %v", got.CreatedAt, t0.Add(time.Minute))
	}
	if m.Recipients[0].Address != "Bob@Example.org" {
		t.Errorf("Register() changed its input")
	}
}

func TestRegisterInvalid(t *testing.T) {
	tests := []struct {
		name string
		m    Mail
	}{
		{"no message-id", Mail{MessageID: "<>", Sender: "a@b", Recipients: []Recipient{{Address: bob}}}},
		{"no sender", Mail{MessageID: "x@y", Recipients: []Recipient{{Address: bob}}}},
		{"no recipient", Mail{MessageID: "x@y", Sender: "a@b", Recipients: []Recipient{{Address: " "}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Register(tt.m, time.Hour, nil, t0); !errors.Is(err, ErrInvalidMail) {
				t.Errorf("Register(%s) error = %v, want %v", tt.name, err, ErrInvalidMail)
			}
		})
	}
}

func TestNextDeadline(t *testing.T) {
	office := mustCalendar(t, CalendarConfig{Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: mustHolidays(t, "jp")})
	fri := time.Date(2026, 5, 1, 17, 0, 0, 0, tokyo)
	tests := []struct {
		name     string
		m        Mail
		def      time.Duration
		c        *Calendar
		want     time.Time
		wantZero bool
	}{
		{"default", Mail{SentAt: t0}, 24 * time.Hour, nil, t0.Add(24 * time.Hour), false},
		{"override", Mail{SentAt: t0, Deadline: 2 * time.Hour}, 24 * time.Hour, nil, t0.Add(2 * time.Hour), false},
		{"disabled by mail", Mail{SentAt: t0, Deadline: -1}, 24 * time.Hour, nil, time.Time{}, true},
		{"disabled by default", Mail{SentAt: t0}, 0, nil, time.Time{}, true},
		{"closed", Mail{SentAt: t0, State: StateStopped}, 24 * time.Hour, nil, time.Time{}, true},
		{"business hours over Golden Week", Mail{SentAt: fri}, 2 * time.Hour, office, time.Date(2026, 5, 7, 10, 0, 0, 0, tokyo), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextDeadline(tt.m, tt.def, tt.c)
			if !got.Equal(tt.want) || got.IsZero() != tt.wantZero {
				t.Errorf("NextDeadline(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestSweep(t *testing.T) {
	m := newMail(t, receipts, bob, "carol@example.org", "dave@example.org", "erin@example.org", "alice@example.com")
	for _, ev := range []Evidence{
		mdn(report.DispositionDisplayed, "carol@example.org", t0.Add(time.Hour)),
		dsn(report.ActionFailed, "dave@example.org", t0.Add(time.Hour)),
		dsn(report.ActionDelivered, "erin@example.org", t0.Add(time.Hour)),
	} {
		res, err := Apply(m, ev, ev.At)
		if err != nil {
			t.Fatalf("Apply(%s) error = %v", ev.Signal, err)
		}
		m = res.Mail
	}
	due := m.DueAt

	if got, ns := Sweep(m, due.Add(-time.Second)); len(ns) != 0 || !got.DueAt.Equal(due) {
		t.Fatalf("Sweep(before deadline) = %d notices, due %v, want none, due %v", len(ns), got.DueAt, due)
	}
	m, ns := Sweep(m, due.Add(time.Minute))
	var got []string
	for _, n := range ns {
		got = append(got, n.Recipient+" "+string(n.From)+">"+string(n.To))
		if n.Kind != NoticeNoResponse || !n.Due.Equal(due) || !n.At.Equal(due) {
			t.Errorf("Sweep() notice %+v, want a no-response notice due and at %v", n, due)
		}
	}
	want := []string{bob + " pending>no_response", "erin@example.org delivered>no_response"}
	if !slices.Equal(got, want) {
		t.Errorf("Sweep() = %v, want %v", got, want)
	}
	if !m.DueAt.IsZero() {
		t.Errorf("Sweep() DueAt = %v, want none", m.DueAt)
	}
	if r := recipient(t, m, "erin@example.org"); r.Best != StatusDelivered || r.Status != StatusNoResponse {
		t.Errorf("Sweep() erin = %v (best %v), want no_response (best delivered)", r.Status, r.Best)
	}
	for i := range 3 {
		var again []Notice
		m, again = Sweep(m, due.Add(time.Duration(i+2)*time.Hour))
		if len(again) != 0 {
			t.Errorf("Sweep(again %d) = %v, want no notice", i, again)
		}
	}
}

// TestSweepOncePerDeadline sweeps a copy whose DueAt the store failed to
// clear: the per-recipient record still stops a second notice.
func TestSweepOncePerDeadline(t *testing.T) {
	m := newMail(t, receipts, bob)
	due := m.DueAt
	swept, ns := Sweep(m, due)
	if len(ns) != 1 {
		t.Fatalf("Sweep() = %d notices, want 1", len(ns))
	}
	swept.DueAt = due
	if _, again := Sweep(swept, due.Add(time.Hour)); len(again) != 0 {
		t.Errorf("Sweep(same deadline again) = %v, want no notice", again)
	}
}

func TestSweepDeliveryAnswersWithoutReceipt(t *testing.T) {
	m := newMail(t, Requested{DSN: true}, bob, "carol@example.org")
	res, err := Apply(m, dsn(report.ActionDelivered, bob, t0), t0)
	if err != nil {
		t.Fatalf("Apply() error = %v", err)
	}
	_, ns := Sweep(res.Mail, res.Mail.DueAt)
	if len(ns) != 1 || ns[0].Recipient != "carol@example.org" {
		t.Errorf("Sweep() = %+v, want one notice, for carol", ns)
	}
}

func TestSnoozeMovesDeadline(t *testing.T) {
	m := newMail(t, receipts, bob)
	first := m.DueAt
	m, ns := Sweep(m, first)
	if len(ns) != 1 {
		t.Fatalf("Sweep(first deadline) = %d notices, want 1", len(ns))
	}
	until := first.Add(48 * time.Hour)
	m, err := Snooze(m, until, first.Add(time.Hour))
	if err != nil {
		t.Fatalf("Snooze() error = %v", err)
	}
	if m.State != StateSnoozed || !m.DueAt.Equal(until) || !m.SnoozedUntil.Equal(until) {
		t.Fatalf("Snooze() = %s due %v, want snoozed due %v", m.State, m.DueAt, until)
	}
	if _, early := Sweep(m, until.Add(-time.Minute)); len(early) != 0 {
		t.Errorf("Sweep(before snooze ends) = %v, want none", early)
	}
	m, ns2 := Sweep(m, until)
	if len(ns2) != 1 || !ns2[0].Due.Equal(until) {
		t.Fatalf("Sweep(snooze ends) = %+v, want one notice due %v", ns2, until)
	}
	if ns2[0].Key == ns[0].Key {
		t.Errorf("Sweep() keys of two deadlines are both %q, want different", ns[0].Key)
	}
	if m.State != StateOpen || !m.SnoozedUntil.IsZero() {
		t.Errorf("Sweep(snooze ends) state = %s until %v, want open", m.State, m.SnoozedUntil)
	}
	if _, ns3 := Sweep(m, until.Add(time.Hour)); len(ns3) != 0 {
		t.Errorf("Sweep(after snooze) = %v, want none", ns3)
	}
}

func TestSnoozeBeforeDeadline(t *testing.T) {
	m := newMail(t, receipts, bob)
	due := m.DueAt
	m, err := Snooze(m, due.Add(24*time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Snooze() error = %v", err)
	}
	if _, ns := Sweep(m, due); len(ns) != 0 {
		t.Errorf("Sweep(original deadline) = %v, want none after snooze", ns)
	}
	if _, ns := Sweep(m, due.Add(24*time.Hour)); len(ns) != 1 {
		t.Errorf("Sweep(snoozed deadline) = %d notices, want 1", len(ns))
	}
}

func TestSnoozeErrors(t *testing.T) {
	open := newMail(t, receipts, bob)
	closed, err := Close(open, StateStopped, t0)
	if err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	tests := []struct {
		name  string
		m     Mail
		until time.Time
		want  error
	}{
		{"closed", closed, t0.Add(time.Hour), ErrClosed},
		{"now", open, t0, ErrNotFuture},
		{"past", open, t0.Add(-time.Hour), ErrNotFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Snooze(tt.m, tt.until, t0)
			if !errors.Is(err, tt.want) {
				t.Errorf("Snooze(%s) error = %v, want %v", tt.name, err, tt.want)
			}
			if got.State != tt.m.State || !got.DueAt.Equal(tt.m.DueAt) {
				t.Errorf("Snooze(%s) changed the mail", tt.name)
			}
		})
	}
}

func TestClose(t *testing.T) {
	for _, state := range []State{StateDone, StateStopped} {
		t.Run(string(state), func(t *testing.T) {
			m := newMail(t, receipts, bob)
			m, err := Snooze(m, t0.Add(time.Hour), t0)
			if err != nil {
				t.Fatalf("Snooze() error = %v", err)
			}
			closedAt := t0.Add(10 * time.Minute)
			m, err = Close(m, state, closedAt)
			if err != nil {
				t.Fatalf("Close(%s) error = %v", state, err)
			}
			if m.State != state || !m.DueAt.IsZero() || !m.SnoozedUntil.IsZero() || !m.ClosedAt.Equal(closedAt) || !m.Closed() {
				t.Errorf("Close(%s) = %+v, want closed without deadline", state, m)
			}
			if _, ns := Sweep(m, t0.Add(100*time.Hour)); len(ns) != 0 {
				t.Errorf("Sweep(closed) = %v, want none", ns)
			}
			again, err := Close(m, state, closedAt.Add(time.Hour))
			if err != nil || !again.ClosedAt.Equal(closedAt) {
				t.Errorf("Close(%s again) = %v, %v, want unchanged", state, again.ClosedAt, err)
			}
		})
	}
	if _, err := Close(newMail(t, receipts, bob), StateSnoozed, t0); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Close(snoozed) error = %v, want %v", err, ErrInvalidState)
	}
}

func TestReopen(t *testing.T) {
	m := newMail(t, receipts, bob)
	if _, err := Reopen(m, time.Time{}, t0); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Reopen(open) error = %v, want %v", err, ErrInvalidState)
	}
	closed, err := Close(m, StateDone, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	due := t0.Add(5 * time.Hour)
	back, err := Reopen(closed, due, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Reopen() error = %v", err)
	}
	if back.State != StateOpen || back.Closed() || !back.ClosedAt.IsZero() || !back.DueAt.Equal(due) {
		t.Errorf("Reopen() = state %q, closed at %v, due %v; want open, due %v", back.State, back.ClosedAt, back.DueAt, due)
	}
	if _, ns := Sweep(back, due.Add(time.Minute)); len(ns) == 0 {
		t.Error("Sweep(reopened past its deadline) = no notices, want the deadline armed again")
	}
	past, err := Reopen(closed, t0, t0.Add(time.Hour))
	if err != nil || !past.DueAt.IsZero() {
		t.Errorf("Reopen(due in the past) = due %v, %v; want no deadline", past.DueAt, err)
	}
}
