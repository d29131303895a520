package bot

import (
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// How much of a mail a card shows.
const (
	maxCardRecipients = 20 // recipients shown one by one; the rest are counted
	maxActionNudges   = 5  // nudge buttons in one actions block
)

// Action IDs of the buttons the bot renders. Each is a key of the actions
// table.
const (
	actNudge      = "nudge"
	actFollowUp   = "followup"
	actSnooze1    = "snooze_1d"
	actSnooze3    = "snooze_3d"
	actSnoozeDate = "snooze_date"
	actDone       = "done"
	actSeen       = "seen"
	actTrack      = "track_pick"
	actReopen     = "reopen"
	actUndo       = "undo"
)

// statusIcons puts an emoji before each status so that a card can be read
// at a glance.
var statusIcons = map[track.Status]string{
	track.StatusPending:       ":hourglass_flowing_sand:",
	track.StatusDelayed:       ":hourglass:",
	track.StatusRelayed:       ":outbox_tray:",
	track.StatusFailed:        ":warning:",
	track.StatusDelivered:     ":incoming_envelope:",
	track.StatusOpenedMachine: ":eyes:",
	track.StatusOpened:        ":eyes:",
	track.StatusDeletedUnread: ":wastebasket:",
	track.StatusRead:          ":white_check_mark:",
	track.StatusDeclined:      ":no_entry_sign:",
	track.StatusAcknowledged:  ":white_check_mark:",
	track.StatusNoResponse:    ":zzz:",
	track.StatusReplied:       ":speech_balloon:",
	track.StatusAway:          ":beach_with_umbrella:",
	track.StatusAutoAck:       ":robot_face:",
}

// withReason marks the statuses shown with their bounce or delay reason;
// the others are shown with the time they were reached.
var withReason = map[track.Status]bool{
	track.StatusFailed:  true,
	track.StatusDelayed: true,
}

// cardBlocks renders a mail's status card. nudge holds the recipients
// that have a Slack user and may be nudged. However many recipients and
// however long their names, the card stays within a message's limits:
// recipients that do not fit are counted.
//
// The card ends with its buttons (links to the mail's web client w, when
// known, and to a follow-up in the user's mail program among them) and
// its Message-ID, small, to copy into /track show or stop.
func cardBlocks(m track.Mail, l locale, nudge map[string]bool, w Webmail) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip(subject(m, l), maxHeader))),
		slack.NewContextBlock("", mrkdwn(stateLine(m, l))),
	}
	actions := actionsBlock(m, l, nil, w)
	idLine := messageIDLine(m)
	budget := maxBlocksText - blocksTextLen(blocks) - blocksTextLen([]slack.Block{idLine}) - 100
	if actions != nil {
		budget -= blocksTextLen([]slack.Block{actions})
	}
	for i, r := range m.Recipients {
		var acc *slack.Accessory
		if v := pairValue(m.MessageID, r.Address); nudge[r.Address] && canNudge(m, r, l.today()) && textLen(v) <= maxButtonValue {
			acc = slack.NewAccessory(slack.NewButtonBlockElement(nudgeActionID(i), v, plain(clip(l.t(btnNudge), maxButton))))
		}
		b := slack.NewSectionBlock(mrkdwn(clipLines(recipientText(m, r, l), maxSectionText)), nil, acc)
		budget -= blocksTextLen([]slack.Block{b})
		if i == maxCardRecipients || budget < 0 {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(l.t(msgMoreRecipients, len(m.Recipients)-i))))
			break
		}
		blocks = append(blocks, b)
	}
	if actions != nil {
		blocks = append(blocks, actions)
	}
	return append(blocks, idLine)
}

// nudgeActionID is the action_id of the i-th nudge button: each is unique
// within its block and view, as Slack requires
// (https://docs.slack.dev/reference/block-kit/block-elements: "Should be
// unique among all other action_ids in the containing block"); actionKey
// reads them back as actNudge.
func nudgeActionID(i int) string { return actNudge + "." + strconv.Itoa(i) }

// actionKey is the key of the actions table for an action_id.
func actionKey(actionID string) string {
	key, _, _ := strings.Cut(actionID, ".")
	return key
}

// canNudge reports whether a nudge about m could still help r at now:
// not once r answered (a reply, a read receipt …), and not while r is
// away by their automatic reply.
func canNudge(m track.Mail, r track.Recipient, now time.Time) bool {
	return !m.Closed() && r.Status != track.StatusFailed && !m.Conclusive(r) && !awayAt(r, now)
}

