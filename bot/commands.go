package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

const (
	// maxListed is how many mails /track list shows.
	maxListed = 20
	// maxFound is how many Sent-folder matches /track offers.
	maxFound = 10
)

// command is one /track subcommand. The help in both languages is made
// from this table.
type command struct {
	name  string
	usage string // arguments after the name
	desc  msg
	admin bool // only for Config.Admins
	run   func(b *Bot, ctx context.Context, r *request, args []string)
}

// commandTable lists the subcommands; text that names none is a
// Message-ID or words to start tracking.
func commandTable() []command {
	return []command{
		{name: "help", desc: cmdHelp, run: (*Bot).cmdHelp},
		{name: "list", usage: "[pending|problems|all]", desc: cmdList, run: (*Bot).cmdList},
		{name: "show", usage: "<Message-ID>", desc: cmdShow, run: (*Bot).cmdShow},
		{name: "stop", usage: "<Message-ID>", desc: cmdStop, run: (*Bot).cmdStop},
		{name: "reopen", usage: "<Message-ID>", desc: cmdReopen, run: (*Bot).cmdReopen},
		{name: "snooze", usage: "<Message-ID> 1d|3d|YYYY-MM-DD", desc: cmdSnooze, run: (*Bot).cmdSnooze},
		{name: "settings", usage: "[lang en|ja|auto] [notify all|problems] [deadline 2d|36h|default|off] [quiet 22:00-07:00|off] [summary 08:30|off]", desc: cmdSettings, run: (*Bot).cmdSettings},
		{name: "who", usage: "<address>", desc: cmdWho, admin: true, run: (*Bot).cmdWho},
	}
}

// trackUsage is the usage line of starting to track, which has no name.
const trackUsage = "<Message-ID> | <words of the subject>"

// command handles a slash command after its ack.
func (b *Bot) command(ctx context.Context, sc slack.SlashCommand) {
	b.spawn(ctx, "command", func(ctx context.Context) {
		r := b.newRequest(ctx, sc.UserID, sc.ChannelID, sc.ResponseURL, sc.TriggerID)
		text := unescapeCommand(sc.Text)
		args := strings.Fields(text)
		if len(args) == 0 {
			b.cmdHelp(ctx, r, nil)
			return
		}
		for _, c := range commandTable() {
			if !strings.EqualFold(args[0], c.name) {
				continue
			}
			if c.admin && !b.admins[r.user] {
				b.respond(ctx, r, r.loc.t(msgAdminOnly))
				return
			}
			c.run(b, ctx, r, args[1:])
			return
		}
		b.startTracking(ctx, r, text)
	})
}

func (b *Bot) newRequest(ctx context.Context, user, channel, responseURL, triggerID string) *request {
	l, set := b.localeOf(ctx, user)
	return &request{user: user, channel: channel, responseURL: responseURL, triggerID: triggerID, loc: l, set: set}
}

// unescapeCommand undoes the HTML escaping Slack applies to command text.
func unescapeCommand(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.TrimSpace(s))
}

func (b *Bot) cmdHelp(ctx context.Context, r *request, _ []string) {
	b.respond(ctx, r, r.loc.t(msgHelpTitle), section(b.helpText(r)))
}

// helpText lists the commands r's author may use, in their language.
func (b *Bot) helpText(r *request) string {
	lines := []string{r.loc.t(msgHelpTitle)}
	for _, c := range commandTable() {
		if c.admin && !b.admins[r.user] {
			continue
		}
		lines = append(lines, "`/track "+strings.TrimSpace(c.name+" "+c.usage)+"` — "+r.loc.t(c.desc))
	}
	lines = append(lines, "`/track "+trackUsage+"` — "+r.loc.t(cmdTrack))
	return esc(strings.Join(lines, "\n"))
}

// usage answers a command given wrong arguments with its usage and the help.
func (b *Bot) usage(ctx context.Context, r *request, name string) {
	for _, c := range commandTable() {
		if c.name == name {
			text := r.loc.t(msgUsage, "/track "+c.name+" "+c.usage)
			b.respond(ctx, r, esc(text), section(esc(text)+"\n\n"+b.helpText(r)))
		}
	}
}

// listFilters are the filters of /track list, each with its title.
var listFilters = map[string]struct {
	title  msg
	closed bool
	keep   func(track.Mail) bool
}{
	"":         {msgFilterOpen, false, func(track.Mail) bool { return true }},
	"pending":  {msgFilterPending, false, waiting},
	"problems": {msgFilterProblems, false, troubled},
	"all":      {msgFilterAll, true, func(track.Mail) bool { return true }},
}

// waiting reports whether a recipient of m has not answered yet.
func waiting(m track.Mail) bool {
	for _, r := range m.Recipients {
		if r.Status != track.StatusFailed && !m.Conclusive(r) {
			return true
		}
	}
	return false
}

