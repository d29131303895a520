package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

// action handles one button press or date pick.
type action func(b *Bot, ctx context.Context, r *request, a *slack.BlockAction, cb *slack.InteractionCallback)

// actions maps each action ID the bot renders to its handler. Handlers
// trust nothing in the payload: they reload the mail it names and check
// who may act on it.
var actions = map[string]action{
	actNudge:        (*Bot).actNudge,
	actFollowUp:     (*Bot).actFollowUp,
	actSnooze1:      snoozeFor(24 * time.Hour),
	actSnooze3:      snoozeFor(72 * time.Hour),
	actSnoozeDate:   (*Bot).actSnoozeDate,
	actDone:         (*Bot).actDone,
	actSeen:         (*Bot).actSeen,
	actTrack:        (*Bot).actTrack,
	actReopen:       (*Bot).actReopen,
	actUndo:         (*Bot).actUndo,
	actHomeTab:      (*Bot).actHomeTab,
	actHomePage:     (*Bot).actHomePage,
	actHomeMenu:     (*Bot).actHomeMenu,
	actWelcome:      (*Bot).actWelcome,
	actSetLang:      actSetting("lang"),
	actSetLevel:     actSetting("notify"),
	actSetDeadline:  actSetting("deadline"),
	actSetSummary:   actSetting("summary"),
	actSetQuietFrom: actQuiet,
	actSetQuietTo:   actQuiet,
	actSetQuietOff:  actQuiet,
	actOpenTrack:    (*Bot).actOpenTrack,
	// Link buttons open their URL in the browser; the press needs only
	// its ack.
	actOpenWebmail: func(*Bot, context.Context, *request, *slack.BlockAction, *slack.InteractionCallback) {},
	actMailto:      func(*Bot, context.Context, *request, *slack.BlockAction, *slack.InteractionCallback) {},
}

// interaction handles an interactivity payload. It returns what Slack
// must receive in the acknowledgement itself (the options of an external
// select, the errors of a modal), or nil; the rest of the work runs after
// the ack.
func (b *Bot) interaction(ctx context.Context, cb slack.InteractionCallback) any {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		b.blockActions(ctx, cb)
	case slack.InteractionTypeBlockSuggestion:
		return b.suggest(ctx, cb)
	case slack.InteractionTypeViewSubmission:
		if cb.View.CallbackID == viewTrack {
			if resp := b.submitTrack(ctx, cb); resp != nil {
				return resp
			}
		}
	case slack.InteractionTypeShortcut, slack.InteractionTypeMessageAction:
		text := ""
		switch {
		case cb.Type == slack.InteractionTypeShortcut && cb.CallbackID == ShortcutTrackSent:
		case cb.Type == slack.InteractionTypeMessageAction && cb.CallbackID == ShortcutTrackFromMsg:
			text = cb.Message.Text
		default:
			b.log.Warn("unknown shortcut", "callback_id", cb.CallbackID, "user", cb.User.ID)
			return nil
		}
		b.spawn(ctx, "shortcut", func(ctx context.Context) {
			channel := cb.Channel.ID
			b.openTrack(ctx, b.newRequest(ctx, cb.User.ID, channel, cb.ResponseURL, cb.TriggerID), text)
		})
	default:
		b.log.Debug("interaction ignored", "type", cb.Type)
	}
	return nil
}

// blockActions handles button presses, picks and menus.
func (b *Bot) blockActions(ctx context.Context, cb slack.InteractionCallback) {
	for _, a := range cb.ActionCallback.BlockActions {
		handle, ok := actions[actionKey(a.ActionID)]
		if !ok {
			b.log.Warn("unknown action", "action_id", a.ActionID, "user", cb.User.ID)
			continue
		}
		b.spawn(ctx, a.ActionID, func(ctx context.Context) {
			channel := cb.Container.ChannelID
			if channel == "" {
				channel = cb.Channel.ID
			}
			r := b.newRequest(ctx, cb.User.ID, channel, cb.ResponseURL, cb.TriggerID)
			r.home = cb.View.Type == slack.VTHomeTab || cb.Container.Type == "view" && cb.ResponseURL == ""
			handle(b, ctx, r, a, &cb)
		})
	}
}

// visibleMail loads mail id for a user who wants to see it: its sender
// or an admin.
func (b *Bot) visibleMail(ctx context.Context, r *request, id string) (track.Mail, bool) {
	return b.checkedMail(ctx, r, id, b.admins[r.user])
}