// awayAt reports whether r's automatic reply says they are away at now:
// until they are back at work after the date they gave (Recipient.BackAt:
// the start of the next working day in the working calendar deadlines are
// counted in, such as 09:00 in Tokyo), or, without a date, as long as
// their status is the out-of-office notice: once the unchanged deadline
// passes (no response), a nudge may help again. A recipient stored
// without BackAt is back at the next midnight UTC after the date.
func awayAt(r track.Recipient, now time.Time) bool {
	if r.AutoReply != report.AutoReplyAway {
		return false
	}
	if r.AwayUntil.IsZero() {
		return r.Status == track.StatusAway
	}
	back := r.BackAt
	if back.IsZero() {
		back = track.BackAt(r.AwayUntil, nil)
	}
	return now.Before(back)
}

// actionsBlock holds the mail's buttons, with a nudge button for each
// recipient in nudge and the links out (linkButtons), or nil when there
// are none. A closed mail has Reopen and the links. The Message-ID is each
// button's value and the block's ID (for the date picker, which has no
// value); a Message-ID too long for a value leaves only the links.
func actionsBlock(m track.Mail, l locale, nudge []string, w Webmail) *slack.ActionBlock {
	id := m.MessageID
	links := linkButtons(m, l, w)
	switch {
	case textLen(id) > maxButtonValue && len(links) == 0:
		return nil
	case textLen(id) > maxButtonValue:
		return slack.NewActionBlock("", links...)
	case m.Closed():
		reopen := slack.NewButtonBlockElement(actReopen, id, plain(clip(l.t(btnReopen), maxButton)))
		return slack.NewActionBlock("", append([]slack.BlockElement{reopen}, links...)...)
	}
	elems := []slack.BlockElement{
		slack.NewButtonBlockElement(actFollowUp, id, plain(l.t(btnFollowUp))),
		slack.NewButtonBlockElement(actSnooze1, id, plain(l.t(btnSnooze1))),
		slack.NewButtonBlockElement(actSnooze3, id, plain(l.t(btnSnooze3))),
	}
	blockID := ""
	if textLen(id) <= maxBlockID {
		blockID = id
		dp := slack.NewDatePickerBlockElement(actSnoozeDate)
		dp.Placeholder = plain(l.t(btnSnoozeDate))
		elems = append(elems, dp)
	}
	for i, addr := range nudge {
		if v := pairValue(id, addr); textLen(v) <= maxButtonValue {
			label := l.t(btnNudgeWho, clip(addr, maxButton))
			elems = append(elems, slack.NewButtonBlockElement(nudgeActionID(i), v, plain(clip(label, maxButton))))
		}
	}
	done := slack.NewButtonBlockElement(actDone, id, plain(l.t(btnDone)))
	done.Style = slack.StylePrimary
	elems = append(elems, done)
	elems = append(elems, links...)
	return slack.NewActionBlock(blockID, elems...)
}

// waitingFor reports whether m still waits for a recipient: one neither
// bounced nor conclusively answered.
func waitingFor(m track.Mail) bool {
	for _, r := range m.Recipients {
		if r.Status != track.StatusFailed && !m.Conclusive(r) {
			return true
		}
	}
	return false
}

// stateLine says when the mail was sent and where it stands.
func stateLine(m track.Mail, l locale) string {
	parts := []string{l.t(msgSent, l.when(m.SentAt))}
	switch {
	case m.State == track.StateDone:
		parts = append(parts, l.t(msgStateDone))
	case m.State == track.StateStopped:
		parts = append(parts, l.t(msgStateStopped))
	case m.State == track.StateSnoozed:
		parts = append(parts, l.t(msgSnoozedUntil, l.when(m.SnoozedUntil)))
	case !waitingFor(m):
		// Every recipient bounced or answered: nothing to wait for.
		parts = append(parts, l.t(msgNothingToWait))
	case awaitsAnswer(m):
		parts = append(parts, l.t(msgDue, l.when(track.NextDue(m))))
	}
	return strings.Join(parts, " · ")
}

// recipientText is one recipient's line on the card, with the advice for
// a bounce below it.
func recipientText(m track.Mail, r track.Recipient, l locale) string {
	var b strings.Builder
	b.WriteString(statusIcons[r.Status] + " " + who(r) + " — " + statusText(r, l))
	if r.Status == track.StatusFailed {
		b.WriteString("\n_" + esc(l.reason(r.Reason).Do) + "_")
	}
	if r.AutoReply == report.AutoReplyAway && !r.AwayUntil.IsZero() && r.Status != track.StatusAway {
		b.WriteString("\n" + statusIcons[track.StatusAway] + " _" + esc(l.t(msgAwayAlso, l.calendarDate(r.AwayUntil))) + "_")
	}
	if r.Confidence == track.ConfidenceLow {
		b.WriteString("\n_" + esc(l.t(msgLowConfidence)) + "_")
	}
	return b.String()
}