// troubled reports whether a recipient of m bounced, is delayed or did
// not answer in time.
func troubled(m track.Mail) bool {
	for _, r := range m.Recipients {
		if r.Status == track.StatusFailed || r.Status == track.StatusDelayed || r.Status == track.StatusNoResponse {
			return true
		}
	}
	return false
}

func (b *Bot) cmdList(ctx context.Context, r *request, args []string) {
	name := strings.ToLower(strings.Join(args, " "))
	f, ok := listFilters[name]
	if !ok {
		b.usage(ctx, r, "list")
		return
	}
	mails, err := b.ownMails(ctx, r.user, f.closed)
	if err != nil {
		b.trouble(ctx, r, "list", err)
		return
	}
	b.showList(ctx, r, r.loc.t(msgListTitle, r.loc.t(f.title)), mails, f.keep)
}

// showList answers with the mails that pass keep, newest first.
func (b *Bot) showList(ctx context.Context, r *request, title string, mails []track.Mail, keep func(track.Mail) bool) {
	b.respond(ctx, r, esc(title), listBlocks(title, mails, keep, r.loc)...)
}

// listBlocks renders a list of mails under a title, within a message's
// limits.
func listBlocks(title string, mails []track.Mail, keep func(track.Mail) bool, l locale) []slack.Block {
	blocks := []slack.Block{slack.NewHeaderBlock(plain(clip(title, maxHeader)))}
	used := blocksTextLen(blocks)
	n := 0
	for _, m := range mails {
		if !keep(m) {
			continue
		}
		s := section(mailSummary(m, l) + "\n`" + escClip(m.MessageID, maxAddrShown) + "`")
		used += blocksTextLen([]slack.Block{s})
		if n == maxListed || used > maxBlocksText {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(l.t(msgListMore, countKept(mails, keep)-n))))
			break
		}
		n++
		blocks = append(blocks, s)
	}
	if n == 0 {
		blocks = append(blocks, section(esc(l.t(msgListEmpty))))
	}
	return blocks
}

func countKept(mails []track.Mail, keep func(track.Mail) bool) int {
	n := 0
	for _, m := range mails {
		if keep(m) {
			n++
		}
	}
	return n
}

func (b *Bot) cmdShow(ctx context.Context, r *request, args []string) {
	if len(args) != 1 {
		b.usage(ctx, r, "show")
		return
	}
	m, ok := b.visibleMail(ctx, r, args[0])
	if !ok {
		return
	}
	b.respond(ctx, r, cardFallback(m, r.loc), cardBlocks(m, r.loc, nil, b.webmail(m))...)
}

func (b *Bot) cmdStop(ctx context.Context, r *request, args []string) {
	if len(args) != 1 {
		b.usage(ctx, r, "stop")
		return
	}
	b.close(ctx, r, args[0], track.StateStopped, msgStoppedTracking)
}

func (b *Bot) cmdReopen(ctx context.Context, r *request, args []string) {
	if len(args) != 1 {
		b.usage(ctx, r, "reopen")
		return
	}
	b.reopen(ctx, r, args[0], b.reopenDue(r))
}

func (b *Bot) cmdSnooze(ctx context.Context, r *request, args []string) {
	if len(args) != 2 {
		b.usage(ctx, r, "snooze")
		return
	}
	until, err := snoozeUntil(args[1], b.now(), r.loc.zone())
	if err != nil {
		b.usage(ctx, r, "snooze")
		return
	}
	b.snooze(ctx, r, args[0], until)
}

// snoozeUntil reads "1d", "3d" (from now) or a date (9:00 that day in loc).
func snoozeUntil(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, err := ParseDeadline(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	day, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, err
	}
	return day.Add(9 * time.Hour), nil
}

func (b *Bot) cmdWho(ctx context.Context, r *request, args []string) {
	if len(args) != 1 {
		b.usage(ctx, r, "who")
		return
	}
	addr := track.NormalizeAddress(args[0])
	mails, err := b.mailsOf(ctx, []string{addr}, false)
	if err != nil {
		b.trouble(ctx, r, "who", err)
		return
	}
	b.log.Info("admin listed another sender's mail", "user", r.user, "sender", addr)
	b.showList(ctx, r, clip(addr, maxHeader), mails, func(track.Mail) bool { return true })
}