// ownedMail loads mail id for a user who wants to act on it: only its
// sender may.
func (b *Bot) ownedMail(ctx context.Context, r *request, id string) (track.Mail, bool) {
	return b.checkedMail(ctx, r, id, false)
}

// checkedMail loads mail id and checks that r's author sent it (or that
// admin lets them see it), answering them when not.
func (b *Bot) checkedMail(ctx context.Context, r *request, id string, admin bool) (track.Mail, bool) {
	m, err := b.deps.Mails.Mail(ctx, track.NormalizeMessageID(id))
	if errors.Is(err, ErrNotFound) {
		b.respond(ctx, r, r.loc.t(msgNoSuchMail))
		return track.Mail{}, false
	}
	if err != nil {
		b.trouble(ctx, r, "load mail", err)
		return track.Mail{}, false
	}
	owner, err := b.dir.owns(ctx, r.user, m)
	if err != nil {
		b.trouble(ctx, r, "check owner", err)
		return track.Mail{}, false
	}
	if !owner && !admin {
		b.log.Warn("refused access to another sender's mail", "user", r.user, "message_id", m.MessageID)
		b.respond(ctx, r, r.loc.t(msgNotYours))
		return track.Mail{}, false
	}
	return m, true
}

func snoozeFor(d time.Duration) action {
	return func(b *Bot, ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
		b.snooze(ctx, r, a.Value, b.now().Add(d))
	}
}

func (b *Bot) actSnoozeDate(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	until, err := snoozeUntil(a.SelectedDate, b.now(), r.loc.zone())
	if err != nil {
		b.respond(ctx, r, r.loc.t(msgNotFuture))
		return
	}
	b.snooze(ctx, r, a.BlockID, until)
}

// snooze moves a mail's deadline and shows it.
func (b *Bot) snooze(ctx context.Context, r *request, id string, until time.Time) {
	m, ok := b.ownedMail(ctx, r, id)
	if !ok {
		return
	}
	m, err := b.deps.Mails.Snooze(ctx, m.MessageID, until, b.now())
	switch {
	case errors.Is(err, track.ErrClosed):
		b.respond(ctx, r, r.loc.t(msgAlreadyClosed))
	case errors.Is(err, track.ErrNotFuture):
		b.respond(ctx, r, r.loc.t(msgNotFuture))
	case err != nil:
		b.trouble(ctx, r, "snooze", err)
	default:
		b.refresh(ctx, r, m)
		b.respond(ctx, r, r.loc.t(msgSnoozed, subjectText(m, r.loc), r.loc.when(until)))
	}
}

func (b *Bot) actDone(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	b.close(ctx, r, a.Value, track.StateDone, msgMarkedDone)
}

// close ends tracking a mail and shows it. The confirmation has an Undo
// button that reopens the mail with the deadline it had.
func (b *Bot) close(ctx context.Context, r *request, id string, state track.State, done msg) {
	m, ok := b.ownedMail(ctx, r, id)
	if !ok {
		return
	}
	due := m.DueAt
	wasClosed := m.Closed()
	m, err := b.deps.Mails.CloseMail(ctx, m.MessageID, state, b.now())
	if err != nil {
		b.trouble(ctx, r, "close", err)
		return
	}
	b.refresh(ctx, r, m)
	text := r.loc.t(done, subjectText(m, r.loc))
	if wasClosed {
		b.respond(ctx, r, text)
		return
	}
	b.respond(ctx, r, text, undoBlocks(text, m.MessageID, due, r.loc)...)
}

// undoBlocks are a confirmation with an Undo button, whose value is the
// Message-ID and the deadline to restore (Unix seconds, 0 for none).
func undoBlocks(text, id string, due time.Time, l locale) []slack.Block {
	var unix int64
	if !due.IsZero() {
		unix = due.Unix()
	}
	v := id + " " + strconv.FormatInt(unix, 10)
	if textLen(v) > maxButtonValue {
		return []slack.Block{section(text)}
	}
	undo := slack.NewButtonBlockElement(actUndo, v, plain(clip(l.t(btnUndo), maxButton)))
	return []slack.Block{section(text), slack.NewActionBlock("", undo)}
}

