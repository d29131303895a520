package bot

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// hostile are texts from mail that try to break out of where the bot puts
// them: mentions, links, mrkdwn, entities, length, emoji, right-to-left
// text and combining marks.
var hostile = []string{
	"<!channel> <@U123> <http://evil.example|click me>",
	"<!here> please read",
	"*bold* _it_ ~s~ `code` > quote",
	"&lt;already escaped&gt; &amp; more",
	"R&D <review> & sign-off",
	"",
	"   ",
	strings.Repeat("長い件名", 250), // 1,000 characters
	strings.Repeat("x", 5000),   // 5,000 characters
	strings.Repeat("👨‍👩‍👧‍👦", 300),        // family emoji: one grapheme, 11 UTF-16 units
	strings.Repeat("مرحبا بالعالم ", 100), // right to left
	strings.Repeat("e\u0301", 2000),       // e and a combining accent
	strings.Repeat("<@UEVIL>", 400),       // 3,200 characters of mentions
	strings.Repeat("&", 3000),             // each becomes &amp;
	"【ご確認】お見積書送付の件 <!subteam^S123>",       // a Japanese subject with a group mention
}

// hostileMail is a mail whose subject, names and addresses are s, with n
// recipients in every status.
func hostileMail(s string, n int, id string) track.Mail {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	m := track.Mail{
		MessageID: id, Sender: "alice@example.com", Subject: s, SentAt: at, State: track.StateOpen,
		DueAt: at.Add(48 * time.Hour), Requested: track.Requested{ReadReceipt: true},
	}
	statuses := []track.Status{track.StatusPending, track.StatusDelayed, track.StatusRelayed, track.StatusFailed,
		track.StatusDelivered, track.StatusOpenedMachine, track.StatusOpened, track.StatusDeletedUnread,
		track.StatusRead, track.StatusDeclined, track.StatusAcknowledged, track.StatusNoResponse}
	for i := range n {
		addr := fmt.Sprintf("r%d@partner.example", i)
		if i%7 == 3 {
			addr = fmt.Sprintf("%s%d@partner.example", clip(strings.ReplaceAll(s, " ", ""), 200), i)
		}
		st := statuses[i%len(statuses)]
		m.Recipients = append(m.Recipients, track.Recipient{
			Address: addr, Name: s, Status: st, Best: st, StatusAt: at.Add(time.Hour),
			Reason: report.ReasonNetworkError, Confidence: track.ConfidenceLow,
		})
	}
	return m
}

// payload is one thing the bot would send to Slack.
type payload struct {
	name    string
	surface slackfake.Surface
	text    string // top-level text of a message
	blocks  []slack.Block
	view    any // a view, for views.publish and views.open
}

func toJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// check fails t for every breach of Slack's rules in p, and for any
// mention or link that came from the hostile text.
func (p payload) check(t *testing.T) {
	t.Helper()
	var errs []string
	raw := toJSON(t, p.blocks)
	if p.view != nil {
		raw = toJSON(t, p.view)
		var view map[string]any
		if err := json.Unmarshal(raw, &view); err != nil {
			t.Fatal(err)
		}
		if len(raw) > slackfake.MaxViewSize {
			errs = append(errs, fmt.Sprintf("view of %d bytes", len(raw)))
		}
		errs = append(errs, slackfake.CheckView(p.surface, view)...)
	} else {
		var blocks []any
		if err := json.Unmarshal(raw, &blocks); err != nil {
			t.Fatal(err)
		}
		errs = append(errs, slackfake.CheckBlocks(p.surface, blocks)...)
		if strings.TrimSpace(p.text) == "" {
			errs = append(errs, "no top-level text")
		}
		if n := slackfake.Length(p.text); n > slackfake.MaxMessageText {
			errs = append(errs, fmt.Sprintf("text of %d characters", n))
		}
	}
	if len(errs) > 0 {
		t.Errorf("%s: Slack would refuse it: %s", p.name, strings.Join(errs, "; "))
	}
	// Slack parses mentions and links in mrkdwn text objects and in the
	// top-level text; plain_text shows them as written.
	var decoded any
	_ = json.Unmarshal(raw, &decoded) // raw is what toJSON made
	all := p.text + " " + strings.Join(mrkdwnTexts(decoded), " ")
	for _, live := range []string{"<!", "<http", "<@U123>", "<@UEVIL>"} {
		if strings.Contains(all, live) {
			t.Errorf("%s: live %q from mail in what Slack renders", p.name, live)
		}
	}
}

// mrkdwnTexts collects the text of every mrkdwn text object in v.
func mrkdwnTexts(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if v["type"] == "mrkdwn" {
			s, _ := v["text"].(string)
			out = append(out, s)
		}
		for _, x := range v {
			out = append(out, mrkdwnTexts(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, mrkdwnTexts(x)...)
		}
	}
	return out
}