// startTracking starts tracking a sent mail named by its Message-ID, or
// offers the Sent-folder mails that match words.
func (b *Bot) startTracking(ctx context.Context, r *request, text string) {
	if b.deps.Sent == nil {
		b.respond(ctx, r, r.loc.t(msgTrackOff))
		return
	}
	if !strings.ContainsAny(text, " \t") && strings.Contains(text, "@") {
		b.trackByID(ctx, r, track.NormalizeMessageID(text), r.set.Deadline)
		return
	}
	addrs, err := b.dir.addresses(ctx, r.user)
	if err != nil || len(addrs) == 0 {
		b.respond(ctx, r, r.loc.t(msgNoAddress))
		return
	}
	var found []SentMail
	for _, a := range addrs {
		fs, err := b.deps.Sent.FindSent(ctx, a, text, maxFound)
		if err != nil {
			b.trouble(ctx, r, "find sent", err)
			return
		}
		found = append(found, fs...)
	}
	if len(found) == 0 {
		none := r.loc.t(msgSearchNone, escClip(text, maxSubjectShown))
		b.respond(ctx, r, none, section(none+"\n\n"+b.helpText(r)))
		return
	}
	b.respond(ctx, r, esc(r.loc.t(msgSearchPick)), foundBlocks(found, r.loc)...)
}

// foundBlocks offers Sent-folder matches, each with a button to track it.
func foundBlocks(found []SentMail, l locale) []slack.Block {
	blocks := []slack.Block{section(esc(l.t(msgSearchPick)))}
	for i, f := range found {
		if i == maxFound {
			break
		}
		subj := f.Subject
		if strings.TrimSpace(subj) == "" {
			subj = l.t(msgNoSubject)
		}
		to := f.To
		if len(to) > maxSummaryRecipients {
			to = append(to[:maxSummaryRecipients:maxSummaryRecipients], fmt.Sprintf("+%d", len(f.To)-maxSummaryRecipients))
		}
		var named []string
		for _, a := range to {
			named = append(named, escClip(a, maxAddrShown))
		}
		text := "*" + escClip(subj, maxSubjectShown) + "*\n" + l.t(msgSent, l.when(f.SentAt)) + " → " + strings.Join(named, ", ")
		var acc *slack.Accessory
		if textLen(f.MessageID) <= maxButtonValue {
			acc = slack.NewAccessory(slack.NewButtonBlockElement(actTrack, f.MessageID, plain(l.t(btnTrack))))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clipLines(text, maxSectionText)), nil, acc))
	}
	return blocks
}

// trackByID starts tracking the mail with the Message-ID from one of the
// author's Sent folders. A Message-ID already tracked for another sender
// is refused without showing anything of that mail, and the mail the
// search side returns is checked to be the author's before its card is
// posted to them.
//
// The deadline is as TrackSent takes it; prepare, when given, changes the
// mail before its card is shown. It reports the mail and whether
// tracking started.
func (b *Bot) trackByID(ctx context.Context, r *request, id string, deadline time.Duration, prepare ...func(track.Mail) track.Mail) (track.Mail, bool) {
	addrs, err := b.dir.addresses(ctx, r.user)
	if err != nil || len(addrs) == 0 {
		b.respond(ctx, r, r.loc.t(msgNoAddress))
		return track.Mail{}, false
	}
	for _, a := range addrs {
		m, err := b.deps.Sent.TrackSent(ctx, a, id, deadline)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if errors.Is(err, track.ErrOtherSender) {
			b.log.Warn("refused tracking another sender's mail", "user", r.user, "message_id", id)
			b.respond(ctx, r, r.loc.t(msgOtherSender))
			return track.Mail{}, false
		}
		if err != nil {
			b.trouble(ctx, r, "track sent", err)
			return track.Mail{}, false
		}
		owner, err := b.dir.owns(ctx, r.user, m)
		if err != nil {
			b.trouble(ctx, r, "check owner", err)
			return track.Mail{}, false
		}
		if !owner {
			b.log.Warn("refused tracking another sender's mail", "user", r.user, "message_id", m.MessageID)
			b.respond(ctx, r, r.loc.t(msgOtherSender))
			return track.Mail{}, false
		}
		b.log.Info("tracking started by hand", "user", r.user, "message_id", m.MessageID)
		for _, p := range prepare {
			m = p(m)
		}
		unlock := b.lockCard(m.MessageID)
		if _, _, err := b.showCard(ctx, unpaced, m, r.user, r.loc); err != nil {
			b.log.Warn("cannot post status card", "message_id", m.MessageID, "err", err)
		}
		unlock()
		b.refreshHome(ctx, r.user)
		b.respond(ctx, r, r.loc.t(msgTracking, subjectText(m, r.loc)))
		return m, true
	}
	b.respond(ctx, r, r.loc.t(msgSearchNone, escClip(id, maxSubjectShown)))
	return track.Mail{}, false
}

// trouble tells the user something went wrong and logs why.
func (b *Bot) trouble(ctx context.Context, r *request, what string, err error) {
	b.log.Error("request failed", "what", what, "user", r.user, "err", err)
	b.respond(ctx, r, r.loc.t(msgTrouble))
}
