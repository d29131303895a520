package demo

import (
	"encoding/base64"
	"fmt"
	"mime"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// The demo's mail, as the sender's Outlook and the recipients' systems
// would write it. Times are filled in when the step runs.

const demoDomain = "demo.example"

// The demo workspace: Tanaka, whose day it is; his colleague Sasaki; and
// Bob, a partner who shares a Slack Connect channel and so is found by
// his address. channel is where the morning digest goes.
var (
	tanaka = demoUser{ID: "UTANAKA", Name: "Ichiro Tanaka", Email: "tanaka@" + demoDomain, TZ: "Asia/Tokyo"}
	sasaki = demoUser{ID: "USASAKI", Name: "Yuki Sasaki", Email: "sasaki@" + demoDomain, TZ: "Asia/Tokyo"}
	bob    = demoUser{ID: "UBOB", Name: "Bob Jones", Email: "bob@fabrikam.example", Locale: "en-US", TZ: "America/New_York"}
)

const channel = "CSALES"

// workspace is the demo's Slack members, Tanaka and Sasaki speaking the
// demo's language.
func workspace(lang string) []demoUser {
	locale := map[string]string{"en": "en-US", "ja": "ja-JP"}[lang]
	t, s := tanaka, sasaki
	t.Locale, s.Locale = locale, locale
	if lang == "ja" {
		t.Name, s.Name = "田中 一郎", "佐々木 由紀"
	}
	return []demoUser{t, s, bob}
}

// jis encodes s as ISO-2022-JP, as Japanese mail clients still write mail.
func jis(s string) string {
	b, err := japanese.ISO2022JP.NewEncoder().String(s)
	if err != nil {
		return s
	}
	return b
}

// jisWord is an RFC 2047 encoded word in ISO-2022-JP.
func jisWord(s string) string {
	return "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString([]byte(jis(s))) + "?="
}

func utf8Word(s string) string { return mime.BEncoding.Encode("UTF-8", s) }

// sentMail is one mail the demo user sends.
type sentMail struct {
	id, subject string
	to          []string // "Name <addr>"
	japanese    bool
	body        string
	noReceipt   bool // sent without asking for a read receipt: not tracked until /track
}

func (m sentMail) raw(at time.Time) string {
	subj := utf8Word(m.subject)
	ct := "text/plain; charset=UTF-8"
	body := m.body
	if m.japanese {
		subj, ct, body = jisWord(m.subject), "text/plain; charset=ISO-2022-JP", jis(m.body)
	}
	return "From: " + jisWord("田中 一郎") + " <tanaka@" + demoDomain + ">\r\n" +
		"To: " + strings.Join(m.to, ", ") + "\r\n" +
		"Subject: " + subj + "\r\n" +
		"Date: " + at.Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <" + m.id + ">\r\n" +
		receipt(m.noReceipt) +
		"MIME-Version: 1.0\r\nContent-Type: " + ct + "\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
}

// receipt is the header asking for a read receipt, as Outlook writes it.
func receipt(none bool) string {
	if none {
		return ""
	}
	return "Disposition-Notification-To: tanaka@" + demoDomain + "\r\n"
}

var (
	quote    = mails[0]
	proposal = mails[1]
	meeting  = mails[2]
	contract = mails[3]
	budget   = mails[4]
	minutes  = mails[5]
	dates    = mails[6]
)

var mails = []sentMail{
	{id: "quote-2026-1124@demo.example", subject: "見積書の件", japanese: true,
		to:   []string{jisWord("佐藤 花子") + " <sato@partner.example.jp>", jisWord("鈴木 次郎") + " <suzuki@partner.example.jp>"},
		body: "佐藤様\n\nお世話になっております。見積書を添付いたします。\nご確認のほど、よろしくお願いいたします。\n\n田中"},
	{id: "proposal-q1@demo.example", subject: "Proposal for Q1", to: []string{"Bob Jones <bob@fabrikam.example>"},
		body: "Hi Bob,\n\nPlease find our proposal for Q1 attached.\n\nBest regards,\nIchiro Tanaka"},
	{id: "meeting-1201@demo.example", subject: "打ち合わせ日程のご相談", japanese: true, to: []string{"nosuch@partner.example.jp"},
		body: "ご担当者様\n\n12月1日の打ち合わせ日程についてご相談させてください。\n\n田中"},
	{id: "contract-review@demo.example", subject: "契約書のご確認のお願い", japanese: true, to: []string{jisWord("山田 太郎") + " <yamada@slow.example.co.jp>"},
		body: "山田様\n\n契約書の最終版をお送りします。ご確認ください。\n\n田中"},
	{id: "budget-fy27@demo.example", subject: "来期予算案のご確認", japanese: true, to: []string{jisWord("佐々木 由紀") + " <sasaki@demo.example>"},
		body: "佐々木さん\n\n来期の予算案を添付します。ご確認をお願いします。\n\n田中"},
	{id: "minutes-1124@demo.example", subject: "定例会議の議事録", japanese: true, to: []string{jisWord("佐藤 花子") + " <sato@partner.example.jp>"}, noReceipt: true,
		body: "佐藤様\n\n本日の定例会議の議事録をお送りいたします。\n\n田中"},
	{id: "delivery-dates@demo.example", subject: "納期のご相談", japanese: true,
		to:   []string{jisWord("加藤 誠") + " <kato@shoji.example.co.jp>", jisWord("伊藤 恵") + " <ito@shoji.example.co.jp>"},
		body: "加藤様、伊藤様\n\n次回ロットの納期についてご相談させてください。\n\n田中"},
}

// reply is a reply as Outlook writes it: 「RE: …」 with In-Reply-To,
// References and Thread-Index, text in ISO-2022-JP.
func reply(orig sentMail, from, name, text string, at time.Time, n int) string {
	return "From: " + name + " <" + from + ">\r\n" +
		"To: " + jisWord("田中 一郎") + " <tanaka@" + demoDomain + ">\r\n" +
		"Subject: " + jisWord("RE: "+orig.subject) + "\r\n" +
		"Date: " + at.Format(time.RFC1123Z) + "\r\n" +
		fmt.Sprintf("Message-ID: <reply-%d@%s>\r\n", n, domainOf(from)) +
		"In-Reply-To: <" + orig.id + ">\r\nReferences: <" + orig.id + ">\r\n" +
		"Thread-Index: AQHbXkE5c2VuZGVyLXJlcGx5\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
		strings.ReplaceAll(jis(text), "\n", "\r\n") + "\r\n"
}

// away is an out-of-office notice as Japanese groupware sends it:
// Precedence: bulk and no Auto-Submitted field.
func away(orig sentMail, from, name, text string, at time.Time, n int) string {
	return "From: " + name + " <" + from + ">\r\n" +
		"To: tanaka@" + demoDomain + "\r\n" +
		"Subject: " + jisWord("不在通知") + "\r\n" +
		"Date: " + at.Format(time.RFC1123Z) + "\r\n" +
		fmt.Sprintf("Message-ID: <away-%d@gw.%s>\r\n", n, domainOf(from)) +
		"In-Reply-To: <" + orig.id + ">\r\nPrecedence: bulk\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
		strings.ReplaceAll(jis(text), "\n", "\r\n") + "\r\n"
}

// dsn is a delivery status notification from the recipient's side.
func dsn(origID, rcpt, action, status, diag string, at time.Time, n int) string {
	subject := map[string]string{"failed": "Undelivered Mail Returned to Sender", "delayed": "Delayed Mail (still being retried)",
		"delivered": "Delivered: Proposal for Q1"}[action]
	extra := ""
	if diag != "" {
		extra = "Diagnostic-Code: smtp; " + diag + "\r\n"
	}
	if action == "delayed" {
		extra += "Will-Retry-Until: " + at.Add(72*time.Hour).Format(time.RFC1123Z) + "\r\n"
	}
	return "From: MAILER-DAEMON@mx." + domainOf(rcpt) + " (Mail Delivery System)\r\n" +
		"To: tanaka@" + demoDomain + "\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + at.Format(time.RFC1123Z) + "\r\n" +
		fmt.Sprintf("Message-ID: <dsn-%d@mx.%s>\r\n", n, domainOf(rcpt)) +
		"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"DSN\"\r\n\r\n" +
		"--DSN\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx." + domainOf(rcpt) + ".\r\n" +
		"--DSN\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx." + domainOf(rcpt) + "\r\n\r\n" +
		"Final-Recipient: rfc822; " + rcpt + "\r\nAction: " + action + "\r\nStatus: " + status + "\r\n" + extra +
		"\r\n--DSN\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		"From: tanaka@" + demoDomain + "\r\nTo: " + rcpt + "\r\nMessage-ID: <" + origID + ">\r\n" +
		"--DSN--\r\n"
}

// mdn is a read receipt as Outlook sends it; a Japanese one has its
// subject and text in ISO-2022-JP.
func mdn(origID, from, name, disposition string, japaneseText bool, at time.Time, n int) string {
	subject, text := "Read: Proposal for Q1", "Your message was read on "+at.Format("2006/01/02 15:04")+"."
	if japaneseText {
		subject, text = jisWord("開封済み: 見積書の件"), jis("メッセージは "+at.Format("2006/01/02 15:04")+" に開封されました。")
	}
	if disposition == "denied" {
		subject, text = "Not read: "+subject, "The recipient declined to send a read receipt."
	}
	return "From: " + name + " <" + from + ">\r\n" +
		"To: tanaka@" + demoDomain + "\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + at.Format(time.RFC1123Z) + "\r\n" +
		fmt.Sprintf("Message-ID: <mdn-%d@%s>\r\n", n, domainOf(from)) +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=disposition-notification; boundary=\"MDN\"\r\n\r\n" +
		"--MDN\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n" + text + "\r\n" +
		"--MDN\r\nContent-Type: message/disposition-notification\r\n\r\n" +
		"Reporting-UA: Microsoft Outlook 16.0\r\nFinal-Recipient: rfc822; " + from + "\r\n" +
		"Original-Message-ID: <" + origID + ">\r\n" +
		"Disposition: manual-action/MDN-sent-manually; " + disposition + "\r\n" +
		"--MDN--\r\n"
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}
