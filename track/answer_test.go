package track

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

// answer is the evidence of an answer from addr to the mail
// orig-1@example.com, sent at; away is the date an out-of-office notice
// gives (zero for none), auto its type ("" for a person's reply).
func answer(t *testing.T, m Mail, from string, at time.Time, auto report.AutoReply, away time.Time) []Evidence {
	t.Helper()
	r := report.Report{
		Kind:              report.KindReply,
		OriginalMessageID: "orig-1@example.com",
		Recipient:         from,
		ReportMessageID:   "answer-" + from + "-" + at.Format("150405") + "@example.org",
		Date:              at,
	}
	if auto != "" {
		r.Kind, r.AutoReply, r.AwayUntil = report.KindAutoReply, auto, away
	}
	evs, err := AnswerEvidence(r, Match{Mail: m, Via: ViaMessageID, Confidence: ConfidenceExact}, at)
	if err != nil {
		t.Fatalf("AnswerEvidence(%s from %s) error = %v", r.Kind, from, err)
	}
	return evs
}

// applyAll applies evs in order and returns the mail and the notices.
func applyAll(t *testing.T, m Mail, cal *Calendar, evs ...Evidence) (Mail, []Notice) {
	t.Helper()
	var ns []Notice
	for _, ev := range evs {
		res, err := ApplyIn(m, ev, cal, ev.Seen)
		if err != nil {
			t.Fatalf("ApplyIn(%s for %s) error = %v", ev.Signal, ev.Recipient, err)
		}
		m = res.Mail
		ns = append(ns, res.Notices...)
	}
	return m, ns
}

func day(y int, mo time.Month, d int) time.Time { return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC) }

