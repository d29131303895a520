package bot

import (
	"testing"
	"time"

	"github.com/mailack/mailack/track"
)

// A message shortcut finds the Message-ID or the subject a Slack message
// quotes, as Slack delivers its text (angle brackets escaped), and takes
// no address link for a Message-ID.
func TestQuotedMail(t *testing.T) {
	for text, want := range map[string][2]string{
		"Message-ID: &lt;abc.123@mx.example.jp&gt; please":                 {"abc.123@mx.example.jp", ""},
		"see <mailto:taro@example.jp|taro@example.jp> &lt;x@y.example&gt;": {"x@y.example", ""},
		"件名: お見積りのご送付\n以上":                                                 {"", "お見積りのご送付"},
		"「契約書のご確認」の件、返事ありました？":                                             {"", "契約書のご確認"},
		"Subject: Q3 numbers": {"", "Q3 numbers"},
		"mail <mailto:taro@example.jp|taro@example.jp> about lunch": {"", ""},
		"nothing here": {"", ""},
	} {
		id, subject := quotedMail(text)
		if id != want[0] || subject != want[1] {
			t.Errorf("quotedMail(%q) = %q, %q; want %q, %q", text, id, subject, want[0], want[1])
		}
	}
}

// What the sender chose in the modal decides which good news reaches the
// card's thread; problems always do, and the problems-only level wins.
func TestWantsReply(t *testing.T) {
	m := track.Mail{MessageID: "m@x", Requested: track.Requested{ReadReceipt: true}, Recipients: []track.Recipient{
		{Address: "a@x", Status: track.StatusRead, Best: track.StatusRead, StatusAt: time.Now()}, {Address: "b@x", Status: track.StatusDelivered, Best: track.StatusDelivered}}}
	done := m.Clone()
	done.Recipients[1].Status, done.Recipients[1].Best = track.StatusRead, track.StatusRead
	for _, tc := range []struct {
		set  UserSettings
		m    track.Mail
		kind track.NoticeKind
		want bool
	}{
		{UserSettings{}, m, track.NoticeStatus, true},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyRead}}}, m, track.NoticeStatus, false},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyRead}}}, m, track.NoticeRead, true},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyAnswered}}}, m, track.NoticeRead, false},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyAnswered}}}, done, track.NoticeRead, true},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyAnswered}}}, m, track.NoticeBounced, true},
		{UserSettings{Notify: []NotifyPref{{"other@x", NotifyRead}}}, m, track.NoticeStatus, true},
		{UserSettings{Level: LevelProblems}, m, track.NoticeRead, false},
		{UserSettings{Level: LevelProblems}, m, track.NoticeNoResponse, true},
		{UserSettings{Level: LevelProblems}, m, track.NoticeReplied, false},
		{UserSettings{Level: LevelProblems}, m, track.NoticeAway, false},
		{UserSettings{}, m, track.NoticeReplied, true},
		{UserSettings{}, m, track.NoticeAway, true},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyRead}}}, m, track.NoticeReplied, true},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyRead}}}, m, track.NoticeAway, false},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyAnswered}}}, m, track.NoticeReplied, false},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyAnswered}}}, done, track.NoticeReplied, true},
		{UserSettings{Notify: []NotifyPref{{"m@x", NotifyAnswered}}}, done, track.NoticeAway, false},
	} {
		if got := wantsReply(tc.set, tc.m, tc.kind); got != tc.want {
			t.Errorf("wantsReply(%+v, %s) = %v, want %v", tc.set.Notify, tc.kind, got, tc.want)
		}
	}
}
