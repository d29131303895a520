package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

const (
	// homePageMails is how many mails one page of App Home lists. A home
	// view holds at most 100 blocks
	// (https://docs.slack.dev/reference/views: "Max of 100 blocks"); a
	// mail takes three (a divider, its summary and its buttons), or two
	// when its buttons are folded into an overflow menu, and the title,
	// tabs, welcome, notice and pager take at most ten. So a page of up to
	// 30 mails shows their buttons and a fuller one overflow menus.
	homePageMails = 40
	// homeBudget bounds a home view's JSON, below views.publish's 250 KB
	// (https://docs.slack.dev/reference/methods/views.publish): a page
	// whose buttons would not fit gets overflow menus instead.
	homeBudget = 200 * 1024
	// maxSummaryRecipients is how many recipients a mail's summary names.
	maxSummaryRecipients = 5
	// maxOverflowOptions: an overflow menu holds "up to five option
	// objects"
	// (https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element).
	maxOverflowOptions = 5
	// maxOptionValue: an option's value "Maximum length for this field is
	// 150 characters"
	// (https://docs.slack.dev/reference/block-kit/composition-objects/option-object).
	maxOptionValue = 150
)

// homeTab is what App Home shows.
type homeTab string

// The tabs of App Home.
const (
	tabWaiting  homeTab = "waiting"  // open mails waiting for someone, or only bounced
	tabAnswered homeTab = "answered" // open mails answered by everyone who got them
	tabClosed   homeTab = "closed"   // done or stopped
	tabSettings homeTab = "settings"
)

var homeTabs = []homeTab{tabWaiting, tabAnswered, tabClosed, tabSettings}

// Action IDs of App Home's own controls.
const (
	actHomeTab  = "home_tab"  // .waiting, .answered …: switch tabs
	actHomePage = "home_page" // .prev, .next: page; the value is the page
	actHomeMenu = "home_menu" // a mail's overflow menu
	actWelcome  = "welcome_ok"
)

// homeState is where a user is in App Home.
type homeState struct {
	tab  homeTab
	page int
}

// homeStateOf reads where a user is in App Home from their settings: a
// tab the bot does not know (from an older version, or edited by hand)
// is Waiting and a negative page the first.
func homeStateOf(set UserSettings) homeState {
	st := homeState{tab: homeTab(set.Home.Tab), page: max(set.Home.Page, 0)}
	if !slices.Contains(homeTabs, st.tab) {
		st = homeState{tab: tabWaiting}
	}
	return st
}

// setHomeState keeps where a user is in App Home in their settings, read
// afresh so that nothing else of them is changed.
func (b *Bot) setHomeState(ctx context.Context, user string, st homeState) error {
	_, err := b.editSettings(ctx, user, func(set *UserSettings) {
		set.Home = HomeView{Tab: string(st.tab), Page: st.page}
	})
	if err != nil {
		return fmt.Errorf("keep app home: %w", err)
	}
	return nil
}

// homePage is one rendering of App Home.
type homePage struct {
	tab     homeTab
	page    int          // from 0; clamped to the pages there are
	mails   []track.Mail // every mail of the tab, newest first
	nudges  func(track.Mail) []string
	webmail func(track.Mail) Webmail
	welcome bool // show the welcome section
	// setup is how the user's mail gets tracked, for the welcome; nil
	// when the bot was not told (Config.Setup).
	setup    *userSetup
	set      UserSettings
	notice   string // the answer to what the user just did, mrkdwn
	canTrack bool   // the Sent-folder search is set up, with a mailbox of the user's
	// noticeActions are the answer's buttons (Undo), if any.
	noticeActions *slack.ActionBlock
}

// publishHome shows a user's App Home: the tab they are on, with notice
// (the answer to what they just did there) at the top when not empty.
func (b *Bot) publishHome(ctx context.Context, pace pacer, user string, notice ...string) error {
	n := ""
	if len(notice) > 0 {
		n = notice[0]
	}
	return b.publishHomeWith(ctx, pace, user, n, nil)
}