func TestAnswers(t *testing.T) {
	const (
		suzuki = "suzuki@partner.example.co.jp"
		yamada = "yamada@partner.example.co.jp"
		kato   = "kato@partner.example.co.jp"
		lee    = "lee@other.example"
	)
	type step struct {
		from string
		auto report.AutoReply
		away time.Time
		mdn  bool // a read receipt from from instead of an answer
	}
	tests := []struct {
		name  string
		req   Requested
		to    []string
		steps []step
		// want is each recipient's status, answerer and whether the mail's
		// sweep at its deadline owes them a notice.
		want map[string]string
		due  map[string]bool
	}{
		{"reply before a receipt", receipts, []string{suzuki},
			[]step{{from: suzuki}, {from: suzuki, mdn: true}},
			map[string]string{suzuki: "replied"}, map[string]bool{suzuki: false}},
		{"reply after a receipt", receipts, []string{suzuki},
			[]step{{from: suzuki, mdn: true}, {from: suzuki}},
			map[string]string{suzuki: "replied"}, map[string]bool{suzuki: false}},
		{"reply by a colleague answers for the domain", receipts, []string{suzuki, yamada, lee},
			[]step{{from: kato}},
			map[string]string{suzuki: "replied by " + kato, yamada: "replied by " + kato, lee: "pending"},
			map[string]bool{suzuki: false, yamada: false, lee: true}},
		{"the recipient's own reply after a colleague's", receipts, []string{suzuki},
			[]step{{from: kato}, {from: suzuki}},
			map[string]string{suzuki: "replied"}, map[string]bool{suzuki: false}},
		{"reply-all by a Cc answers for the Cc only", receipts, []string{suzuki, yamada},
			[]step{{from: yamada}},
			map[string]string{suzuki: "pending", yamada: "replied"}, map[string]bool{suzuki: true, yamada: false}},
		{"the sender's own follow-up never counts", receipts, []string{suzuki},
			[]step{{from: "alice@example.com"}, {from: "Alice+phone@example.com"}},
			map[string]string{suzuki: "pending"}, map[string]bool{suzuki: true}},
		{"auto-reply then reply", receipts, []string{suzuki},
			[]step{{from: suzuki, auto: report.AutoReplyAway, away: day(2026, 3, 6)}, {from: suzuki}},
			map[string]string{suzuki: "replied"}, map[string]bool{suzuki: false}},
		{"away with a date moves the deadline", receipts, []string{suzuki, lee},
			[]step{{from: suzuki, auto: report.AutoReplyAway, away: day(2026, 3, 6)}},
			map[string]string{suzuki: "away", lee: "pending"}, map[string]bool{suzuki: false, lee: true}},
		{"away without a date keeps the deadline", receipts, []string{suzuki},
			[]step{{from: suzuki, auto: report.AutoReplyAway}},
			map[string]string{suzuki: "away"}, map[string]bool{suzuki: true}},
		{"an acknowledgement keeps the deadline", receipts, []string{"support@vendor.example"},
			[]step{{from: "support@vendor.example", auto: report.AutoReplyAck}},
			map[string]string{"support@vendor.example": "auto_acknowledged"}, map[string]bool{"support@vendor.example": true}},
		{"an auto-reply after a receipt keeps the receipt", receipts, []string{suzuki},
			[]step{{from: suzuki, mdn: true}, {from: suzuki, auto: report.AutoReplyAway, away: day(2026, 3, 6)}},
			map[string]string{suzuki: "read"}, map[string]bool{suzuki: false}},
		{"an auto-reply answers a mail that asked only for delivery", Requested{DSN: true}, []string{suzuki},
			[]step{{from: suzuki, auto: report.AutoReplyAck}},
			map[string]string{suzuki: "auto_acknowledged"}, map[string]bool{suzuki: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMail(t, tt.req, tt.to...)
			at := t0.Add(time.Hour)
			for _, s := range tt.steps {
				at = at.Add(time.Minute)
				evs := answer(t, m, s.from, at, s.auto, s.away)
				if s.mdn {
					evs = []Evidence{mdn(report.DispositionDisplayed, s.from, at)}
				}
				m, _ = applyAll(t, m, nil, evs...)
				// The same answer read again changes nothing.
				for _, ev := range evs {
					if res, err := Apply(m, ev, at); err != nil || res.Changed || len(res.Notices) > 0 {
						t.Errorf("Apply(%s again) = changed %v, %d notices, %v; want no change", ev.Signal, res.Changed, len(res.Notices), err)
					}
				}
			}
			for addr, want := range tt.want {
				r := recipient(t, m, addr)
				got := string(r.Status)
				if r.AnsweredBy != "" {
					got += " by " + r.AnsweredBy
				}
				if got != want {
					t.Errorf("%s = %q, want %q", addr, got, want)
				}
			}
			_, ns := Sweep(m, m.DueAt)
			for addr, want := range tt.due {
				got := slices.ContainsFunc(ns, func(n Notice) bool { return n.Recipient == addr })
				if got != want {
					t.Errorf("Sweep(at the deadline) notice for %s = %v, want %v", addr, got, want)
				}
			}
		})
	}
}

