package bot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Action IDs of the settings in App Home; each select's value is what
// /track settings takes for its key, and is checked the same way.
const (
	actSetLang      = "set_lang"
	actSetLevel     = "set_level"
	actSetDeadline  = "set_deadline"
	actSetQuietFrom = "set_quiet_from"
	actSetQuietTo   = "set_quiet_to"
	actSetQuietOff  = "set_quiet_off"
	actSetSummary   = "set_summary"
)

// Default ends of quiet hours set from App Home one end at a time.
const (
	defaultQuietStart = 22 * 60
	defaultQuietEnd   = 7 * 60
)

// deadlineChoices are the deadlines App Home offers.
var deadlineChoices = []time.Duration{0, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 120 * time.Hour, 168 * time.Hour, -1}

// summaryChoices are the times of day the morning summary may come at.
var summaryChoices = []int{7 * 60, 8 * 60, 9 * 60, 10 * 60}

// settingsBlocks are the Settings tab: Slack's own controls for what
// /track settings changes.
func settingsBlocks(s UserSettings, l locale) []slack.Block {
	lang := string(s.Language)
	if lang == "" {
		lang = "auto"
	}
	langs := []choice{{"auto", l.t(msgLangAuto)}, {"en", l.t(msgLangEnglish)}, {"ja", l.t(msgLangJapanese)}}
	levels := []choice{{string(LevelAll), l.t(msgLevelAll)}, {string(LevelProblems), l.t(msgLevelProblems)}}
	var deadlines []choice
	cur := formatDeadline(s.Deadline)
	known := false
	for _, d := range deadlineChoices {
		c := choice{formatDeadline(d), deadlineWords(d, l)}
		known = known || c.value == cur
		deadlines = append(deadlines, c)
	}
	if !known {
		deadlines = append(deadlines, choice{cur, deadlineWords(s.Deadline, l)})
	}
	summaries := []choice{{"off", l.t(msgSummaryOff)}}
	curSummary := "off"
	if s.Summary.On {
		curSummary = clock(s.Summary.At)
	}
	knownSummary := !s.Summary.On
	for _, at := range summaryChoices {
		summaries = append(summaries, choice{clock(at), l.t(msgSummaryAt, clock(at))})
		knownSummary = knownSummary || clock(at) == curSummary
	}
	if !knownSummary {
		summaries = append(summaries, choice{curSummary, l.t(msgSummaryAt, curSummary)})
	}

	quietText := l.t(msgQuietOff)
	if !s.Quiet.Off() {
		quietText = clock(s.Quiet.Start) + "–" + clock(s.Quiet.End)
	}
	from := slack.NewTimePickerBlockElement(actSetQuietFrom)
	from.Placeholder = plain(clip(l.t(msgQuietFrom), maxPlaceholder))
	to := slack.NewTimePickerBlockElement(actSetQuietTo)
	to.Placeholder = plain(clip(l.t(msgQuietTo), maxPlaceholder))
	if !s.Quiet.Off() {
		from.InitialTime, to.InitialTime = clock(s.Quiet.Start), clock(s.Quiet.End)
	}
	off := slack.NewButtonBlockElement(actSetQuietOff, "off", plain(clip(l.t(btnQuietOff), maxButton)))

	return []slack.Block{
		slack.NewDividerBlock(),
		selectRow(l.t(msgSetLanguage), actSetLang, langs, lang, l),
		selectRow(l.t(msgSetLevel), actSetLevel, levels, string(s.level()), l),
		selectRow(l.t(msgSetDeadline), actSetDeadline, deadlines, cur, l),
		selectRow(l.t(msgSetSummary), actSetSummary, summaries, curSummary, l),
		section("*" + esc(l.t(msgSetQuiet)) + "*\n" + esc(quietText)),
		slack.NewActionBlock("quiet_hours", from, to, off),
	}
}

// maxPlaceholder: a placeholder "Maximum length ... 150 characters".
const maxPlaceholder = 150

type choice struct{ value, text string }

// selectRow is a labelled static select with the current value chosen.
func selectRow(label, actionID string, choices []choice, cur string, l locale) slack.Block {
	var opts []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, c := range choices {
		o := slack.NewOptionBlockObject(c.value, plain(clip(c.text, maxOptionText)), nil)
		if c.value == cur {
			initial = o
		}
		opts = append(opts, o)
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain(clip(label, maxPlaceholder)), actionID, opts...)
	sel.InitialOption = initial
	return slack.NewSectionBlock(mrkdwn("*"+esc(label)+"*"), nil, slack.NewAccessory(sel))
}

// deadlineWords says a deadline setting.
func deadlineWords(d time.Duration, l locale) string {
	switch {
	case d == 0:
		return l.t(msgDeadlineDefault)
	case d < 0:
		return l.t(msgDeadlineOff)
	}
	return l.duration(d)
}

