package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// answerMail is a mail whose recipients answered in each of the ways a
// reply or an automatic reply can.
func answerMail() track.Mail {
	at := time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC)
	m := track.Mail{
		MessageID: "q1@example.com", Sender: "alice@example.com", Subject: "見積書の件",
		SentAt: at.Add(-time.Hour), State: track.StateOpen, DueAt: at.Add(24 * time.Hour),
		Requested: track.Requested{ReadReceipt: true},
		Recipients: []track.Recipient{
			{Address: "suzuki@partner.example", Status: track.StatusReplied, StatusAt: at},
			{Address: "yamada@partner.example", Status: track.StatusReplied, StatusAt: at, AnsweredBy: "kato@partner.example"},
			{Address: "lee@other.example", Status: track.StatusAway, StatusAt: at, AutoReply: report.AutoReplyAway,
				AwayUntil: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), DueAt: at.Add(5 * 24 * time.Hour)},
			{Address: "ito@other.example", Status: track.StatusAway, StatusAt: at, AutoReply: report.AutoReplyAway},
			{Address: "support@vendor.example", Status: track.StatusAutoAck, StatusAt: at, AutoReply: report.AutoReplyAck},
			{Address: "sato@third.example", Status: track.StatusRead, StatusAt: at, AutoReply: report.AutoReplyAway,
				AwayUntil: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)},
		},
	}
	for i := range m.Recipients {
		m.Recipients[i].Best = m.Recipients[i].Status
	}
	return m
}

