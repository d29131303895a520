package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func blocksText(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func testMail() track.Mail {
	at := time.Date(2025, 6, 2, 5, 3, 0, 0, time.UTC)
	m := track.Mail{
		MessageID: "m1@example.com", Sender: "alice@example.com", Subject: "Figures <@U123> & <!channel>",
		SentAt: at, State: track.StateOpen, DueAt: at.Add(48 * time.Hour),
		Requested: track.Requested{ReadReceipt: true},
		Recipients: []track.Recipient{
			{Address: "a@x.example", Name: "Ann <Boss>", Status: track.StatusRead, StatusAt: at.Add(time.Hour)},
			{Address: "b@x.example", Status: track.StatusFailed, Reason: report.ReasonMailboxFull},
			{Address: "c@x.example", Status: track.StatusRelayed, StatusAt: at},
			{Address: "d@x.example", Status: track.StatusOpenedMachine, StatusAt: at},
			{Address: "e@x.example", Status: track.StatusDeletedUnread, StatusAt: at},
			{Address: "f@x.example", Status: track.StatusDelayed, Reason: report.ReasonNetworkError},
			{Address: "g@x.example", Status: track.StatusNoResponse, StatusAt: at.Add(48 * time.Hour)},
			{Address: "h@x.example", Status: track.StatusDelivered, StatusAt: at, Confidence: track.ConfidenceLow},
			{Address: "i@x.example", Status: track.StatusDeclined, StatusAt: at},
			{Address: "j@x.example", Status: track.StatusOpened, StatusAt: at},
		},
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		r.Best = r.Status
		if r.Status == track.StatusNoResponse {
			r.Best = track.StatusDelivered
		}
	}
	return m
}

func TestCardBlocks(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	m := testMail()
	en := blocksText(t, cardBlocks(m, locale{lang: English, tz: time.UTC}, map[string]bool{"g@x.example": true, "b@x.example": true, "a@x.example": true}, ""))
	for _, w := range []string{
		// The mail is from 2025, so its dates say the year.
		"Sent Mon 2 Jun 2025 05:03", "waiting for confirmation until Wed 4 Jun 2025 05:03",
		"*Ann &lt;Boss&gt;* &lt;a@x.example&gt; — read at Mon 2 Jun 2025 06:03",
		`bounced (mailbox full)\n_Try again later, or call them._`,
		"relayed (handed to a server that reports no further)",
		"opened — possibly by a mail proxy", "deleted unread (a weak signal)",
		"delivery delayed, still being retried (their server could not be reached)",
		"no response by the deadline (Wed 4 Jun 2025 05:03)", "matched by subject only", "declined to send a read receipt",
		"opened by a person",
		`"value":"m1@example.com g@x.example"`, `"block_id":"m1@example.com"`, `"action_id":"snooze_date"`,
	} {
		if !strings.Contains(en, w) {
			t.Errorf("English card lacks %q:\n%s", w, en)
		}
	}
	// The header is plain text, so no mention can be made there; in mrkdwn
	// the subject and names are escaped.
	if strings.Contains(en, "*<@U123>") || strings.Contains(en, "Ann <Boss>*") {
		t.Errorf("unescaped text from mail:\n%s", en)
	}
	// A nudge helps neither a bounce nor an answered recipient.
	for _, addr := range []string{"b@x.example", "a@x.example"} {
		if strings.Contains(en, `"value":"m1@example.com `+addr+`"`) {
			t.Errorf("nudge offered for %s", addr)
		}
	}
	ja := blocksText(t, cardBlocks(m, locale{lang: Japanese, tz: tokyo}, nil, ""))
	for _, w := range []string{"送信日時: 2025年6月2日(月) 14:03", "2025年6月4日(水) 14:03 まで確認待ち", "開封済み（2025年6月2日(月) 15:03）",
		"不達（メールボックスが満杯）", "開封あり・自動読み込みの可能性あり（2025年6月2日(月) 14:03）", "未開封のまま削除された可能性",
		"中継済み", "配信遅延・再試行中（相手のサーバーに接続できない）", "期限（2025年6月4日(水) 14:03）までに確認なし"} {
		if !strings.Contains(ja, w) {
			t.Errorf("Japanese card lacks %q:\n%s", w, ja)
		}
	}
}

func TestCardLimits(t *testing.T) {
	m := testMail()
	m.Subject = strings.Repeat("長", 300)
	for i := range 40 {
		m.Recipients = append(m.Recipients, track.Recipient{Address: "r" + string(rune('a'+i%26)) + "@y.example", Status: track.StatusPending})
	}
	blocks := cardBlocks(m, locale{lang: English}, nil, "")
	if len(blocks) > 50 {
		t.Errorf("card has %d blocks, Slack allows 50", len(blocks))
	}
	text := blocksText(t, blocks)
	if !strings.Contains(text, "…and 30 more recipients") {
		t.Errorf("card does not count the recipients left out:\n%s", text)
	}
	h := blocks[0].(*slack.HeaderBlock)
	if n := len([]rune(h.Text.Text)); n > maxHeader {
		t.Errorf("header has %d characters, Slack allows %d", n, maxHeader)
	}
	m.MessageID = strings.Repeat("x", 300) + "@example.com"
	if text := blocksText(t, cardBlocks(m, locale{lang: English}, nil, "")); strings.Contains(text, "snooze_date") {
		t.Error("a Message-ID too long for a block_id still gets a date picker")
	}
	m.State = track.StateDone
	m.MessageID = "closed@example.com"
	text = blocksText(t, cardBlocks(m, locale{lang: English}, nil, ""))
	if strings.Contains(text, `"action_id":"done"`) || strings.Contains(text, "snooze") || !strings.Contains(text, `"action_id":"reopen"`) || !strings.Contains(text, "done — no longer tracked") {
		t.Errorf("closed mail's card has no Reopen or still has the open mail's buttons:\n%s", text)
	}
}

func TestReplyText(t *testing.T) {
	m := testMail()
	n := track.Notice{Recipient: "b@x.example", To: track.StatusFailed, Reason: report.ReasonUserUnknown, Kind: track.NoticeBounced}
	got := replyText(m, n, locale{lang: English})
	if want := ":warning: *b@x.example*: bounced (no such address) Check the address for a typo."; got != want {
		t.Errorf("replyText = %q, want %q", got, want)
	}
}
