package bot

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/mailack/mailack/track"
)

const (
	// outboxBatch is how many due outbox items one pass reads at a time,
	// and laterBatch how many not yet due it looks through for the same
	// mails.
	outboxBatch = 100
	laterBatch  = 10 * outboxBatch
	// maxScanned bounds the due items one pass looks through for senders
	// without a lane.
	maxScanned = 100 * outboxBatch
	// permanentRetry is how long an item Slack refused waits before it is
	// tried again.
	permanentRetry = 24 * time.Hour
)

// problemKinds are the notices a LevelProblems user is told about.
var problemKinds = map[track.NoticeKind]bool{
	track.NoticeBounced:    true,
	track.NoticeDelayed:    true,
	track.NoticeNoResponse: true,
}

// maxLanes bounds the senders whose notices are delivered at once.
const maxLanes = 16

// writer drains the outbox. A pass reads the items due and hands each
// sender's to a lane of their own, which delivers them mail by mail in
// outbox order: a sender whose calls wait for their channel's turn does
// not hold back another sender's card.
type writer struct {
	b     *Bot
	lanes sync.WaitGroup // the lanes still running
	homes chan struct{}  // wakes the App Home refresher; capacity 1

	mu   sync.Mutex      // guards the fields below
	busy map[string]bool // senders whose lane is running
	// finished counts lanes that ended; ended records the count when
	// each sender's last lane ended. Items read before a sender's lane
	// ended may have been delivered by it, so no lane starts on them.
	finished uint64
	ended    map[string]uint64
	retryAt  time.Time // when the items held by a rate limit are due
	stale    []string  // users whose App Home is to be refreshed, in order
}

// runWriter delivers the outbox until ctx is cancelled: a pass every Poll,
// or at once when woken (a lane finishing wakes it too), or when items
// held by a rate limit fall due. App Homes are refreshed beside it, so
// that no card waits for a home's turn.
func (b *Bot) runWriter(ctx context.Context) error {
	w := &writer{b: b, busy: map[string]bool{}, homes: make(chan struct{}, 1)}
	var refresher sync.WaitGroup
	defer refresher.Wait()
	refresher.Go(func() { w.refreshHomes(ctx) })
	for {
		more := w.pass(ctx)
		wait := b.cfg.Poll
		if more {
			wait = 0
		} else if d := time.Until(w.rateRetry()); d > 0 && d < wait {
			wait = d
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			w.lanes.Wait()
			w.lastPass(ctx)
			return nil
		case <-t.C:
		case <-b.kick:
			t.Stop()
		}
	}
}

// lastAttempt bounds the pass made when the bot stops.
const lastAttempt = 5 * time.Second

// lastPass makes one more delivery attempt when the bot stops, so that
// notices produced just before a shutdown are not held until the next
// start. What it cannot deliver in time stays in the outbox. It keeps the
// values of ctx, the deliverer's fence among them: a deliverer that no
// longer leads makes no last attempt (pass).
func (w *writer) lastPass(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lastAttempt)
	defer cancel()
	w.pass(ctx)
	w.lanes.Wait()
}

// pass starts a lane for each sender with items due now and no lane
// running, up to maxLanes. It pages through the due items, outboxBatch at
// a time, until every lane is taken or it has seen them all (at most
// maxScanned), so that the items of senders whose lanes are busy cannot
// hide another sender's items behind them. It reports whether it
// started a lane and stopped before the end, so more may be due at once.
func (w *writer) pass(ctx context.Context) bool {
	if err := w.b.deps.Outbox.CheckFence(ctx); err != nil {
		// In cluster mode another node delivers now, or the cluster cannot
		// tell: nothing is sent.
		w.b.log.Warn("not delivering: not known to be the deliverer", "err", err)
		return false
	}
	now := time.Now()
	read := w.readMark()   // before anything of this pass is read
	var later []OutboxItem // read once a pass, when first needed
	var after uint64
	started := false
	for scanned := 0; scanned < maxScanned; {
		page, err := w.b.deps.Outbox.Pending(ctx, now, after, outboxBatch)
		if err == nil && len(page) > 0 && later == nil {
			later, err = w.b.deps.Outbox.Pending(ctx, now.Add(w.b.cfg.MaxBackoff), 0, laterBatch)
		}
		if err != nil {
			w.b.log.Error("cannot read outbox", "err", err)
			return false
		}
		if len(page) == 0 {
			return false
		}
		scanned += len(page)
		after = page[len(page)-1].Seq
		for _, lane := range bySender(byMail(withLater(page, later))) {
			if ctx.Err() != nil || !w.start(lane.sender, read) {
				continue
			}
			started = true
			w.lanes.Go(func() {
				defer w.b.wake() // what this lane skipped can go now
				defer w.done(lane.sender)
				w.run(ctx, lane.mails)
			})
		}
		if len(page) < outboxBatch || w.full() {
			return started && len(page) == outboxBatch
		}
	}
	return started
}