func TestCardAnswerLines(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		l    locale
		want []string
	}{
		{"en", locale{lang: English, tz: newYork}, []string{
			":speech_balloon: *suzuki@partner.example* — replied at Tue 1 Dec 20:30",
			":speech_balloon: *yamada@partner.example* — answered by kato@partner.example at Tue 1 Dec 20:30",
			":beach_with_umbrella: *lee@other.example* — away until Mon 7 Dec (automatic reply)",
			":beach_with_umbrella: *ito@other.example* — away (automatic reply)",
			":robot_face: *support@vendor.example* — automatic acknowledgement — no reply from a person yet",
			":white_check_mark: *sato@third.example* — read at Tue 1 Dec 20:30\n:beach_with_umbrella: _also sent an automatic reply: away until Fri 4 Dec_",
			"waiting for confirmation until",
		}},
		{"ja", locale{lang: Japanese, tz: tokyo}, []string{
			":speech_balloon: *suzuki@partner.example* — 返信あり（12月2日(水) 10:30）",
			":speech_balloon: *yamada@partner.example* — kato@partner.example さんが返信（12月2日(水) 10:30）",
			":beach_with_umbrella: *lee@other.example* — 不在（12月7日まで・自動応答）",
			":beach_with_umbrella: *ito@other.example* — 不在（自動応答）",
			":robot_face: *support@vendor.example* — 受付の自動応答（担当者からの返信はまだなし）",
			"まで確認待ち",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := answerMail()
			var lines []string
			for _, r := range m.Recipients {
				lines = append(lines, recipientText(m, r, tt.l))
			}
			text := strings.Join(lines, "\n") + "\n" + stateLine(m, tt.l)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("card lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestCardWaitingLineGoes checks that the card stops saying it waits once
// every recipient has answered.
func TestCardWaitingLineGoes(t *testing.T) {
	m := answerMail()
	l := locale{lang: English}
	if !strings.Contains(stateLine(m, l), "waiting for confirmation") {
		t.Fatalf("stateLine = %q, want the waiting line while some have not answered", stateLine(m, l))
	}
	for i := range m.Recipients {
		m.Recipients[i].Status, m.Recipients[i].Best = track.StatusReplied, track.StatusReplied
	}
	if got := stateLine(m, l); strings.Contains(got, "waiting") {
		t.Errorf("stateLine = %q once everyone replied, want no waiting line", got)
	}
}

func TestReplyTextAnswers(t *testing.T) {
	m := answerMail()
	tests := []struct {
		l    locale
		n    track.Notice
		want string
	}{
		{locale{lang: English}, track.Notice{Recipient: "yamada@partner.example", To: track.StatusReplied, At: m.Recipients[1].StatusAt, Kind: track.NoticeReplied},
			":speech_balloon: *yamada@partner.example*: answered by kato@partner.example at Wed 2 Dec 01:30"},
		{locale{lang: Japanese}, track.Notice{Recipient: "suzuki@partner.example", To: track.StatusReplied, At: m.Recipients[0].StatusAt, Kind: track.NoticeReplied},
			":speech_balloon: *suzuki@partner.example*: 返信あり（12月2日(水) 01:30）"},
		{locale{lang: Japanese}, track.Notice{Recipient: "lee@other.example", To: track.StatusAway, At: m.Recipients[2].StatusAt, Kind: track.NoticeAway},
			":beach_with_umbrella: *lee@other.example*: 不在（12月7日まで・自動応答）"},
		{locale{lang: English}, track.Notice{Recipient: "support@vendor.example", To: track.StatusAutoAck, At: m.Recipients[4].StatusAt, Kind: track.NoticeAway},
			":robot_face: *support@vendor.example*: automatic acknowledgement — no reply from a person yet"},
	}
	for _, tt := range tests {
		if got := replyText(m, tt.n, tt.l); got != tt.want {
			t.Errorf("replyText(%s, %s) = %q, want %q", tt.l.lang, tt.n.Recipient, got, tt.want)
		}
	}
}

// A recipient away by their automatic reply is not nudged until the end
// of the day they gave, or, without a date, until their deadline passes.
func TestCanNudgeAway(t *testing.T) {
	m := answerMail()
	lee, ito := m.Recipients[2], m.Recipients[3] // away until 7 Dec; away without a date
	for _, tc := range []struct {
		name string
		r    track.Recipient
		now  time.Time
		want bool
	}{
		{"before the date", lee, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), false},
		{"on the date", lee, time.Date(2026, 12, 7, 23, 59, 0, 0, time.UTC), false},
		{"the day after", lee, time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC), true},
		{"no date, away", ito, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"no date, deadline passed", func() track.Recipient { r := ito; r.Status = track.StatusNoResponse; return r }(), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"replied", m.Recipients[0], time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), false},
		{"acknowledged by a helpdesk", m.Recipients[4], time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), true},
	} {
		if got := canNudge(m, tc.r, tc.now); got != tc.want {
			t.Errorf("%s: canNudge(%s, %s) = %v, want %v", tc.name, tc.r.Address, tc.now.Format(time.RFC3339), got, tc.want)
		}
	}
}

// A nudge button left on an older card says why no reminder was sent.
func TestNudgeRefusal(t *testing.T) {
	m := answerMail()
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	en, ja := locale{lang: English, now: now}, locale{lang: Japanese, now: now}
	for _, tc := range []struct {
		l    locale
		r    track.Recipient
		want string
	}{
		{en, m.Recipients[0], "suzuki@partner.example has already answered this mail, so I sent no reminder."},
		{ja, m.Recipients[0], "suzuki@partner.example さんからはすでに確認が取れているため、お知らせは送りませんでした。"},
		{en, m.Recipients[2], "lee@other.example is away until Mon 7 Dec (automatic reply), so I sent no reminder."},
		{ja, m.Recipients[2], "lee@other.example さんは12月7日まで不在（自動応答）のため、お知らせは送りませんでした。"},
		{ja, m.Recipients[3], "ito@other.example さんは不在（自動応答）のため、お知らせは送りませんでした。"},
		{en, m.Recipients[4], ""},
	} {
		got, ok := nudgeRefusal(m, tc.r, now, tc.l)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("nudgeRefusal(%s, %s) = %q, %v; want %q", tc.r.Address, tc.l.lang, got, ok, tc.want)
		}
	}
}
