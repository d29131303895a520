package bot

import (
	"context"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mailack/mailack/track"
)

// summaryEvery is how often the bot looks whether a morning summary is
// due; summaryWindow is how late after its time one is still sent (after
// a restart, say), so that nobody gets the morning's summary at night.
const (
	summaryEvery  = time.Minute
	summaryWindow = 3 * time.Hour
	// maxSummaryLines is how many mails each part of a summary names.
	maxSummaryLines = 10
)

// settingsUsers lists the users who have settings; the bot's Settings
// may offer it. Without it there are no morning summaries.
type settingsUsers interface {
	SettingsUsers(ctx context.Context) ([]string, error)
}

// runSummaries sends the morning summaries that are due, every minute,
// until ctx is cancelled.
func (b *Bot) runSummaries(ctx context.Context) error {
	if _, ok := b.deps.Settings.(settingsUsers); !ok {
		return nil
	}
	t := time.NewTicker(summaryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			b.SendSummaries(ctx, b.now())
		}
	}
}

// SendSummaries sends every morning summary due at now: to each user who
// turned it on, on a working day (Config.WorkingDay) at the time they
// chose in their time zone, once a day.
func (b *Bot) SendSummaries(ctx context.Context, now time.Time) {
	lister, ok := b.deps.Settings.(settingsUsers)
	if !ok {
		return
	}
	users, err := lister.SettingsUsers(ctx)
	if err != nil {
		b.log.Warn("cannot list users for morning summaries", "err", err)
		return
	}
	for _, u := range users {
		if ctx.Err() != nil {
			return
		}
		b.summaryFor(ctx, u, now)
	}
}

// summaryFor sends u's summary when it is due at now.
func (b *Bot) summaryFor(ctx context.Context, user string, now time.Time) {
	l, set, err := b.userLocale(ctx, user)
	if err != nil || !set.Summary.On {
		return
	}
	local := now.In(l.zone())
	day := local.Format(time.DateOnly)
	y, mo, d := local.Date()
	at := time.Date(y, mo, d, 0, 0, 0, 0, l.zone()).Add(time.Duration(set.Summary.At) * time.Minute)
	if set.SummarySent == day || !b.workingDay(at) || local.Before(at) || local.Sub(at) > summaryWindow {
		return
	}
	mails, err := b.ownMails(ctx, user, true)
	if err != nil {
		b.log.Warn("cannot load mails for a morning summary", "user", user, "err", err)
		return
	}
	l.now = now
	text, blocks := summaryMessage(mails, now, b.previousWorkday(at), l)
	ch, err := b.dmChannel(ctx, paced, user)
	if err == nil {
		err = b.call(ctx, paced, postMessage, ch, func(ctx context.Context) error {
			_, _, err := b.api.PostMessageContext(ctx, ch, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return wrap(err, "chat.postMessage summary")
		})
	}
	if err != nil {
		b.log.Warn("cannot send morning summary", "user", user, "err", err)
		return
	}
	if _, err := b.editSettings(ctx, user, func(set *UserSettings) { set.SummarySent = day }); err != nil {
		b.log.Warn("cannot remember the morning summary was sent", "user", user, "err", err)
	}
	b.log.Info("morning summary sent", "user", user)
}

// workingDay reports whether t is on a working day: the configured
// calendar's (with its holidays), else Monday to Friday.
func (b *Bot) workingDay(t time.Time) bool {
	if b.cfg.WorkingDay != nil {
		return b.cfg.WorkingDay(t)
	}
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
}

// previousWorkday is the same time on the working day before t, at most
// two weeks back.
func (b *Bot) previousWorkday(t time.Time) time.Time {
	p := t.AddDate(0, 0, -1)
	for i := 0; i < 14 && !b.workingDay(p); i++ {
		p = p.AddDate(0, 0, -1)
	}
	return p
}

// summaryMessage is a morning summary: what was answered since since,
// what is still waiting and what passed its deadline.
func summaryMessage(mails []track.Mail, now, since time.Time, l locale) (string, []slack.Block) {
	var answered, waitingMails, overdue []track.Mail
	for _, m := range mails {
		switch {
		case answeredSince(m, since):
			answered = append(answered, m)
		case m.Closed():
		case pastDeadline(m, now):
			overdue = append(overdue, m)
		case waitingFor(m):
			waitingMails = append(waitingMails, m)
		}
	}
	title := l.t(msgSummaryTitle, l.day(now))
	blocks := []slack.Block{slack.NewHeaderBlock(plain(clip(title, maxHeader)))}
	parts := []struct {
		head  msg
		mails []track.Mail
	}{{msgSummaryAnswered, answered}, {msgSummaryOverdue, overdue}, {msgSummaryWaiting, waitingMails}}
	empty := true
	for _, p := range parts {
		if len(p.mails) == 0 {
			continue
		}
		empty = false
		lines := []string{"*" + esc(l.t(p.head, len(p.mails))) + "*"}
		for i, m := range p.mails {
			if i == maxSummaryLines {
				lines = append(lines, l.t(msgListMore, len(p.mails)-i))
				break
			}
			lines = append(lines, "• "+subjectText(m, l)+" — "+esc(l.t(msgSent, l.when(m.SentAt))))
		}
		blocks = append(blocks, section(clipLines(strings.Join(lines, "\n"), maxSectionText)))
	}
	if empty {
		blocks = append(blocks, section(esc(l.t(msgSummaryNothing))))
	}
	return esc(title), blocks
}

// answeredSince reports whether a recipient of m answered conclusively
// after since (a bounce is no answer).
func answeredSince(m track.Mail, since time.Time) bool {
	for _, r := range m.Recipients {
		if r.Status != track.StatusFailed && m.Conclusive(r) && r.StatusAt.After(since) {
			return true
		}
	}
	return false
}

// pastDeadline reports whether m's deadline passed without an answer.
func pastDeadline(m track.Mail, now time.Time) bool {
	if !m.DueAt.IsZero() && m.DueAt.Before(now) {
		return true
	}
	for _, r := range m.Recipients {
		if r.Status == track.StatusNoResponse {
			return true
		}
	}
	return false
}