// payloads renders every surface for mails, as the bot sends them.
func payloads(mails []track.Mail, l locale) []payload {
	var out []payload
	nudges := make([][]string, len(mails))
	for i, m := range mails {
		all := map[string]bool{}
		for _, r := range m.Recipients {
			all[r.Address] = true
		}
		nudges[i] = nudgeList(m, all)
		out = append(out, payload{name: "card " + m.MessageID, surface: slackfake.SurfaceMessage, text: cardFallback(m, l), blocks: cardBlocks(m, l, all, WebmailGmail)})
		for _, r := range m.Recipients[:min(len(m.Recipients), 12)] {
			n := track.Notice{MessageID: m.MessageID, Recipient: r.Address, To: r.Status, Reason: r.Reason, At: r.StatusAt}
			out = append(out, payload{name: "reply", surface: slackfake.SurfaceMessage, text: replyText(m, n, l)})
		}
		text, blocks := nudgeMessage("UALICE", m, m.Recipients[0].Address, l)
		out = append(out, payload{name: "nudge", surface: slackfake.SurfaceMessage, text: clipLines(text, maxFallback), blocks: blocks})
		thanks := l.t(msgSeenThanks, "*"+escClip(m.Sender, maxAddrShown)+"*", subjectText(m, l))
		out = append(out, payload{name: "thank-you", surface: slackfake.SurfaceMessage, text: clipLines(thanks, maxFallback), blocks: []slack.Block{section(thanks)}})
		body, modal := followUpView(m, l)
		out = append(out, payload{name: "follow-up modal", surface: slackfake.SurfaceModal, view: modal})
		out = append(out, payload{name: "follow-up in chat", surface: slackfake.SurfaceMessage, text: esc(body), blocks: modal.Blocks.BlockSet})
		for _, msg := range []msg{msgSnoozed, msgMarkedDone, msgStoppedTracking, msgTracking} {
			out = append(out, payload{name: string(msg), surface: slackfake.SurfaceMessage, text: l.t(msg, subjectText(m, l), l.when(m.SentAt))})
		}
	}
	nudgeOf := map[string][]string{}
	for i, m := range mails {
		nudgeOf[m.MessageID] = nudges[i]
	}
	var many []track.Mail
	for i := 0; len(many) < 2*homePageMails+3; i++ {
		m := mails[i%len(mails)]
		m.MessageID = fmt.Sprintf("p%d-%s", i, m.MessageID)
		many = append(many, m)
	}
	for _, tab := range homeTabs {
		for _, welcome := range []bool{false, true} {
			for page, ms := range map[int][]track.Mail{0: mails, 1: many, 2: many} {
				p := homePage{tab: tab, page: page, mails: ms, welcome: welcome, canTrack: true,
					set:     UserSettings{Deadline: 36 * time.Hour, Quiet: QuietHours{Start: 1320, End: 420}, Summary: Summary{On: true, At: 510}},
					nudges:  func(m track.Mail) []string { return nudgeOf[m.MessageID] },
					webmail: func(track.Mail) Webmail { return WebmailOutlook },
					notice:  l.t(msgSnoozed, subjectText(mails[0], l), "x"),
				}
				home := homeBlocks(p, l)
				out = append(out, payload{name: fmt.Sprintf("app home %s page %d welcome %v", tab, page, welcome), surface: slackfake.SurfaceHome, view: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: home}}})
			}
		}
	}
	for _, m := range mails {
		opt, ok := sentOption(SentMail{MessageID: m.MessageID, Subject: m.Subject, SentAt: m.SentAt, To: []string{m.Recipients[0].Address}}, l)
		if !ok {
			opt = nil
		}
		out = append(out, payload{name: "track modal", surface: slackfake.SurfaceModal, view: trackModal(l, opt, m.Subject)})
		out = append(out, payload{name: "undo", surface: slackfake.SurfaceMessage, text: l.t(msgMarkedDone, subjectText(m, l)), blocks: undoBlocks(l.t(msgMarkedDone, subjectText(m, l)), m.MessageID, m.SentAt, l)})
	}
	title := l.t(msgListTitle, l.t(msgFilterOpen))
	keep := func(track.Mail) bool { return true }
	out = append(out, payload{name: "/track list", surface: slackfake.SurfaceMessage, text: esc(title), blocks: listBlocks(title, mails, keep, l)})
	who := mails[0].Recipients[0].Address
	out = append(out, payload{name: "/track who", surface: slackfake.SurfaceMessage, text: esc(who), blocks: listBlocks(clip(who, maxHeader), mails, keep, l)})
	var found []SentMail
	var digest []DigestMail
	for _, m := range mails {
		var to []string
		for _, r := range m.Recipients {
			to = append(to, r.Address)
		}
		found = append(found, SentMail{MessageID: m.MessageID, Subject: m.Subject, SentAt: m.SentAt, To: to})
		digest = append(digest, DigestMail{MessageID: m.MessageID, Subject: m.Subject, SentAt: m.SentAt, Waiting: to})
	}
	out = append(out, payload{name: "/track search", surface: slackfake.SurfaceMessage, text: esc(l.t(msgSearchPick)), blocks: foundBlocks(found, l)})
	for _, redact := range []bool{false, true} {
		groups := []SenderDigest{{Sender: mails[0].Subject + "@example.com", Mails: digest}, {Sender: "bob@example.com", Mails: digest}}
		d := DigestConfig{After: time.Hour, RedactSubjects: redact}
		title := l.t(msgDigestTitle, l.span(d.After))
		name := func(s string) string { return "*" + escClip(s, maxAddrShown) + "*" }
		for i, blocks := range digestMessages(digestSections(groups, d, l, name), title) {
			out = append(out, payload{name: fmt.Sprintf("digest part %d (redact %v)", i+1, redact), surface: slackfake.SurfaceMessage, text: esc(title), blocks: blocks})
		}
	}
	return out
}