// clock formats minutes after midnight as HH:MM.
func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// actSetting changes one setting from its select in App Home, checked as
// /track settings checks it.
func actSetting(key string) action {
	return func(b *Bot, ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
		parse := settingKeys[key]
		if parse == nil || !parse(&UserSettings{}, a.SelectedOption.Value) {
			b.respond(ctx, r, r.loc.t(msgSettingsBad, escClip(a.SelectedOption.Value, maxSubjectShown)))
			return
		}
		b.saveSettings(ctx, r, func(set *UserSettings) { parse(set, a.SelectedOption.Value) })
	}
}

// actQuiet sets one end of the quiet hours from a time picker; the other
// end keeps its value, or a usual one when there were none.
func actQuiet(b *Bot, ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	if actionKey(a.ActionID) == actSetQuietOff {
		b.saveSettings(ctx, r, func(set *UserSettings) { set.Quiet = QuietHours{} })
		return
	}
	at, err := parseClock(a.SelectedTime)
	if err != nil {
		b.respond(ctx, r, r.loc.t(msgSettingsBad, escClip(a.SelectedTime, maxSubjectShown)))
		return
	}
	b.saveSettings(ctx, r, func(set *UserSettings) {
		q := set.Quiet
		if q.Off() {
			q = QuietHours{Start: defaultQuietStart, End: defaultQuietEnd}
		}
		if a.ActionID == actSetQuietFrom {
			q.Start = at
		} else {
			q.End = at
		}
		set.Quiet = q
	})
}

// saveSettings makes one change to a user's settings (editSettings) and
// shows App Home again in the language they now have.
func (b *Bot) saveSettings(ctx context.Context, r *request, change func(*UserSettings)) {
	set, err := b.editSettings(ctx, r.user, change)
	if err != nil {
		b.trouble(ctx, r, "settings", err)
		return
	}
	l, _ := b.localeOf(ctx, r.user)
	r.loc, r.set = l, set
	b.log.Info("settings changed in app home", "user", r.user)
	if !r.home {
		b.refreshHome(ctx, r.user)
	}
	b.respond(ctx, r, l.t(msgSettingsSaved))
}

// actHomeTab switches App Home to a tab.
func (b *Bot) actHomeTab(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	tab := homeTab(a.Value)
	if !slices.Contains(homeTabs, tab) {
		return
	}
	if err := b.setHomeState(ctx, r.user, homeState{tab: tab}); err != nil {
		b.trouble(ctx, r, "app home tab", err)
		return
	}
	b.refreshHome(ctx, r.user)
}

// actHomePage turns App Home's page; homeBlocks clamps it.
func (b *Bot) actHomePage(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	page, err := strconv.Atoi(a.Value)
	if err != nil || page < 0 {
		return
	}
	// The page of the tab the user is on as stored, not as pressed.
	_, err = b.editSettings(ctx, r.user, func(set *UserSettings) {
		set.Home = HomeView{Tab: string(homeStateOf(*set).tab), Page: page}
	})
	if err != nil {
		b.trouble(ctx, r, "app home page", err)
		return
	}
	b.refreshHome(ctx, r.user)
}

// actWelcome hides the welcome section for good.
func (b *Bot) actWelcome(ctx context.Context, r *request, _ *slack.BlockAction, _ *slack.InteractionCallback) {
	if _, err := b.editSettings(ctx, r.user, func(set *UserSettings) { set.Welcomed = true }); err != nil {
		b.trouble(ctx, r, "settings", err)
		return
	}
	b.refreshHome(ctx, r.user)
}

// actHomeMenu runs what was picked in a mail's overflow menu as the
// button of the same name would. Link options need nothing more.
func (b *Bot) actHomeMenu(ctx context.Context, r *request, a *slack.BlockAction, cb *slack.InteractionCallback) {
	key, id, ok := cut(a.SelectedOption.Value)
	if !ok {
		return
	}
	picked := *a
	picked.ActionID, picked.Value = key, id
	switch key {
	case actFollowUp:
		b.actFollowUp(ctx, r, &picked, cb)
	case actSnooze1:
		b.snooze(ctx, r, id, b.now().Add(24*time.Hour))
	case actSnooze3:
		b.snooze(ctx, r, id, b.now().Add(72*time.Hour))
	case actDone:
		b.actDone(ctx, r, &picked, cb)
	case actReopen:
		b.actReopen(ctx, r, &picked, cb)
	}
}

func cut(v string) (key, rest string, ok bool) {
	key, rest, ok = strings.Cut(v, " ")
	return key, rest, ok && key != "" && rest != ""
}
