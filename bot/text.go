package bot

import (
	"strings"
	"unicode/utf16"

	"github.com/rivo/uniseg"
	"github.com/slack-go/slack"
)

// Block Kit limits the bot keeps within, from Slack's reference pages
// (https://docs.slack.dev/reference/block-kit/blocks and
// .../block-elements). Lengths are counted in UTF-16 code units (textLen),
// the strictest reading of Slack's "characters".
const (
	maxSectionText  = 3000 // section text
	maxHeader       = 150  // header text
	maxBlockID      = 255  // block_id
	maxActionID     = 255  // action_id
	maxButton       = 75   // button text
	maxButtonValue  = 2000 // button value
	maxModalTitle   = 24   // modal title and close button
	maxMessageBlock = 50   // blocks of a message
	maxViewBlocks   = 100  // blocks of a view
	maxContextItems = 10   // elements of a context block
	// maxBlocksText is the most text the bot puts in one message's blocks:
	// Slack refuses a message with a little over 13,000 characters of
	// block text with msg_blocks_too_long, although no block is over its
	// own limit (slackapi/bolt-js#2509).
	maxBlocksText = 12000
	// maxFallback bounds the top-level text of a message: Slack advises
	// keeping it under 4,000 characters
	// (https://docs.slack.dev/reference/methods/chat.postMessage#truncating).
	maxFallback = 3000
)

// Budgets for text from mail, in characters after escaping, so that any
// number of them fits the block they go in.
const (
	maxSubjectShown = 200 // a subject in a list, summary or sentence
	maxNameShown    = 80  // a recipient's display name
	maxAddrShown    = 120 // an e-mail address
)

// textLen counts s as Slack's limits do (UTF-16 code units).
func textLen(s string) int { return len(utf16.Encode([]rune(s))) }

// ellipsis ends text that was cut short.
const ellipsis = "…"

// clip cuts s to at most n characters (textLen), on a grapheme cluster
// boundary so that no emoji or accented letter is broken, ending in an
// ellipsis when it cut.
func clip(s string, n int) string {
	if textLen(s) <= n {
		return s
	}
	return clipWith(s, n, func(g string) string { return g })
}

// escClip escapes text from outside for mrkdwn (esc) and cuts the result
// to at most n characters, never inside an escape.
func escClip(s string, n int) string {
	e := esc(s)
	if textLen(e) <= n {
		return e
	}
	return clipWith(s, n, esc)
}

// clipWith keeps the grapheme clusters of s, each as conv makes it, while
// they and an ellipsis fit in n characters.
func clipWith(s string, n int, conv func(string) string) string {
	var b strings.Builder
	used, room := 0, n-textLen(ellipsis)
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		part := conv(g.Str())
		l := textLen(part)
		if used+l > room {
			break
		}
		b.WriteString(part)
		used += l
	}
	return b.String() + ellipsis
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes text from outside (subjects, names, addresses, what a user
// typed) for mrkdwn and for the top-level text of messages, which Slack
// also parses: "&", "<" and ">" become entities, so that the text cannot
// mention anyone (<!channel>, <@U…>) or make a link
// (https://docs.slack.dev/messaging/formatting-message-text#escaping).
func esc(s string) string { return mrkdwnEscaper.Replace(s) }

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// section is a section of mrkdwn text, cut to the section's limit.
func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(clipLines(text, maxSectionText)), nil, nil)
}

// clipLines cuts mrkdwn text made of lines to at most n characters,
// dropping whole lines from the end (each line is escaped already, so
// cutting inside one could break an escape or a mention).
func clipLines(text string, n int) string {
	if textLen(text) <= n {
		return text
	}
	lines := strings.Split(text, "\n")
	for len(lines) > 1 {
		lines = lines[:len(lines)-1]
		if s := strings.Join(lines, "\n") + "\n" + ellipsis; textLen(s) <= n {
			return s
		}
	}
	// One line too long on its own: it holds no escapes to break only if
	// the caller escaped it with escClip, which bounds it; cut it as plain.
	return clip(lines[0], n)
}

// chunks splits lines into groups whose text (joined by newlines) fits n
// characters; a line longer than n on its own is cut.
func chunks(lines []string, n int) []string {
	var out []string
	cur := ""
	for _, l := range lines {
		if textLen(l) > n {
			l = clipLines(l, n)
		}
		switch {
		case cur == "":
			cur = l
		case textLen(cur)+1+textLen(l) <= n:
			cur += "\n" + l
		default:
			out = append(out, cur)
			cur = l
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// blocksTextLen is the text of blocks, as Slack counts it against
// maxBlocksText.
func blocksTextLen(blocks []slack.Block) int {
	n := 0
	add := func(t *slack.TextBlockObject) {
		if t != nil {
			n += textLen(t.Text)
		}
	}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			add(b.Text)
			for _, f := range b.Fields {
				add(f)
			}
			if b.Accessory != nil && b.Accessory.ButtonElement != nil {
				add(b.Accessory.ButtonElement.Text)
			}
		case *slack.HeaderBlock:
			add(b.Text)
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					add(t)
				}
			}
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				switch e := e.(type) {
				case *slack.ButtonBlockElement:
					add(e.Text)
				case *slack.DatePickerBlockElement:
					add(e.Placeholder)
				}
			}
		}
	}
	return n
}