// Every payload of every surface passes the strict fake's rules, and no
// mention or link from mail comes alive, for hostile subjects, names and
// addresses and for recipient lists of any size.
func TestPayloadsWithinSlackLimits(t *testing.T) {
	for _, lang := range []Lang{English, Japanese} {
		l := locale{lang: lang, tz: time.UTC}
		for i, s := range hostile {
			for _, n := range []int{1, 2, 25, 300} {
				mails := []track.Mail{hostileMail(s, n, fmt.Sprintf("m%d-%d@example.com", i, n))}
				for j := range 26 { // more than App Home and a list show
					mails = append(mails, hostileMail(s, 1+j%4, fmt.Sprintf("x%d-%d-%d@example.com", i, n, j)))
				}
				for _, p := range payloads(mails, l) {
					p.name = fmt.Sprintf("%s: %s with subject %d and %d recipients", lang, p.name, i, n)
					p.check(t)
				}
			}
		}
	}
}

// The same property over random mixes of hostile pieces, recipient
// counts and Message-ID lengths.
func TestPayloadsRandomHostileMail(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 2026))
	for round := range 20 {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(hostile[rng.IntN(len(hostile))])
		}
		id := fmt.Sprintf("r%d-%s@example.com", round, strings.Repeat("i", rng.IntN(400)))
		mails := []track.Mail{hostileMail(b.String(), 1+rng.IntN(300), id)}
		l := locale{lang: []Lang{English, Japanese}[round%2], tz: time.UTC}
		for _, p := range payloads(mails, l) {
			p.name = fmt.Sprintf("round %d: %s", round, p.name)
			p.check(t)
		}
	}
}

// FuzzCard checks the status card and App Home for any subject and name.
func FuzzCard(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = 1 + abs(n)%300
		mails := []track.Mail{hostileMail(s, n, "f@example.com")}
		for _, p := range payloads(mails, locale{lang: English, tz: time.UTC}) {
			p.check(t)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestClipOnGraphemes(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 4, "abc…"},
		{"👨‍👩‍👧‍👦👨‍👩‍👧‍👦", 13, "👨‍👩‍👧‍👦…"}, // the second family does not fit whole
		{"e\u0301e\u0301", 3, "e\u0301…"}, // e and its combining accent stay together
		{"見積書の件", 3, "見積…"},
	}
	for _, tc := range tests {
		if got := clip(tc.in, tc.n); got != tc.want || textLen(got) > tc.n {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if got := escClip("a<bc", 6); got != "a&lt;…" {
		t.Errorf("escClip(a<bc, 6) = %q, want an escape kept whole", got)
	}
}

// A digest leaves no mail out, however long its lines: a sender with 60
// mails to 60 recipients each gets every line, in as many messages as
// they need.
func TestDigestKeepsEveryLine(t *testing.T) {
	l := locale{lang: English, tz: time.UTC}
	var mails []DigestMail
	for i := range 60 {
		var waiting []string
		for j := range 60 {
			waiting = append(waiting, fmt.Sprintf("someone-with-a-long-address-%d@partner.example", j))
		}
		mails = append(mails, DigestMail{MessageID: fmt.Sprintf("d%d@example.com", i), Subject: fmt.Sprintf("Mail %02d %s", i, strings.Repeat("x", 400)),
			SentAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), Waiting: waiting})
	}
	name := func(s string) string { return "*" + s + "*" }
	msgs := digestMessages(digestSections([]SenderDigest{{Sender: "alice@example.com", Mails: mails}}, DigestConfig{After: time.Hour}, l, name), "title")
	text := ""
	for i, blocks := range msgs {
		payload{name: fmt.Sprintf("digest part %d", i+1), surface: slackfake.SurfaceMessage, text: "title", blocks: blocks}.check(t)
		text += string(toJSON(t, blocks))
	}
	for i := range 60 {
		if !strings.Contains(text, fmt.Sprintf("Mail %02d", i)) {
			t.Errorf("digest lost mail %d", i)
		}
	}
	if len(msgs) < 2 {
		t.Errorf("digest of 60 long lines in %d message(s), want it split", len(msgs))
	}
	if !strings.Contains(text, "+57") {
		t.Error("digest does not count the waiting recipients it does not name")
	}
}