// noticeActions finds the buttons of an answer, for App Home.
func noticeActions(blocks []slack.Block) *slack.ActionBlock {
	for _, bl := range blocks {
		if a, ok := bl.(*slack.ActionBlock); ok {
			return a
		}
	}
	return nil
}

// publishHomeWith is publishHome with the notice's buttons.
func (b *Bot) publishHomeWith(ctx context.Context, pace pacer, user, notice string, actions *slack.ActionBlock) error {
	l, set, err := b.userLocale(ctx, user)
	if err != nil {
		return err
	}
	st := homeStateOf(set)
	p := homePage{tab: st.tab, page: st.page, welcome: !set.Welcomed, set: set, canTrack: b.deps.Sent != nil,
		webmail: b.webmail, notice: notice, noticeActions: actions}
	if b.cfg.Setup != nil {
		addrs, err := b.dir.addresses(ctx, user)
		if err != nil {
			return err
		}
		us := b.cfg.Setup.of(addrs)
		p.setup = &us
		// The Sent-folder search looks in the user's own mailboxes only.
		p.canTrack = p.canTrack && len(us.mailboxes) > 0
	}
	if st.tab != tabSettings {
		mails, err := b.ownMails(ctx, user, st.tab == tabClosed)
		if err != nil {
			return err
		}
		p.mails = tabMails(mails, st.tab)
	}
	p.nudges = func(m track.Mail) []string { return nudgeList(m, b.nudgeable(ctx, m, false)) }
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeBlocks(p, l)}}
	return b.call(ctx, pace, "views.publish", "", func(ctx context.Context) error {
		_, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return wrap(err, "views.publish")
	})
}

// tabMails keeps the mails a tab shows.
func tabMails(mails []track.Mail, tab homeTab) []track.Mail {
	var out []track.Mail
	for _, m := range mails {
		answered := !waitingFor(m) && anyConclusive(m)
		switch {
		case tab == tabClosed && m.Closed(),
			tab == tabWaiting && !m.Closed() && !answered,
			tab == tabAnswered && !m.Closed() && answered:
			out = append(out, m)
		}
	}
	return out
}

// anyConclusive reports whether a recipient of m answered conclusively
// (a bounce is no answer).
func anyConclusive(m track.Mail) bool {
	for _, r := range m.Recipients {
		if r.Status != track.StatusFailed && m.Conclusive(r) {
			return true
		}
	}
	return false
}

// nudgeList lists, in recipient order, the recipients of m that nudge
// holds, at most maxActionNudges.
func nudgeList(m track.Mail, nudge map[string]bool) []string {
	var out []string
	for _, r := range m.Recipients {
		if nudge[r.Address] && len(out) < maxActionNudges {
			out = append(out, r.Address)
		}
	}
	return out
}

// homeBlocks renders App Home. It keeps within a view's 100 blocks and
// homeBudget whatever the mails: a page whose buttons do not fit gets
// each mail's actions in an overflow menu, without the links out if even
// that is too much.
func homeBlocks(p homePage, l locale) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip(l.t(msgHomeTitle), maxHeader))),
		slack.NewContextBlock("", mrkdwn(esc(l.t(msgHomeHint)))),
	}
	if p.notice != "" {
		blocks = append(blocks, section(l.t(msgHomeNotice, p.notice)))
		if p.noticeActions != nil {
			blocks = append(blocks, p.noticeActions)
		}
	}
	if p.welcome {
		blocks = append(blocks, welcomeBlocks(l, p.setup, p.canTrack)...)
	}
	blocks = append(blocks, tabsBlock(p.tab, l, p.canTrack && !p.welcome))
	if p.tab == tabSettings {
		return append(blocks, settingsBlocks(p.set, l)...)
	}
	pages := max(1, (len(p.mails)+homePageMails-1)/homePageMails)
	page := min(max(p.page, 0), pages-1)
	if len(p.mails) == 0 {
		return append(blocks, section(esc(l.t(tabEmpty[p.tab]))))
	}
	shown := p.mails[page*homePageMails : min(len(p.mails), (page+1)*homePageMails)]
	var tail []slack.Block
	if pages > 1 {
		tail = pagerBlocks(page, pages, len(p.mails), l)
	}
	for _, style := range []rowStyle{rowButtons, rowMenu, rowMenuNoLinks} {
		rows := mailRows(shown, p, l, style)
		if len(blocks)+len(rows)+len(tail) <= maxViewBlocks && jsonSize(blocks, rows, tail) <= homeBudget || style == rowMenuNoLinks {
			return append(append(blocks, rows...), tail...)
		}
	}
	return blocks // unreachable: the last style is always taken
}