// full reports whether every lane is taken.
func (w *writer) full() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.busy) >= maxLanes
}

// start claims a lane for sender, for items read when read (from
// readMark): false when theirs is running or every lane is, or when a
// lane of theirs ended after the items were read, as it may have
// delivered them (its end wakes another pass, which reads them afresh).
func (w *writer) start(sender string, read uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.busy[sender] || len(w.busy) >= maxLanes || w.ended[sender] > read {
		return false
	}
	w.busy[sender] = true
	return true
}

// readMark is taken before reading the outbox, for start.
func (w *writer) readMark() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.finished
}

func (w *writer) done(sender string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.busy, sender)
	w.finished++
	if w.ended == nil {
		w.ended = map[string]uint64{}
	}
	w.ended[sender] = w.finished
}

func (w *writer) rateRetry() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.retryAt
}

// run delivers one sender's mails, then has the App Home of each user it
// touched refreshed.
func (w *writer) run(ctx context.Context, mails [][]OutboxItem) {
	for _, group := range mails {
		if ctx.Err() != nil {
			return
		}
		if user := w.deliver(ctx, group); user != "" {
			w.homeStale(user)
		}
	}
}

// homeStale queues a refresh of user's App Home, once however often it
// is asked for before the refresher gets to it.
func (w *writer) homeStale(user string) {
	w.mu.Lock()
	if !slices.Contains(w.stale, user) {
		w.stale = append(w.stale, user)
	}
	w.mu.Unlock()
	select {
	case w.homes <- struct{}{}:
	default: // already woken
	}
}

// refreshHomes publishes the App Homes queued by homeStale, one at a time
// within views.publish's limit, until ctx is cancelled.
func (w *writer) refreshHomes(ctx context.Context) {
	for {
		w.mu.Lock()
		var user string
		if len(w.stale) > 0 {
			user = w.stale[0]
			w.stale = w.stale[1:]
		}
		w.mu.Unlock()
		if user == "" {
			select {
			case <-ctx.Done():
				return
			case <-w.homes:
			}
			continue
		}
		if err := w.b.publishHome(ctx, paced, user); err != nil {
			w.failed(ctx, nil, err)
		}
	}
}

// withLater adds to the items due the items of the same mails that fall
// due within the longest backoff (later), so that one card update covers
// them all, and returns them in outbox order.
func withLater(items, later []OutboxItem) []OutboxItem {
	mails := map[string]bool{}
	seqs := map[uint64]bool{}
	for _, it := range items {
		mails[it.Notice.MessageID] = true
		seqs[it.Seq] = true
	}
	out := slices.Clone(items)
	for _, it := range later {
		if mails[it.Notice.MessageID] && !seqs[it.Seq] {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b OutboxItem) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// lane is one sender's mails, each with its items, in outbox order.
type lane struct {
	sender string
	mails  [][]OutboxItem
}

// bySender groups mails by sender, keeping the outbox order within and
// among the groups.
func bySender(mails [][]OutboxItem) []lane {
	var out []lane
	index := map[string]int{}
	for _, m := range mails {
		s := track.NormalizeAddress(m[0].Notice.Sender)
		i, ok := index[s]
		if !ok {
			i = len(out)
			index[s] = i
			out = append(out, lane{sender: s})
		}
		out[i].mails = append(out[i].mails, m)
	}
	return out
}

// byMail groups items by mail, keeping the outbox order within and among
// the groups.
func byMail(items []OutboxItem) [][]OutboxItem {
	var out [][]OutboxItem
	index := map[string]int{}
	for _, it := range items {
		id := it.Notice.MessageID
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], it)
	}
	return out
}

// shown is a mail whose card is up to date, and how to talk to its sender.
type shown struct {
	mail  track.Mail
	user  string
	loc   locale
	set   UserSettings
	card  Card
	fresh bool // the card was just posted
}

// deliver shows one mail's notices: it brings the card up to date (one
// post or update for all of them), then replies in its thread for each
// notice the sender wants to hear of, acknowledging each item once it is
// delivered. It returns the sender's user ID when the card was shown.
func (w *writer) deliver(ctx context.Context, items []OutboxItem) string {
	s, ok := w.show(ctx, items)
	if !ok {
		return ""
	}
	for i, it := range items {
		// A card just posted notifies by itself and shows every status; so
		// did the card posted for the item before it was acknowledged.
		if !s.fresh && it.InFlight != flightCard && wantsReply(s.set, s.mail, it.Notice.Kind) {
			if err := w.replyOnce(ctx, s, it); err != nil {
				w.failed(ctx, items[i:], err)
				return s.user
			}
		}
		w.b.alertBounce(ctx, s.mail, it.Notice)
		if !w.ack(ctx, items[i:i+1]) {
			return s.user
		}
	}
	w.b.log.Debug("notices delivered", "message_id", s.mail.MessageID, "notices", len(items), "user", s.user)
	return s.user
}