// actUndo reopens a mail just marked done or stopped, with the deadline
// it had. The deadline in the value is the sender's own to choose, so
// only ownership is checked.
func (b *Bot) actUndo(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	id, unix, ok := strings.Cut(a.Value, " ")
	secs, err := strconv.ParseInt(unix, 10, 64)
	if !ok || err != nil || secs < 0 {
		b.respond(ctx, r, r.loc.t(msgNoSuchMail))
		return
	}
	var due time.Time
	if secs > 0 {
		due = time.Unix(secs, 0)
	}
	b.reopen(ctx, r, id, due)
}

// actReopen tracks a closed mail again, with the user's deadline for mail
// tracked by hand when they set one.
func (b *Bot) actReopen(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	b.reopen(ctx, r, a.Value, b.reopenDue(r))
}

// reopenDue is the deadline of a mail reopened by hand: the user's
// deadline setting from now, or none.
func (b *Bot) reopenDue(r *request) time.Time {
	if r.set.Deadline > 0 {
		return b.now().Add(r.set.Deadline)
	}
	return time.Time{}
}

// reopen tracks a closed mail of r's author again and shows it.
func (b *Bot) reopen(ctx context.Context, r *request, id string, due time.Time) {
	m, ok := b.ownedMail(ctx, r, id)
	if !ok {
		return
	}
	was := m
	m, err := b.deps.Mails.Reopen(ctx, m.MessageID, due, b.now())
	switch {
	case errors.Is(err, track.ErrInvalidState):
		b.respond(ctx, r, r.loc.t(msgAlreadyOpen, subjectText(was, r.loc)))
	case err != nil:
		b.trouble(ctx, r, "reopen", err)
	default:
		b.log.Info("tracking reopened", "user", r.user, "message_id", m.MessageID)
		b.refresh(ctx, r, m)
		b.respond(ctx, r, r.loc.t(msgReopened, subjectText(m, r.loc)))
	}
}

// refresh updates the card of a mail r's author changed, if it has one,
// and their App Home. The mail is read again under the card's lock, so
// the card shows the latest state whatever else updates it meanwhile.
func (b *Bot) refresh(ctx context.Context, r *request, m track.Mail) {
	b.refreshCard(ctx, r, m.MessageID)
	b.refreshHome(ctx, r.user)
}

func (b *Bot) refreshCard(ctx context.Context, r *request, id string) {
	unlock := b.lockCard(id)
	defer unlock()
	if _, ok, err := b.deps.Cards.Card(ctx, id); err != nil || !ok {
		return
	}
	m, err := b.deps.Mails.Mail(ctx, id)
	if err == nil {
		_, _, err = b.showCard(ctx, unpaced, m, r.user, r.loc)
	}
	if err != nil {
		b.log.Warn("cannot update status card", "message_id", id, "err", err)
	}
}

func (b *Bot) refreshHome(ctx context.Context, user string) {
	if err := b.publishHome(ctx, unpaced, user); err != nil {
		b.log.Warn("cannot publish app home", "user", user, "err", err)
	}
}

// actFollowUp shows courteous wording to paste into a reply: in a modal,
// or as an ephemeral message when there is no trigger to open one.
func (b *Bot) actFollowUp(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	m, ok := b.ownedMail(ctx, r, a.Value)
	if !ok {
		return
	}
	body, view := followUpView(m, r.loc)
	blocks := view.Blocks.BlockSet
	if r.triggerID == "" {
		b.respond(ctx, r, esc(body), blocks...)
		return
	}
	err := b.call(ctx, unpaced, "views.open", "", func(ctx context.Context) error {
		_, err := b.api.OpenViewContext(ctx, r.triggerID, view)
		return wrap(err, "views.open")
	})
	if err != nil {
		b.log.Warn("cannot open follow-up modal; answering in chat", "err", err)
		b.respond(ctx, r, esc(body), blocks...)
	}
}

