package bot

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

// Callback IDs of the shortcuts (configs/slack-manifest.yaml) and of the
// "Track a sent mail" modal.
const (
	ShortcutTrackSent    = "track_sent"         // global shortcut
	ShortcutTrackFromMsg = "track_from_message" // message shortcut
	viewTrack            = "track_modal"
)

// Block and action IDs of the modal's inputs.
const (
	blockPick   = "pick"
	actPickSent = "pick_sent" // external select answered by block_suggestion
	blockDue    = "due"
	actDueAt    = "due_at"
	blockHours  = "hours"
	actHours    = "due_hours"
	blockNotify = "notify"
	actNotify   = "notify_on"
	// actOpenTrack is the App Home button that opens the modal.
	actOpenTrack = "open_track"
)

// maxSuggestions is how many Sent-folder matches a search as one types
// offers; an external select takes at most 100 options
// (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element).
const maxSuggestions = 20

// maxWorkingHours bounds "in N working hours".
const maxWorkingHours = 720

// Notify says which good news about a mail its sender wants in the card's
// thread; bounces, delays and missed deadlines are always told.
type Notify string

// The choices of the modal.
const (
	NotifyAll      Notify = ""         // every change
	NotifyRead     Notify = "read"     // each read, open, confirmation or reply
	NotifyAnswered Notify = "answered" // once every recipient has answered
)

// trackModal is the "Track a sent mail" modal; pre, when not nil, is the
// mail chosen beforehand and quoted is what a message shortcut found.
func trackModal(l locale, pre *slack.OptionBlockObject, quoted string) slack.ModalViewRequest {
	pick := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, plain(clip(l.t(msgTrackPickHint), maxPlaceholder)), actPickSent)
	minQuery := 2
	pick.MinQueryLength = &minQuery
	pick.InitialOption = pre
	due := slack.NewDateTimePickerBlockElement(actDueAt)
	hours := slack.NewPlainTextInputBlockElement(plain(clip("8", maxPlaceholder)), actHours)
	hours.MaxLength = 3
	opts := []*slack.OptionBlockObject{
		slack.NewOptionBlockObject(string(NotifyRead), plain(clip(l.t(msgNotifyRead), maxOptionText)), nil),
		slack.NewOptionBlockObject(string(NotifyAnswered), plain(clip(l.t(msgNotifyAnswered), maxOptionText)), nil),
		slack.NewOptionBlockObject("all", plain(clip(l.t(msgNotifyBoth), maxOptionText)), nil),
	}
	notify := slack.NewRadioButtonsBlockElement(actNotify, opts...)
	notify.InitialOption = opts[2]

	var blocks []slack.Block
	if quoted != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(esc(l.t(msgTrackQuoted, clip(quoted, maxSubjectShown))))))
	}
	in := func(id string, label msg, e slack.BlockElement, optional bool, hint msg) *slack.InputBlock {
		b := slack.NewInputBlock(id, plain(clip(l.t(label), 2000)), nil, e)
		b.Optional = optional
		if hint != "" {
			b.Hint = plain(clip(l.t(hint), 2000))
		}
		return b
	}
	blocks = append(blocks,
		in(blockPick, msgTrackPick, pick, false, ""),
		in(blockDue, msgTrackDue, due, true, msgTrackDueHint),
		in(blockHours, msgTrackHours, hours, true, ""),
		in(blockNotify, msgTrackNotify, notify, false, ""),
	)
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: viewTrack,
		Title:      plain(clip(l.t(msgTrackTitle), maxModalTitle)),
		Submit:     plain(clip(l.t(btnTrack), maxModalTitle)),
		Close:      plain(clip(l.t(msgClose), maxModalTitle)),
		Blocks:     slack.Blocks{BlockSet: blocks},
	}
}

// sentOption is a Sent-folder mail as a select option: the subject and
// date, the recipients as its description, the Message-ID as its value;
// false when the Message-ID is too long for a value.
func sentOption(f SentMail, l locale) (*slack.OptionBlockObject, bool) {
	if textLen(f.MessageID) > maxOptionValue {
		return nil, false
	}
	subj := f.Subject
	if strings.TrimSpace(subj) == "" {
		subj = l.t(msgNoSubject)
	}
	date := " · " + l.day(f.SentAt)
	text := clip(subj, maxOptionText-textLen(date)) + date
	var desc *slack.TextBlockObject
	if len(f.To) > 0 {
		desc = plain(clip("→ "+strings.Join(f.To, ", "), maxOptionText))
	}
	return slack.NewOptionBlockObject(f.MessageID, plain(text), desc), true
}

