package bot

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
)

func linkMail() track.Mail {
	return track.Mail{
		MessageID: "abc+1@mx.example.jp", Sender: "hanako@example.jp", Subject: "見積書 & 契約 #2 100%",
		SentAt: time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC),
		Recipients: []track.Recipient{
			{Address: "a+b@partner.example", Status: track.StatusRead},
			{Address: "c@partner.example", Status: track.StatusDelivered},
			{Address: "gone@partner.example", Status: track.StatusFailed},
		},
	}
}

// The follow-up link is a mailto: URI as RFC 6068 writes it: to the
// recipients still waiting, every reserved or non-ASCII byte
// percent-encoded, CRLF line breaks, and it decodes back to the subject
// and wording in the user's language.
func TestMailtoURL(t *testing.T) {
	m := linkMail()
	m.Recipients[0].Status = track.StatusPending
	ja := locale{lang: Japanese, tz: time.UTC, now: m.SentAt}
	u := mailtoURL(m, ja, maxURL)
	if !strings.HasPrefix(u, "mailto:a%2Bb@partner.example,c@partner.example?") {
		t.Fatalf("mailto = %s, want the two waiting recipients first", u)
	}
	for _, bad := range []string{" ", "+", "&body=\n", "#", "見"} {
		if strings.Contains(strings.SplitN(u, "?", 2)[1], bad) && bad != "&body=\n" {
			t.Errorf("mailto holds %q unencoded: %s", bad, u)
		}
	}
	q, err := url.ParseQuery(strings.SplitN(u, "?", 2)[1])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := q.Get("subject"), "Re: 見積書 & 契約 #2 100%"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	body := q.Get("body")
	if !strings.Contains(body, "「見積書 & 契約 #2 100%」") || !strings.Contains(body, "\r\n") || strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
		t.Errorf("body = %q, want the Japanese follow-up with CRLF line breaks", body)
	}
	if got := q.Get("in-reply-to"); got != "<abc+1@mx.example.jp>" {
		t.Errorf("in-reply-to = %q", got)
	}
	if en := mailtoURL(m, locale{lang: English, tz: time.UTC}, maxURL); !strings.Contains(en, "follow%20up") {
		t.Errorf("English mailto = %s, want the English wording", en)
	}
}

// However long the subject and however many recipients, the link fits a
// button's url; when nothing fits there is no link.
func TestMailtoURLBounded(t *testing.T) {
	m := linkMail()
	m.Subject = strings.Repeat("長い件名", 400)
	for i := range 200 {
		m.Recipients = append(m.Recipients, track.Recipient{Address: strings.Repeat("x", 40) + string(rune('a'+i%26)) + "@partner.example"})
	}
	l := locale{lang: Japanese, tz: time.UTC}
	u := mailtoURL(m, l, maxURL)
	if u == "" || len(u) > maxURL {
		t.Fatalf("mailto of %d characters, want 1 to %d", len(u), maxURL)
	}
	if !strings.Contains(u, "subject=Re%3A%20") || !strings.Contains(u, "c@partner.example") {
		t.Errorf("bounded mailto lost its subject or first recipient: %.200s", u)
	}
	if got := mailtoURL(m, l, 60); got != "" {
		t.Errorf("mailto within 60 characters = %q, want none", got)
	}
}