// followUpView is the follow-up wording of a mail and the modal showing
// it.
func followUpView(m track.Mail, l locale) (string, slack.ModalViewRequest) {
	body := followUpBody(m, l)
	blocks := []slack.Block{
		section(esc(l.t(msgFollowUpIntro))),
		slack.NewSectionBlock(plain(clip(body, maxSectionText)), nil, nil),
	}
	return body, slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plain(clip(l.t(msgFollowUpTitle), maxModalTitle)),
		Close:  plain(clip(l.t(msgClose), maxModalTitle)),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// followUpBody is the follow-up wording for a mail, as plain text (the
// subject shortened, not escaped).
func followUpBody(m track.Mail, l locale) string {
	return l.t(msgFollowUpBody, clip(subject(m, l), maxSubjectShown), l.date(m.SentAt))
}

// actNudge sends a recipient who is in the workspace a polite direct
// message about the mail, with a "Seen it" button. The nudge counts
// against NudgeEvery only once it was sent.
func (b *Bot) actNudge(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	id, addr, ok := splitPair(a.Value)
	if !ok {
		b.respond(ctx, r, r.loc.t(msgNoSuchMail))
		return
	}
	m, ok := b.ownedMail(ctx, r, id)
	if !ok {
		return
	}
	rcpt, ok := recipientOf(m, addr)
	if !ok {
		b.respond(ctx, r, r.loc.t(msgNoSuchMail))
		return
	}
	shown := escClip(rcpt.Address, maxAddrShown)
	// A button from before the recipient answered or went away (an older
	// card, App Home not yet refreshed) nudges nobody.
	if msg, ok := nudgeRefusal(m, rcpt, b.now(), r.loc); ok {
		b.respond(ctx, r, msg)
		return
	}
	target, err := b.dir.userOf(ctx, rcpt.Address)
	if err != nil {
		b.trouble(ctx, r, "nudge lookup", err)
		return
	}
	if target == "" {
		b.respond(ctx, r, r.loc.t(msgNudgeNoUser, shown))
		return
	}
	now := b.now()
	if !b.reserveNudge(m.MessageID, rcpt.Address, now) {
		b.respond(ctx, r, r.loc.t(msgNudgeTooSoon, "<@"+target+">"))
		return
	}
	if err := b.sendNudge(ctx, r.user, target, m, rcpt.Address); err != nil {
		b.releaseNudge(m.MessageID, rcpt.Address, now)
		b.trouble(ctx, r, "nudge", err)
		return
	}
	b.log.Info("recipient nudged in slack", "user", r.user, "message_id", m.MessageID, "recipient", rcpt.Address)
	b.respond(ctx, r, r.loc.t(msgNudged, "<@"+target+">"))
}

// nudgeRefusal says why a nudge of rcpt about m would be pointless at
// now: the mail is closed, rcpt answered it, or rcpt is away by their
// automatic reply; ok is false when a nudge may help.
func nudgeRefusal(m track.Mail, rcpt track.Recipient, now time.Time, l locale) (string, bool) {
	shown := escClip(rcpt.Address, maxAddrShown)
	switch {
	case m.Closed():
		return l.t(msgAlreadyClosed), true
	case rcpt.Status != track.StatusFailed && m.Conclusive(rcpt):
		return l.t(msgNudgeAnswered, shown), true
	case awayAt(rcpt, now) && !rcpt.AwayUntil.IsZero():
		return l.t(msgNudgeAwayUntil, shown, l.calendarDate(rcpt.AwayUntil)), true
	case awayAt(rcpt, now):
		return l.t(msgNudgeAway, shown), true
	}
	return "", false
}

// sendNudge posts the nudge to target, in target's language.
func (b *Bot) sendNudge(ctx context.Context, sender, target string, m track.Mail, addr string) error {
	tl, _ := b.localeOf(ctx, target)
	ch, err := b.dmChannel(ctx, unpaced, target)
	if err != nil {
		return err
	}
	text, blocks := nudgeMessage(sender, m, addr, tl)
	return b.call(ctx, unpaced, postMessage, ch, func(ctx context.Context) error {
		_, _, err := b.api.PostMessageContext(ctx, ch, slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(clipLines(text, maxFallback), false))
		return wrap(err, "chat.postMessage nudge")
	})
}

// nudgeMessage is the nudge a recipient gets from sender (a user ID):
// its text and blocks, with the "Seen it" button.
func nudgeMessage(sender string, m track.Mail, addr string, l locale) (string, []slack.Block) {
	text := l.t(msgNudgeDM, sender, subjectText(m, l), l.day(m.SentAt))
	seen := slack.NewButtonBlockElement(actSeen, pairValue(m.MessageID, addr), plain(clip(l.t(btnSeen), maxButton)))
	seen.Style = slack.StylePrimary
	blocks := []slack.Block{section(text)}
	if textLen(seen.Value) <= maxButtonValue {
		blocks = append(blocks, slack.NewActionBlock("", seen))
	}
	return text, blocks
}

// reserveNudge reports whether the recipient of a mail may be nudged now,
// and if so holds the turn so that a second press cannot nudge twice;
// releaseNudge gives it back when the nudge could not be sent.
func (b *Bot) reserveNudge(messageID, addr string, now time.Time) bool {
	key := pairValue(messageID, addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	if last, ok := b.nudged[key]; ok && now.Sub(last) < b.cfg.NudgeEvery {
		return false
	}
	for k, at := range b.nudged {
		if now.Sub(at) >= b.cfg.NudgeEvery {
			delete(b.nudged, k)
		}
	}
	b.nudged[key] = now
	return true
}

func (b *Bot) releaseNudge(messageID, addr string, at time.Time) {
	key := pairValue(messageID, addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.nudged[key].Equal(at) {
		delete(b.nudged, key)
	}
}

// actSeen records that a nudged recipient has seen the mail. Only the
// Slack user of that recipient's address may press it.
func (b *Bot) actSeen(ctx context.Context, r *request, a *slack.BlockAction, cb *slack.InteractionCallback) {
	id, addr, ok := splitPair(a.Value)
	m, err := b.deps.Mails.Mail(ctx, track.NormalizeMessageID(id))
	if !ok || errors.Is(err, ErrNotFound) {
		b.respond(ctx, r, r.loc.t(msgNoSuchMail))
		return
	}
	if err != nil {
		b.trouble(ctx, r, "seen", err)
		return
	}
	rcpt, ok := recipientOf(m, addr)
	if !ok || !b.isUser(ctx, r.user, rcpt.Address) {
		b.log.Warn("refused seen-it from another user", "user", r.user, "message_id", m.MessageID)
		b.respond(ctx, r, r.loc.t(msgSeenNotYours))
		return
	}
	now := b.now()
	if err := b.deps.Acks.Acknowledge(ctx, track.ChatEvidence(m.MessageID, rcpt.Address, actSeen, now), now); err != nil {
		b.trouble(ctx, r, "acknowledge", err)
		return
	}
	b.log.Info("recipient confirmed in slack", "user", r.user, "message_id", m.MessageID)
	b.wake()
	sender := "*" + escClip(m.Sender, maxAddrShown) + "*"
	if id, err := b.dir.userOf(ctx, m.Sender); err == nil && id != "" {
		sender = "<@" + id + ">"
	}
	b.thankSeen(ctx, r, cb, r.loc.t(msgSeenThanks, sender, subjectText(m, r.loc)))
}

// thankSeen replaces the nudge with a thank-you, so it cannot be pressed
// again.
func (b *Bot) thankSeen(ctx context.Context, r *request, cb *slack.InteractionCallback, text string) {
	if r.channel == "" || cb.Container.MessageTs == "" {
		b.respond(ctx, r, text)
		return
	}
	err := b.call(ctx, unpaced, "chat.update", r.channel, func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, r.channel, cb.Container.MessageTs,
			slack.MsgOptionText(clipLines(text, maxFallback), false), slack.MsgOptionBlocks(section(text)))
		return wrap(err, "chat.update nudge")
	})
	if err != nil {
		b.log.Warn("cannot update nudge", "err", err)
		b.respond(ctx, r, text)
	}
}

// isUser reports whether user is the Slack user of addr.
func (b *Bot) isUser(ctx context.Context, user, addr string) bool {
	id, err := b.dir.userOf(ctx, addr)
	if err != nil {
		b.log.Warn("cannot look up recipient", "address", addr, "err", err)
	}
	return err == nil && id != "" && id == user
}

func (b *Bot) actTrack(ctx context.Context, r *request, a *slack.BlockAction, _ *slack.InteractionCallback) {
	if b.deps.Sent == nil {
		b.respond(ctx, r, r.loc.t(msgTrackOff))
		return
	}
	b.trackByID(ctx, r, track.NormalizeMessageID(a.Value), r.set.Deadline)
}

// recipientOf finds a recipient of m by address.
func recipientOf(m track.Mail, addr string) (track.Recipient, bool) {
	addr = track.NormalizeAddress(addr)
	for _, r := range m.Recipients {
		if r.Address == addr {
			return r, true
		}
	}
	return track.Recipient{}, false
}