// TestAwayDeadline moves a deadline past a weekend and a Japanese holiday
// and checks that the sweep reminds the sender then, and only then.
func TestAwayDeadline(t *testing.T) {
	cal := mustCalendar(t, CalendarConfig{Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: mustHolidays(t, "jp")})
	// Thursday 19 November 2026, 10:00 in Tokyo; eight working hours.
	sent := time.Date(2026, 11, 19, 10, 0, 0, 0, tokyo)
	m, err := Register(Mail{MessageID: "orig-1@example.com", Sender: "alice@example.com", SentAt: sent, Requested: receipts,
		Recipients: []Recipient{{Address: "suzuki@partner.example.co.jp"}, {Address: "lee@other.example"}}}, 8*time.Hour, cal, sent)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 19, 18, 0, 0, 0, tokyo); !m.DueAt.Equal(want) {
		t.Fatalf("Register() DueAt = %v, want %v", m.DueAt, want)
	}
	// Away until Friday the 20th: Saturday, Sunday and Monday the 23rd
	// (勤労感謝の日) are off, so the new deadline is eight working hours
	// into Tuesday the 24th.
	evs := answer(t, m, "suzuki@partner.example.co.jp", sent.Add(time.Minute), report.AutoReplyAway, day(2026, 11, 20))
	m, ns := applyAll(t, m, cal, evs...)
	want := time.Date(2026, 11, 24, 17, 0, 0, 0, tokyo)
	r := recipient(t, m, "suzuki@partner.example.co.jp")
	if !r.DueAt.Equal(want) || !r.AwayUntil.Equal(day(2026, 11, 20)) || r.AutoReply != report.AutoReplyAway {
		t.Fatalf("after the notice: DueAt %v, AwayUntil %v, AutoReply %q; want %v, 2026-11-20, away", r.DueAt, r.AwayUntil, r.AutoReply, want)
	}
	if len(ns) != 1 || ns[0].Kind != NoticeAway {
		t.Errorf("notices = %+v, want one away notice", ns)
	}
	m, ns = Sweep(m, m.DueAt)
	if len(ns) != 1 || ns[0].Recipient != "lee@other.example" {
		t.Fatalf("Sweep(mail deadline) = %+v, want one notice, for lee", ns)
	}
	if got := NextDue(m); !got.Equal(want) {
		t.Fatalf("NextDue() = %v, want %v", got, want)
	}
	if _, ns := Sweep(m, want.Add(-time.Second)); len(ns) != 0 {
		t.Fatalf("Sweep(before the moved deadline) = %+v, want none", ns)
	}
	m, ns = Sweep(m, want)
	if len(ns) != 1 || ns[0].Recipient != "suzuki@partner.example.co.jp" || !ns[0].Due.Equal(want) {
		t.Fatalf("Sweep(moved deadline) = %+v, want one notice for suzuki due %v", ns, want)
	}
	if got := NextDue(m); !got.IsZero() {
		t.Errorf("NextDue() after every deadline = %v, want none", got)
	}
	if _, ns := Sweep(m, want.Add(time.Hour)); len(ns) != 0 {
		t.Errorf("Sweep(again) = %+v, want none", ns)
	}
}

// TestAwayAfterNoResponse lifts the overlay when an out-of-office notice
// arrives after the deadline fired.
func TestAwayAfterNoResponse(t *testing.T) {
	m := newMail(t, receipts, "suzuki@partner.example.co.jp")
	m, ns := Sweep(m, m.DueAt)
	if len(ns) != 1 {
		t.Fatalf("Sweep() = %d notices, want 1", len(ns))
	}
	evs := answer(t, m, "suzuki@partner.example.co.jp", m.SentAt.Add(25*time.Hour), report.AutoReplyAway, day(2026, 3, 9))
	m, _ = applyAll(t, m, nil, evs...)
	r := recipient(t, m, "suzuki@partner.example.co.jp")
	if r.Status != StatusAway || NextDue(m).IsZero() {
		t.Fatalf("status %s, next due %v; want away with a new deadline", r.Status, NextDue(m))
	}
	if got, want := NextDue(m), day(2026, 3, 10).Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("NextDue() = %v, want %v", got, want)
	}
}

func TestAnswerersUnknown(t *testing.T) {
	m := newMail(t, receipts, "suzuki@partner.example.co.jp", "yamada@partner.example.co.jp")
	if _, err := Answerers(m, "stranger@elsewhere.example", report.KindReply); !errors.Is(err, ErrUnknownRecipient) {
		t.Errorf("Answerers(stranger) error = %v, want ErrUnknownRecipient", err)
	}
	// Two users of a public mailbox provider are no colleagues.
	g := newMail(t, receipts, "hanako@gmail.com")
	if _, err := Answerers(g, "stranger@gmail.com", report.KindReply); !errors.Is(err, ErrUnknownRecipient) {
		t.Errorf("Answerers(another gmail.com user) error = %v, want ErrUnknownRecipient", err)
	}
	// An automatic reply from a colleague cannot say which of two
	// recipients of the domain is away.
	if _, err := Answerers(m, "kato@partner.example.co.jp", report.KindAutoReply); !errors.Is(err, ErrUnknownRecipient) {
		t.Errorf("Answerers(auto-reply from a colleague) error = %v, want ErrUnknownRecipient", err)
	}
}

// answerLookup finds mails by Message-ID and, for any subject, returns subj.
type answerLookup struct {
	byID map[string]Mail
	subj []Mail
}

func (l answerLookup) MailByMessageID(id string) (Mail, bool, error) {
	m, ok := l.byID[id]
	return m, ok, nil
}
func (l answerLookup) MailByEnvelopeID(string) (Mail, bool, error) { return Mail{}, false, nil }
func (l answerLookup) MailsBySubject(string, string, time.Time, time.Time) ([]Mail, error) {
	return l.subj, nil
}