// The web client link is known only for configured senders; Gmail's
// searches by Message-ID.
func TestWebmailLinks(t *testing.T) {
	cfg := Config{Webmail: map[string]Webmail{"@example.jp": WebmailGmail, "boss@example.jp": WebmailOutlook}}
	for sender, want := range map[string]Webmail{"hanako@example.jp": WebmailGmail, "Boss@Example.JP": WebmailOutlook, "x@other.example": ""} {
		if got, _ := cfg.webmailOf(sender); got != want {
			t.Errorf("webmailOf(%s) = %q, want %q", sender, got, want)
		}
	}
	if got, want := webmailURL(WebmailGmail, "abc+1@mx.example.jp"), "https://mail.google.com/mail/u/0/#search/rfc822msgid%3Aabc%2B1%40mx.example.jp"; got != want {
		t.Errorf("gmail link = %s, want %s", got, want)
	}
	m := linkMail()
	l := locale{lang: English, tz: time.UTC}
	text := blocksText(t, cardBlocks(m, l, nil, WebmailGmail))
	for _, want := range []string{`"action_id":"open_webmail"`, "Open in Gmail", `"url":"mailto:`, "Message-ID: `abc+1@mx.example.jp`"} {
		if !strings.Contains(text, want) {
			t.Errorf("card lacks %s:\n%s", want, text)
		}
	}
	if text := blocksText(t, cardBlocks(m, l, nil, "")); strings.Contains(text, "open_webmail") {
		t.Error("card links to a web client for a sender whose provider is unknown")
	}
	// Outlook on the web cannot be opened on one mail by Message-ID: the
	// button opens Sent Items and says so.
	for _, tc := range []struct {
		l    locale
		want string
	}{{l, "Open Sent Items in Outlook"}, {locale{lang: Japanese, tz: time.UTC}, "Outlookで送信済みアイテムを開く"}} {
		text := blocksText(t, cardBlocks(m, tc.l, nil, WebmailOutlook))
		if !strings.Contains(text, `"text":"`+tc.want+`"`) || !strings.Contains(text, `"url":"https://outlook.office.com/mail/sentitems"`) {
			t.Errorf("%s card lacks the %q button to Sent Items:\n%s", tc.l.lang, tc.want, text)
		}
	}
	m.MessageID = "x`<!channel>@evil.example"
	if text := blocksText(t, cardBlocks(m, l, nil, "")); !strings.Contains(text, `"Message-ID: x`+"`"+`\u0026lt;!channel\u0026gt;@evil.example"`) {
		t.Errorf("hostile Message-ID shown unescaped:\n%s", text)
	}
}

// A page of App Home whose buttons would pass a view's limits folds each
// mail's actions into an overflow menu; a small page keeps its buttons.
func TestHomeOverflowWhenShort(t *testing.T) {
	l := locale{lang: English, tz: time.UTC}
	var mails []track.Mail
	for i := range homePageMails {
		m := linkMail()
		m.MessageID = strings.Repeat("x", 100) + string(rune('a'+i)) + "@example.com"
		m.Subject = strings.Repeat("長い件名", 60)
		for j := range 40 {
			m.Recipients = append(m.Recipients, track.Recipient{Name: strings.Repeat("株式会社", 20), Address: strings.Repeat("r", 60) + string(rune('a'+j%26)) + "@partner.example"})
		}
		mails = append(mails, m)
	}
	nudges := func(m track.Mail) []string {
		return nudgeList(m, map[string]bool{m.Recipients[3].Address: true, m.Recipients[4].Address: true})
	}
	p := homePage{tab: tabWaiting, mails: mails, nudges: nudges, webmail: func(track.Mail) Webmail { return WebmailGmail }}
	blocks := homeBlocks(p, l)
	text := blocksText(t, blocks)
	if !strings.Contains(text, `"type":"overflow"`) || strings.Contains(text, `"action_id":"snooze_1d"`) {
		t.Errorf("a full page of long mails kept its buttons")
	}
	if len(blocks) > maxViewBlocks || jsonSize(blocks) > homeBudget {
		t.Errorf("home of %d blocks and %d bytes", len(blocks), jsonSize(blocks))
	}
	if !strings.Contains(text, `"url":"https://mail.google.com/`) {
		t.Errorf("the overflow menus lost the link to Gmail although it fits")
	}
	p.mails = mails[:2]
	if text := blocksText(t, homeBlocks(p, l)); strings.Contains(text, `"type":"overflow"`) || !strings.Contains(text, `"action_id":"snooze_1d"`) {
		t.Errorf("a short page lost its buttons")
	}
}
