package bot

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

// Webmail names the web client of a sender's mailbox, for the link that
// opens the mail there.
type Webmail string

// The web clients mailack links to.
const (
	WebmailOutlook Webmail = "outlook" // Outlook on the web (Microsoft 365)
	WebmailGmail   Webmail = "gmail"   // Gmail
)

func (w Webmail) valid() bool { return w == WebmailOutlook || w == WebmailGmail }

// Action IDs of the link buttons. Slack sends block_actions for a button
// with a url too ("your app will still receive an interaction payload and
// will need to send an acknowledgement response",
// https://docs.slack.dev/reference/block-kit/block-elements/button-element),
// so the bot knows them and does nothing more.
const (
	actOpenWebmail = "open_webmail"
	actMailto      = "mailto"
)

// maxURL is the longest url a button takes
// (https://docs.slack.dev/reference/block-kit/block-elements/button-element:
// "url ... Maximum length is 3000 characters").
const maxURL = 3000

// webmail is the web client of m's sender, or "" when unknown.
func (b *Bot) webmail(m track.Mail) Webmail {
	w, _ := b.cfg.webmailOf(m.Sender)
	return w
}

// webmailOf returns the web client of a sender's mailbox: configured for
// the address, else for its "@domain".
func (c Config) webmailOf(sender string) (Webmail, bool) {
	addr := track.NormalizeAddress(sender)
	if w, ok := c.Webmail[addr]; ok {
		return w, true
	}
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		if w, ok := c.Webmail[addr[at:]]; ok {
			return w, true
		}
	}
	return "", false
}

// webmailURL is the address that opens a sent mail in its web client.
//
// Gmail searches by Message-ID with the rfc822msgid: operator ("Search
// operators you can use with Gmail",
// https://support.google.com/mail/answer/7190: "rfc822msgid: Search for
// emails with a particular message-id header"). Outlook on the web has no
// documented link that searches by Message-ID: Microsoft documents links
// to one item only by its Exchange item ID ("The item identifier for an
// Outlook Web App URL is the EWS identifier of the item",
// https://learn.microsoft.com/exchange/client-developer/web-service-reference/webclientreadformquerystring;
// likewise OwaLink, .../web-service-reference/owalink), which EWS or
// Microsoft Graph give and IMAP does not. So its link opens the Sent Items
// folder, where the mail is, and its button says so (btnOpenOutlook).
func webmailURL(w Webmail, messageID string) string {
	switch w {
	case WebmailGmail:
		return "https://mail.google.com/mail/u/0/#search/" + pctEncode("rfc822msgid:"+messageID, "")
	case WebmailOutlook:
		return "https://outlook.office.com/mail/sentitems"
	}
	return ""
}

// mailtoURL is a mailto: URI (RFC 6068) for a courteous follow-up to m:
// to the recipients still waiting (at most maxCardRecipients), "Re:
// subject", the follow-up wording in l's language and In-Reply-To so
// that the reply joins the thread. It is at most limit characters: the
// subject is shortened, then recipients left out, until it fits; "" when
// even one recipient does not.
func mailtoURL(m track.Mail, l locale, limit int) string {
	var to []string
	for _, r := range m.Recipients {
		if r.Status != track.StatusFailed && !m.Conclusive(r) {
			to = append(to, r.Address)
		}
	}
	if len(to) == 0 {
		for _, r := range m.Recipients {
			to = append(to, r.Address)
		}
	}
	to = to[:min(len(to), maxCardRecipients)]
	subj := clip(subject(m, l), maxSubjectShown)
	build := func(keep int, to []string) string {
		s := clip(subj, keep)
		return mailto(to, "Re: "+s, l.t(msgFollowUpBody, s, l.date(m.SentAt)), m.MessageID)
	}
	keep := textLen(subj)
	for ; ; keep /= 2 {
		if u := build(max(keep, 1), to); len(u) <= limit {
			return u
		}
		if keep <= 1 {
			break
		}
	}
	// Even the shortest subject leaves no room for everyone: keep the
	// recipients that fit, in order.
	n := 0
	for n < len(to) && len(build(1, to[:n+1])) <= limit {
		n++
	}
	if n == 0 {
		return ""
	}
	return build(1, to[:n])
}

// mailto builds the URI. Everything but unreserved characters is
// percent-encoded from UTF-8 (RFC 6068 section 2: "characters ... MUST be
// percent-encoded", and section 5: non-ASCII text is "first encoded as
// UTF-8 ... and then percent-encoded"); line breaks in the body are
// CRLF, "%0D%0A" (section 5). In an address '@' stays as it is.
func mailto(to []string, subject, body, inReplyTo string) string {
	var addrs []string
	for _, a := range to {
		addrs = append(addrs, pctEncode(a, "@"))
	}
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
	return "mailto:" + strings.Join(addrs, ",") +
		"?subject=" + pctEncode(subject, "") +
		"&body=" + pctEncode(body, "") +
		"&in-reply-to=" + pctEncode("<"+inReplyTo+">", "")
}

// pctEncode percent-encodes every byte of s but the unreserved characters
// of RFC 3986 section 2.3 and those in keep.
func pctEncode(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// linkButtons are the buttons that leave Slack: the mail in its web
// client, when the sender's is known, and a follow-up in the user's mail
// program.
func linkButtons(m track.Mail, l locale, w Webmail) []slack.BlockElement {
	var out []slack.BlockElement
	if u := webmailURL(w, m.MessageID); u != "" && len(u) <= maxURL {
		label := btnOpenGmail
		if w == WebmailOutlook {
			label = btnOpenOutlook
		}
		b := slack.NewButtonBlockElement(actOpenWebmail, "", plain(clip(l.t(label), maxButton)))
		b.URL = u
		out = append(out, b)
	}
	if u := mailtoURL(m, l, maxURL); u != "" {
		b := slack.NewButtonBlockElement(actMailto, "", plain(clip(l.t(btnMailto), maxButton)))
		b.URL = u
		out = append(out, b)
	}
	return out
}

// messageIDLine shows the Message-ID small, to copy into /track show or
// stop.
func messageIDLine(m track.Mail) slack.Block {
	id := escClip(m.MessageID, maxSectionText-40)
	if !strings.Contains(id, "`") {
		id = "`" + id + "`"
	}
	return slack.NewContextBlock("", mrkdwn("Message-ID: "+id))
}