// show brings the card of the items' mail up to date, under the card's
// lock. When it reports false, it has dealt with the items: kept them for
// later, or dropped those nobody can receive.
func (w *writer) show(ctx context.Context, items []OutboxItem) (shown, bool) {
	b := w.b
	id := items[0].Notice.MessageID
	defer b.lockCard(id)()
	m, err := b.deps.Mails.Mail(ctx, id)
	if errors.Is(err, ErrNotFound) {
		b.log.Warn("notices for an unknown mail dropped", "message_id", id, "notices", len(items))
		w.ack(ctx, items)
		return shown{}, false
	}
	if err != nil {
		w.failed(ctx, items, err)
		return shown{}, false
	}
	s := shown{mail: m}
	if s.user, err = b.dir.userOf(ctx, m.Sender); err == nil && s.user == "" {
		b.log.Info("sender has no slack user; notices dropped", "message_id", id, "sender", m.Sender)
		w.ack(ctx, items)
		return shown{}, false
	}
	if err == nil {
		s.loc, s.set, err = b.userLocale(ctx, s.user)
	}
	if err != nil {
		w.failed(ctx, items, err)
		return shown{}, false
	}
	if until, quiet := s.set.Quiet.Until(time.Now(), s.loc.zone()); quiet {
		w.hold(ctx, items, until)
		return shown{}, false
	}
	if s.card, s.fresh, err = w.showOnce(ctx, s, items); err != nil {
		w.failed(ctx, items, err)
		return shown{}, false
	}
	return s, true
}

// ack removes delivered items from the outbox. It reports false when
// this deliverer no longer leads: it must stop.
func (w *writer) ack(ctx context.Context, items []OutboxItem) bool {
	for _, it := range items {
		err := w.b.deps.Outbox.Ack(ctx, it.Seq)
		if errors.Is(err, ErrFenced) {
			w.b.log.Warn("not the deliverer any more; the next one acknowledges", "seq", it.Seq, "err", err)
			return false
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			// The item stays, marked in flight when something was
			// sent for it: the next attempt finds that in Slack.
			w.b.log.Error("cannot acknowledge outbox item", "seq", it.Seq, "err", err)
		}
	}
	return true
}

// hold keeps items back until the end of the sender's quiet hours.
func (w *writer) hold(ctx context.Context, items []OutboxItem, until time.Time) {
	for _, it := range items {
		if err := w.b.deps.Outbox.Retry(ctx, it.Seq, until, "quiet hours"); err != nil {
			w.b.log.Error("cannot hold outbox item", "seq", it.Seq, "err", err)
		}
	}
}

// failed keeps items for a later attempt, when depending on why the call
// failed: after Slack's Retry-After (pausing the writer), after a backoff,
// or after a day for a request Slack refused.
func (w *writer) failed(ctx context.Context, items []OutboxItem, err error) {
	if ctx.Err() != nil {
		return // shutting down; the items stay due
	}
	if errors.Is(err, ErrFenced) {
		// Another node delivers now: it finds the items as they are.
		w.b.log.Warn("not the deliverer any more; notices left to the next one", "err", err)
		return
	}
	now := time.Now()
	kind, after := classify(err)
	if kind == failRateLimited {
		// call has paused the method for as long.
		w.b.log.Warn("slack rate limit; pausing the method", "retry_after", after, "err", err)
	}
	if len(items) == 0 {
		if kind != failRateLimited {
			w.b.log.Warn("slack call failed", "err", err)
		}
		return
	}
	// One time for all of a mail's items, so that they are delivered
	// together, with one card update.
	attempts := 0
	for _, it := range items {
		attempts = max(attempts, it.Attempts)
	}
	next := now.Add(w.backoff(attempts))
	switch kind {
	case failRateLimited:
		next = now.Add(after)
		w.mu.Lock()
		if !w.retryAt.After(now) || next.Before(w.retryAt) {
			w.retryAt = next
		}
		w.mu.Unlock()
	case failPermanent:
		next = now.Add(permanentRetry)
	}
	for _, it := range items {
		if rerr := w.b.deps.Outbox.Retry(ctx, it.Seq, next, err.Error()); rerr != nil {
			w.b.log.Error("cannot reschedule outbox item", "seq", it.Seq, "err", rerr)
		}
	}
	attrs := []any{"message_id", items[0].Notice.MessageID, "attempts", attempts + 1, "next", next, "err", err}
	if kind == failPermanent {
		w.b.log.Error("slack refused a notice; retrying in a day", attrs...)
		return
	}
	w.b.log.Warn("notice delivery failed; will retry", attrs...)
}

// backoff doubles from MinBackoff per attempt up to MaxBackoff.
func (w *writer) backoff(attempts int) time.Duration {
	d := w.b.cfg.MinBackoff
	for range min(attempts, 30) {
		d *= 2
		if d >= w.b.cfg.MaxBackoff {
			return w.b.cfg.MaxBackoff
		}
	}
	return min(d, w.b.cfg.MaxBackoff)
}