// rowStyle is how a mail's actions are shown in App Home, from the
// roomiest to the most compact.
type rowStyle int

const (
	rowButtons     rowStyle = iota // an actions block under the summary
	rowMenu                        // an overflow menu beside it
	rowMenuNoLinks                 // an overflow menu without the links out
)

// tabEmpty says that a tab has nothing to show.
var tabEmpty = map[homeTab]msg{tabWaiting: msgTabWaitingEmpty, tabAnswered: msgTabAnsweredEmpty, tabClosed: msgTabClosedEmpty}

// mailRows are the mails of a page: each a divider and its summary, with
// its actions shown in the style asked for.
func mailRows(mails []track.Mail, p homePage, l locale, style rowStyle) []slack.Block {
	var out []slack.Block
	for _, m := range mails {
		w := p.webmail(m)
		out = append(out, slack.NewDividerBlock())
		if style != rowButtons {
			var acc *slack.Accessory
			if o := mailMenu(m, l, w, style == rowMenu); o != nil {
				acc = slack.NewAccessory(o)
			}
			out = append(out, slack.NewSectionBlock(mrkdwn(mailSummary(m, l)), nil, acc))
			continue
		}
		out = append(out, section(mailSummary(m, l)))
		if a := actionsBlock(m, l, p.nudges(m), w); a != nil {
			out = append(out, a)
		}
	}
	return out
}

// mailMenu is a mail's overflow menu: the actions that fit five options,
// each value the action and the Message-ID; an action whose value would
// be too long for an option is left out, and nil returned when none is
// left.
func mailMenu(m track.Mail, l locale, w Webmail, links bool) *slack.OverflowBlockElement {
	opt := func(key string, label msg) *slack.OptionBlockObject {
		return slack.NewOptionBlockObject(key+" "+m.MessageID, plain(clip(l.t(label), maxOptionText)), nil)
	}
	var opts []*slack.OptionBlockObject
	if m.Closed() {
		opts = append(opts, opt(actReopen, btnReopen))
	} else {
		opts = append(opts, opt(actFollowUp, btnFollowUp), opt(actSnooze1, btnSnooze1), opt(actSnooze3, btnSnooze3), opt(actDone, btnDone))
	}
	for _, e := range linkButtons(m, l, w) {
		if len(opts) == maxOverflowOptions || !links {
			break
		}
		btn := e.(*slack.ButtonBlockElement)
		o := slack.NewOptionBlockObject(btn.ActionID+" "+m.MessageID, plain(clip(btn.Text.Text, maxOptionText)), nil)
		o.URL = btn.URL
		opts = append(opts, o)
	}
	opts = slices.DeleteFunc(opts, func(o *slack.OptionBlockObject) bool { return textLen(o.Value) > maxOptionValue })
	if len(opts) == 0 {
		return nil
	}
	return slack.NewOverflowBlockElement(actHomeMenu, opts...)
}

// maxOptionText: an option's text "Maximum length for the text in this
// field is 75 characters".
const maxOptionText = 75