// awaitsAnswer reports whether m's card shows a deadline: one is armed
// and a recipient other than the sender has not answered yet.
func awaitsAnswer(m track.Mail) bool {
	if track.NextDue(m).IsZero() {
		return false
	}
	for _, r := range m.Recipients {
		if r.Address != m.Sender && !m.Conclusive(r) {
			return true
		}
	}
	return false
}

// answerText says a replied or away status in its own words: who answered
// for the recipient, until when they are away; ok is false for the other
// statuses.
func answerText(r track.Recipient, l locale) (string, bool) {
	switch {
	case r.Status == track.StatusReplied && r.AnsweredBy != "":
		return esc(l.t(msgAnsweredBy, r.AnsweredBy, l.when(r.StatusAt))), true
	case r.Status == track.StatusAway && !r.AwayUntil.IsZero():
		return esc(l.t(msgAwayUntil, l.calendarDate(r.AwayUntil))), true
	case r.Status == track.StatusAway:
		return esc(l.t(msgAwayNoDate)), true
	case r.Status == track.StatusAutoAck:
		return esc(l.status(r.Status)), true
	}
	return "", false
}

// statusText says a recipient's status with its reason or time. A missed
// deadline is said as a deadline, not as an event.
func statusText(r track.Recipient, l locale) string {
	if t, ok := answerText(r, l); ok {
		return t
	}
	s := l.status(r.Status)
	switch {
	case withReason[r.Status]:
		return esc(l.t(msgStatusReason, s, l.reason(r.Reason).Plain))
	case r.Status == track.StatusNoResponse && !r.StatusAt.IsZero():
		return esc(l.t(msgNoResponseBy, l.when(r.StatusAt)))
	case r.Status != track.StatusPending && !r.StatusAt.IsZero():
		return esc(l.t(msgStatusAt, s, l.when(r.StatusAt)))
	}
	return esc(s)
}

// who names a recipient in mrkdwn, escaped and shortened.
func who(r track.Recipient) string {
	if r.Name == "" {
		return "*" + escClip(r.Address, maxAddrShown) + "*"
	}
	return "*" + escClip(r.Name, maxNameShown) + "* " + esc("<") + escClip(r.Address, maxAddrShown) + esc(">")
}

// replyText is the thread reply for a notice: the recipient and the status
// the notice announces (not the mail's latest, which the card shows).
func replyText(m track.Mail, n track.Notice, l locale) string {
	r := track.Recipient{Address: n.Recipient, Status: n.To, Reason: n.Reason, StatusAt: n.At, Confidence: n.Confidence}
	for _, mr := range m.Recipients {
		if mr.Address == n.Recipient {
			r.Name = mr.Name
			r.AnsweredBy, r.AutoReply, r.AwayUntil = mr.AnsweredBy, mr.AutoReply, mr.AwayUntil
		}
	}
	text := l.t(msgReply, who(r), statusText(r, l))
	if n.To == track.StatusFailed {
		sep := " "
		if l.lang == Japanese {
			sep = "。" // ends the status phrase; Japanese puts no space between sentences
		}
		text += sep + esc(l.reason(n.Reason).Do)
	}
	return statusIcons[n.To] + " " + text
}

// cardFallback is the card's notification text: escaped, since Slack
// parses a message's top-level text too.
func cardFallback(m track.Mail, l locale) string {
	var parts []string
	for i, r := range m.Recipients {
		if i == 3 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, escClip(r.Address, maxAddrShown)+": "+esc(l.status(r.Status)))
	}
	return clipLines(subjectText(m, l)+" — "+strings.Join(parts, ", "), maxFallback)
}

// subject is the mail's subject as written, or a placeholder.
func subject(m track.Mail, l locale) string {
	if strings.TrimSpace(m.Subject) == "" {
		return l.t(msgNoSubject)
	}
	return m.Subject
}

// subjectText is the subject for mrkdwn and message text: escaped and
// shortened.
func subjectText(m track.Mail, l locale) string {
	return escClip(subject(m, l), maxSubjectShown)
}

// pairValue packs a Message-ID and an address into one button value;
// normalised Message-IDs and addresses hold no spaces.
func pairValue(messageID, addr string) string { return messageID + " " + addr }

func splitPair(v string) (messageID, addr string, ok bool) {
	messageID, addr, ok = strings.Cut(v, " ")
	return messageID, addr, ok && messageID != "" && addr != ""
}