func TestCorrelateAnswer(t *testing.T) {
	m := newMail(t, receipts, "suzuki@partner.example.co.jp")
	l := answerLookup{byID: map[string]Mail{m.MessageID: m}, subj: []Mail{m}}
	at := t0.Add(2 * time.Hour)
	tests := []struct {
		name string
		r    report.Report
		via  Via
	}{
		{"in-reply-to", report.Report{OriginalMessageID: "orig-1@example.com", InReplyTo: "orig-1@example.com"}, ViaMessageID},
		{"deep in a thread", report.Report{OriginalMessageID: "later@partner.example.co.jp", InReplyTo: "later@partner.example.co.jp",
			References: []string{"orig-1@example.com", "mid@partner.example.co.jp", "later@partner.example.co.jp"}}, ViaThread},
		{"ids of untracked mail only", report.Report{OriginalMessageID: "other@example.com", References: []string{"other@example.com"}}, ""},
		{"no threading headers: subject", report.Report{Subject: "Re: Quote for March"}, ViaSubject},
		{"no threading headers, other subject", report.Report{Subject: "Re: something else"}, ""},
		{"automatic reply by subject", report.Report{Kind: report.KindAutoReply, Subject: "Automatic reply: RE: Quote for March"}, ViaSubject},
		{"groupware notice by subject", report.Report{Kind: report.KindAutoReply, Subject: "不在通知：Quote for March"}, ViaSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			if r.Kind == "" {
				r.Kind = report.KindReply
			}
			r.Recipient, r.Date = "suzuki@partner.example.co.jp", at
			mt, err := CorrelateAnswer(r, l, at, 14*24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if mt.Via != tt.via || mt.Found() != (tt.via != "") {
				t.Errorf("CorrelateAnswer(%s) = via %q found %v, want via %q", tt.name, mt.Via, mt.Found(), tt.via)
			}
			if tt.via == ViaSubject && mt.Confidence != ConfidenceLow {
				t.Errorf("CorrelateAnswer(%s) confidence = %q, want low", tt.name, mt.Confidence)
			}
		})
	}
}

// TestBackAt says when someone away until a date is back at work: the
// start of the next working day in the working calendar, not midnight UTC
// (09:00 on Saturday in Tokyo).
func TestBackAt(t *testing.T) {
	office := mustCalendar(t, CalendarConfig{Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: mustHolidays(t, "jp")})
	wholeDays := mustCalendar(t, CalendarConfig{Location: tokyo, Holidays: mustHolidays(t, "jp")})
	for _, tt := range []struct {
		name string
		back time.Time
		cal  *Calendar
		want time.Time
	}{
		{"friday, tokyo office", day(2026, 12, 4), office, time.Date(2026, 12, 7, 9, 0, 0, 0, tokyo)},
		{"before a holiday", day(2026, 11, 20), office, time.Date(2026, 11, 24, 9, 0, 0, 0, tokyo)},
		{"midweek", day(2026, 12, 8), office, time.Date(2026, 12, 9, 9, 0, 0, 0, tokyo)},
		{"whole working days", day(2026, 12, 4), wholeDays, time.Date(2026, 12, 7, 0, 0, 0, 0, tokyo)},
		{"no calendar", day(2026, 12, 4), nil, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)},
		{"no date", time.Time{}, office, time.Time{}},
	} {
		if got := BackAt(tt.back, tt.cal); !got.Equal(tt.want) {
			t.Errorf("%s: BackAt(%s) = %v, want %v", tt.name, tt.back.Format(time.DateOnly), got, tt.want)
		}
	}
}