// jsonSize is the size of blocks as views.publish receives them.
func jsonSize(parts ...[]slack.Block) int {
	n := 0
	for _, p := range parts {
		raw, err := json.Marshal(p)
		if err != nil {
			return homeBudget + 1 // unreachable for blocks the bot built
		}
		n += len(raw)
	}
	return n
}

// trackButton opens the "Track a sent mail" modal.
func trackButton(l locale) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actOpenTrack, "home", plain(clip(l.t(btnTrackSent), maxButton)))
	b.Style = slack.StylePrimary
	return b
}

// tabsBlock is the row of tabs, the current one highlighted.
func tabsBlock(cur homeTab, l locale, withTrack bool) slack.Block {
	labels := map[homeTab]msg{tabWaiting: btnTabWaiting, tabAnswered: btnTabAnswered, tabClosed: btnTabClosed, tabSettings: btnTabSettings}
	var elems []slack.BlockElement
	for _, t := range homeTabs {
		b := slack.NewButtonBlockElement(actHomeTab+"."+string(t), string(t), plain(clip(l.t(labels[t]), maxButton)))
		if t == cur {
			b.Style = slack.StylePrimary
		}
		elems = append(elems, b)
	}
	if withTrack {
		elems = append(elems, slack.NewButtonBlockElement(actOpenTrack, "home", plain(clip(l.t(btnTrackSent), maxButton))))
	}
	return slack.NewActionBlock("home_tabs", elems...)
}

// pagerBlocks say which page this is, with buttons to the others.
func pagerBlocks(page, pages, total int, l locale) []slack.Block {
	var elems []slack.BlockElement
	if page > 0 {
		elems = append(elems, slack.NewButtonBlockElement(actHomePage+".prev", strconv.Itoa(page-1), plain(clip(l.t(btnPrevPage), maxButton))))
	}
	if page < pages-1 {
		elems = append(elems, slack.NewButtonBlockElement(actHomePage+".next", strconv.Itoa(page+1), plain(clip(l.t(btnNextPage), maxButton))))
	}
	return []slack.Block{
		slack.NewContextBlock("", mrkdwn(esc(l.t(msgPageOf, page+1, pages, total)))),
		slack.NewActionBlock("home_pager", elems...),
	}
}

// mailSummary is a mail in a few lines: subject, state and recipients.
func mailSummary(m track.Mail, l locale) string {
	lines := []string{"*" + subjectText(m, l) + "*", stateLine(m, l)}
	for i, r := range m.Recipients {
		if i == maxSummaryRecipients {
			lines = append(lines, l.t(msgMoreRecipients, len(m.Recipients)-i))
			break
		}
		lines = append(lines, statusIcons[r.Status]+" "+who(r)+" — "+statusText(r, l))
	}
	return clipLines(strings.Join(lines, "\n"), maxSectionText)
}

// ownMails returns the mails sent from any of user's addresses, newest
// first: the open ones, and with closed also those done or stopped.
func (b *Bot) ownMails(ctx context.Context, user string, closed bool) ([]track.Mail, error) {
	addrs, err := b.dir.addresses(ctx, user)
	if err != nil {
		return nil, err
	}
	return b.mailsOf(ctx, addrs, closed)
}

// mailsOf returns the mails of the senders, newest first.
func (b *Bot) mailsOf(ctx context.Context, senders []string, closed bool) ([]track.Mail, error) {
	limit := 0 // open mails are few; closed ones are kept for months
	if closed {
		limit = 200
	}
	var out []track.Mail
	for _, a := range senders {
		ms, err := b.deps.Mails.SenderMails(ctx, a, closed, limit)
		if err != nil {
			return nil, fmt.Errorf("mails of %s: %w", a, err)
		}
		out = append(out, ms...)
	}
	slices.SortStableFunc(out, func(x, y track.Mail) int { return cmp.Compare(y.SentAt.UnixNano(), x.SentAt.UnixNano()) })
	return out, nil
}