// openTrack opens the modal for r's author, pre-filled from text when a
// message shortcut gave some. A quoted Message-ID is chosen at once; a
// quoted subject is searched for after the modal is open (a trigger_id
// lasts three seconds), and the modal updated with the match.
func (b *Bot) openTrack(ctx context.Context, r *request, text string) {
	if b.deps.Sent == nil {
		b.respond(ctx, r, r.loc.t(msgTrackOff))
		return
	}
	id, subject := quotedMail(text)
	var pre *slack.OptionBlockObject
	if id != "" && textLen(id) <= maxOptionValue {
		pre = slack.NewOptionBlockObject(id, plain(clip(id, maxOptionText)), nil)
	}
	quoted := id
	if quoted == "" {
		quoted = subject
	}
	var view *slack.ViewResponse
	err := b.call(ctx, unpaced, "views.open", "", func(ctx context.Context) error {
		var err error
		view, err = b.api.OpenViewContext(ctx, r.triggerID, trackModal(r.loc, pre, quoted))
		return wrap(err, "views.open")
	})
	if err != nil {
		b.log.Warn("cannot open the track modal", "user", r.user, "err", err)
		return
	}
	if pre != nil || subject == "" {
		return
	}
	found := b.findSent(ctx, r.user, subject, 1)
	if len(found) == 0 {
		return
	}
	opt, ok := sentOption(found[0], r.loc)
	if !ok {
		return
	}
	err = b.call(ctx, unpaced, "views.update", "", func(ctx context.Context) error {
		_, err := b.api.UpdateViewContext(ctx, trackModal(r.loc, opt, quoted), "", view.Hash, view.ID)
		return wrap(err, "views.update")
	})
	if err != nil {
		b.log.Warn("cannot pre-fill the track modal", "user", r.user, "err", err)
	}
}