// TestRedraw issues one redraw when away recipients are back, whatever
// their number, and none before, twice, for an answered recipient or on a
// closed mail.
func TestRedraw(t *testing.T) {
	cal := mustCalendar(t, CalendarConfig{Location: tokyo, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: mustHolidays(t, "jp")})
	sent := time.Date(2026, 12, 1, 10, 0, 0, 0, tokyo)
	m, err := Register(Mail{MessageID: "orig-1@example.com", Sender: "alice@example.com", SentAt: sent, Requested: receipts,
		Recipients: []Recipient{{Address: "suzuki@partner.example.co.jp"}, {Address: "lee@other.example"}, {Address: "kim@third.example"}}}, 8*time.Hour, cal, sent)
	if err != nil {
		t.Fatal(err)
	}
	if got := NextRedraw(m); !got.IsZero() {
		t.Fatalf("NextRedraw(nobody away) = %v, want none", got)
	}
	var evs []Evidence
	evs = append(evs, answer(t, m, "suzuki@partner.example.co.jp", sent.Add(time.Minute), report.AutoReplyAway, day(2026, 12, 4))...)
	evs = append(evs, answer(t, m, "lee@other.example", sent.Add(time.Minute), report.AutoReplyAway, day(2026, 12, 4))...)
	evs = append(evs, answer(t, m, "kim@third.example", sent.Add(time.Minute), report.AutoReplyAway, day(2026, 12, 8))...)
	m, _ = applyAll(t, m, cal, evs...)
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, tokyo)
	if r := recipient(t, m, "lee@other.example"); !r.BackAt.Equal(monday) {
		t.Fatalf("BackAt = %v, want %v", r.BackAt, monday)
	}
	if got := NextRedraw(m); !got.Equal(monday) {
		t.Fatalf("NextRedraw() = %v, want %v", got, monday)
	}
	if _, _, ok := Redraw(m, monday.Add(-time.Second)); ok {
		t.Fatal("Redraw(before anyone is back) issued a notice")
	}
	m, n, ok := Redraw(m, monday.Add(time.Hour))
	if !ok || n.Kind != NoticeRedraw || n.MessageID != m.MessageID || n.Sender != "alice@example.com" || !n.At.Equal(monday) || n.Key == "" {
		t.Fatalf("Redraw(two back) = %+v, %v; want one redraw notice at %v", n, ok, monday)
	}
	if _, n, ok := Redraw(m, monday.Add(2*time.Hour)); ok {
		t.Fatalf("Redraw(again) = %+v, want none", n)
	}
	wednesday := time.Date(2026, 12, 9, 9, 0, 0, 0, tokyo)
	if got := NextRedraw(m); !got.Equal(wednesday) {
		t.Fatalf("NextRedraw() after Monday = %v, want %v", got, wednesday)
	}
	// kim answers before being back: nothing to redraw for.
	replied, _ := applyAll(t, m, cal, answer(t, m, "kim@third.example", sent.Add(time.Hour), "", time.Time{})...)
	if got := NextRedraw(replied); !got.IsZero() {
		t.Errorf("NextRedraw(the last one answered) = %v, want none", got)
	}
	closed := m.Clone()
	closed.State = StateDone
	if _, _, ok := Redraw(closed, wednesday); ok {
		t.Error("Redraw(closed mail) issued a notice")
	}
}

// TestAnswerRefsBounded: a reply whose References names a hundred thousand
// Message-IDs (a header of well under the reader's 1 MiB) is looked up,
// and kept as an orphan, by a bounded number of them: the answered one,
// the nearest References and the thread's first.
func TestAnswerRefsBounded(t *testing.T) {
	r := report.Report{Kind: report.KindReply, InReplyTo: "parent@x", Recipient: "a@partner.example", ReportMessageID: "re@partner.example"}
	for i := range 100_000 {
		r.References = append(r.References, fmt.Sprintf("r%d@x", i))
	}
	refs := AnswerRefs(r)
	if len(refs) > MaxAnswerRefs {
		t.Fatalf("AnswerRefs() kept %d IDs, want at most %d", len(refs), MaxAnswerRefs)
	}
	for _, want := range []string{"parent@x", "r99999@x", "r99998@x", "r0@x"} {
		if !slices.Contains(refs, want) {
			t.Errorf("AnswerRefs() lacks %s: %v", want, refs[:min(len(refs), 5)])
		}
	}
	o, ok := AnswerOrphan(r, time.Now())
	if !ok || len(o.Keys.Thread) > MaxAnswerRefs {
		t.Errorf("AnswerOrphan() = %d thread keys, %v; want at most %d", len(o.Keys.Thread), ok, MaxAnswerRefs)
	}
}