// findSent searches every address of user's Sent folders; errors are
// logged and give no matches.
func (b *Bot) findSent(ctx context.Context, user, query string, limit int) []SentMail {
	addrs, err := b.dir.addresses(ctx, user)
	if err != nil {
		b.log.Warn("cannot find user's addresses", "user", user, "err", err)
		return nil
	}
	var out []SentMail
	for _, a := range addrs {
		fs, err := b.deps.Sent.FindSent(ctx, a, query, limit)
		if err != nil {
			b.log.Warn("sent search failed", "user", user, "err", err)
			return nil
		}
		out = append(out, fs...)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

var (
	// quotedID finds a Message-ID in a message: in angle brackets, as
	// Slack shows "<id@host>" escaped (&lt;…&gt;), or after "Message-ID:".
	quotedID = regexp.MustCompile(`(?i)(?:message-id:\s*(?:&lt;|<)?|&lt;|<)([^\s<>&|]+@[^\s<>&|]+?)(?:&gt;|>|\s|$)`)
	// quotedSubject finds a subject: after "Subject:" / 「件名:」, or in
	// quotation marks.
	quotedSubject = regexp.MustCompile(`(?i)(?:subject|件名)\s*[:：]\s*([^\n]+)|「([^」\n]+)」|“([^”\n]+)”|"([^"\n]+)"`)
)

// quotedMail finds the Message-ID or the subject a Slack message quotes.
// Links Slack made of addresses (<mailto:…|…>) are not Message-IDs.
func quotedMail(text string) (id, subject string) {
	for _, m := range quotedID.FindAllStringSubmatch(text, -1) {
		if cand := m[1]; !strings.HasPrefix(strings.ToLower(cand), "mailto:") && !strings.Contains(cand, "//") {
			return track.NormalizeMessageID(cand), ""
		}
	}
	if m := quotedSubject.FindStringSubmatch(text); m != nil {
		for _, g := range m[1:] {
			if s := strings.TrimSpace(g); s != "" {
				return "", clip(s, maxSubjectShown)
			}
		}
	}
	return "", ""
}

// suggestTimeout bounds the search behind a block_suggestion: Slack
// shows nothing when the answer takes over three seconds ("respond ...
// within 3 seconds",
// https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select).
const suggestTimeout = 2500 * time.Millisecond

// suggest answers a block_suggestion of the modal's select: the user's
// Sent-folder mails that match what they typed; none when the search
// takes too long.
func (b *Bot) suggest(ctx context.Context, cb slack.InteractionCallback) *slack.OptionsResponse {
	ctx, cancel := context.WithTimeout(ctx, suggestTimeout)
	defer cancel()
	out := &slack.OptionsResponse{Options: []*slack.OptionBlockObject{}}
	query := strings.TrimSpace(cb.Value)
	if cb.ActionID != actPickSent || b.deps.Sent == nil || query == "" {
		return out
	}
	l, _ := b.localeOf(ctx, cb.User.ID)
	for _, f := range b.findSent(ctx, cb.User.ID, query, maxSuggestions) {
		if o, ok := sentOption(f, l); ok {
			out.Options = append(out.Options, o)
		}
	}
	return out
}

// trackChoice is what the modal was submitted with.
type trackChoice struct {
	messageID string
	due       time.Time     // an exact time to be reminded at, or zero
	hours     time.Duration // a deadline in working hours, or zero
	notify    Notify
}

// readTrackModal reads the modal's state, or returns the errors to show
// beside its inputs.
func readTrackModal(v slack.View, now time.Time, l locale) (trackChoice, map[string]string) {
	var c trackChoice
	errs := map[string]string{}
	if v.State == nil {
		errs[blockPick] = l.t(msgTrackNeedPick)
		return c, errs
	}
	vals := v.State.Values
	c.messageID = track.NormalizeMessageID(vals[blockPick][actPickSent].SelectedOption.Value)
	if c.messageID == "" {
		errs[blockPick] = l.t(msgTrackNeedPick)
	}
	if dt := vals[blockDue][actDueAt].SelectedDateTime; dt != 0 {
		c.due = time.Unix(dt, 0)
		if !c.due.After(now) {
			errs[blockDue] = l.t(msgNotFuture)
		}
	}
	if h := strings.TrimSpace(vals[blockHours][actHours].Value); h != "" && c.due.IsZero() {
		n, err := strconv.Atoi(h)
		if err != nil || n < 1 || n > maxWorkingHours {
			errs[blockHours] = l.t(msgTrackBadHours)
		}
		c.hours = time.Duration(n) * time.Hour
	}
	switch n := Notify(vals[blockNotify][actNotify].SelectedOption.Value); n {
	case NotifyRead, NotifyAnswered:
		c.notify = n
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

// submitTrack answers the modal's submission: the errors to show, or nil
// to close it and start tracking after the ack.
func (b *Bot) submitTrack(ctx context.Context, cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	l, _ := b.localeOf(ctx, cb.User.ID)
	c, errs := readTrackModal(cb.View, b.now(), l)
	if errs != nil {
		return slack.NewErrorsViewSubmissionResponse(errs)
	}
	b.spawn(ctx, "track modal", func(ctx context.Context) {
		r := b.newRequest(ctx, cb.User.ID, "", "", "")
		deadline := r.set.Deadline
		if c.hours > 0 {
			deadline = c.hours
		}
		b.trackByID(ctx, r, c.messageID, deadline, func(m track.Mail) track.Mail {
			if !c.due.IsZero() {
				snoozed, err := b.deps.Mails.Snooze(ctx, m.MessageID, c.due, b.now())
				if err != nil {
					b.log.Warn("cannot set the reminder asked for", "message_id", m.MessageID, "err", err)
				} else {
					m = snoozed
				}
			}
			if err := b.setNotify(ctx, r.user, m.MessageID, c.notify); err != nil {
				b.log.Warn("cannot keep what to notify of", "message_id", m.MessageID, "err", err)
			}
			return m
		})
	})
	return nil
}

// maxNotifyPrefs bounds the mails whose notifications a user chose in
// the modal; the oldest choice is dropped when a new one would pass it.
const maxNotifyPrefs = 200

// setNotify keeps which good news about a mail its sender wants.
func (b *Bot) setNotify(ctx context.Context, user, id string, n Notify) error {
	_, err := b.editSettings(ctx, user, func(set *UserSettings) {
		set.Notify = slices.DeleteFunc(set.Notify, func(p NotifyPref) bool { return p.MessageID == id })
		if n != NotifyAll {
			set.Notify = append(set.Notify, NotifyPref{MessageID: id, On: n})
		}
		if len(set.Notify) > maxNotifyPrefs {
			set.Notify = set.Notify[len(set.Notify)-maxNotifyPrefs:]
		}
	})
	return err
}

// wantsReply reports whether a notice is one the sender wants a thread
// reply for, by their level and what they chose for the mail. The card is
// kept current whatever they chose; a redraw (a recipient back from being
// away) only redraws it.
//
// Problems (a bounce, a delay, a missed deadline) are always told. Good
// news is an answer: a read receipt, an open, a confirmation in Slack or
// a reply, which ends the wait; a LevelProblems user is not told of it.
// An out-of-office notice or an automatic acknowledgement is neither:
// it only says the recipient is away (and moves their deadline, whose
// miss is then told as usual), so only those told of every change get a
// reply for it.
func wantsReply(set UserSettings, m track.Mail, kind track.NoticeKind) bool {
	if kind == track.NoticeRedraw {
		return false // nothing new to tell: only the card is drawn again
	}
	if problemKinds[kind] {
		return true
	}
	if set.level() == LevelProblems {
		return false
	}
	answer := kind == track.NoticeRead || kind == track.NoticeReplied
	switch set.notifyOf(m.MessageID) {
	case NotifyRead:
		return answer
	case NotifyAnswered:
		return answer && !waitingFor(m)
	}
	return true
}

// actOpenTrack opens the modal from App Home's button.
func (b *Bot) actOpenTrack(ctx context.Context, r *request, _ *slack.BlockAction, _ *slack.InteractionCallback) {
	b.openTrack(ctx, r, "")
}
