package mailwatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// folderWatch watches one folder of one account over its own connection
// (IDLE watches only the selected folder).
type folderWatch struct {
	w      *Watcher
	acct   Account
	role   Role
	folder string // as configured; "" for a Sent folder found by special use
	log    *slog.Logger
	// liveFrom is the first UID that arrived while watched: the folder's
	// UIDNEXT when it was first read from an empty checkpoint, else 0.
	// Owned by the folder's one session at a time.
	liveFrom uint32
	// searchRefused is set once the server refused a candidate search
	// (see heads); owned like liveFrom.
	searchRefused bool
}

// sentHeaderFields are fetched for every new sent mail.
var sentHeaderFields = []string{"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "Content-Type",
	"Disposition-Notification-To", "Return-Receipt-To", "X-Confirm-Reading-To"}

// catchUpWindow is how many UIDs one header fetch covers, so that memory
// stays flat however large the folder is.
const catchUpWindow = 1000

// session runs one connection: select, catch up, wait for changes, catch
// up again, until the connection fails or ctx ends.
func (f *folderWatch) session(ctx context.Context) error {
	events := make(chan struct{}, 1)
	h := &imapclient.UnilateralDataHandler{
		// Runs on go-imap's reader goroutine: never send commands here.
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case events <- struct{}{}:
				default:
				}
			}
		},
		Fetch: func(msg *imapclient.FetchMessageData) { msg.Collect() },
	}
	warn := newWarnTap()
	c, release, err := f.w.connect(ctx, f.acct, h, warn)
	if err != nil {
		return err
	}
	defer release()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	name, err := f.resolve(c)
	if err != nil {
		return err
	}
	cp, uidNext, err := f.open(ctx, c, name)
	if err != nil {
		return err
	}
	if f.role == RoleReports && f.w.opts.Answers != nil {
		f.w.awaitSent(ctx, f.acct.Name, f.w.opts.CommandTimeout)
	}
	watching := false
	defer func() {
		if watching {
			f.w.watching.Add(-1)
		}
	}()
	checked := time.Now()
	for {
		if cp, err = f.catchUp(ctx, c, cp, uidNext); err != nil {
			return err
		}
		f.w.synced(f.acct.Name)
		if f.role == RoleSent {
			f.w.sentDone(f.acct.Name)
		}
		if !watching {
			watching = true
			f.w.watching.Add(1)
		}
		uidNext = 0 // from now on fetch open-ended ranges
		warned, err := f.wait(ctx, c, events, warn.c, checked)
		if err != nil {
			return err
		}
		if !warned && time.Since(checked) < f.w.opts.IdleRestart {
			continue
		}
		// Select the folder again: a folder deleted and recreated while
		// selected keeps its old view on some servers (Dovecot 2.3 only
		// answers "* NO Internal error" to every command and never reports
		// the new folder's mail), and only a new SELECT shows the new
		// UIDVALIDITY (RFC 9051 section 2.3.1.1). A folder that is gone
		// makes the SELECT fail, and the session reconnects with backoff.
		if cp, uidNext, err = f.open(ctx, c, name); err != nil {
			return err
		}
		checked = time.Now()
		warn.drain() // the answers to the old view's commands
	}
}

// open selects the folder and returns the checkpoint to read on from and
// the folder's UIDNEXT. A checkpoint of another UIDVALIDITY is discarded:
// the folder is read again from the start (RFC 9051 section 2.3.1.1).
func (f *folderWatch) open(ctx context.Context, c *imapclient.Client, name string) (Checkpoint, uint32, error) {
	var sel *imap.SelectData
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		sel, err = c.Select(name, &imap.SelectOptions{CondStore: c.Caps().Has(imap.CapCondStore)}).Wait()
		return err
	})
	if err != nil {
		return Checkpoint{}, 0, temporary(fmt.Errorf("select %q: %w", name, err))
	}
	cp, err := f.w.opts.Sink.Checkpoint(ctx, f.acct.Name, name)
	if err != nil {
		return cp, 0, fmt.Errorf("read checkpoint: %w", err)
	}
	if cp.UIDValidity != sel.UIDValidity {
		if cp.UIDValidity != 0 {
			f.log.Info("uidvalidity changed: rescanning folder", "folder", name, "old", cp.UIDValidity, "new", sel.UIDValidity)
		}
		cp = Checkpoint{Account: f.acct.Name, Folder: name, UIDValidity: sel.UIDValidity}
	}
	f.liveFrom = 0
	if cp.LastUID == 0 {
		// What is there already is a backlog; see readAnswer.
		f.liveFrom = uint32(sel.UIDNext)
	}
	if cp.LastUID == 0 && f.acct.Since > 0 {
		if cp, err = f.startSince(ctx, c, cp, uint32(sel.UIDNext)); err != nil {
			return cp, 0, err
		}
	}
	return cp, uint32(sel.UIDNext), nil
}

// resolve returns the name of the folder to select.
func (f *folderWatch) resolve(c *imapclient.Client) (string, error) {
	if f.folder != "" {
		return f.folder, nil
	}
	var list []*imap.ListData
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		opts := &imap.ListOptions{}
		if c.Caps().Has(imap.CapSpecialUse) {
			opts.ReturnSpecialUse = true
		}
		list, err = c.List("", "*", opts).Collect()
		return err
	})
	if err != nil {
		return "", temporary(fmt.Errorf("list folders: %w", err))
	}
	for _, l := range list {
		if slices.Contains(l.Attrs, imap.MailboxAttrSent) {
			return l.Mailbox, nil
		}
	}
	for _, name := range []string{"Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail", "INBOX.Sent", "送信済みアイテム"} {
		for _, l := range list {
			if strings.EqualFold(l.Mailbox, name) {
				return l.Mailbox, nil
			}
		}
	}
	return "", fmt.Errorf("account %s: no folder has the \\Sent attribute; set sent_folder", f.acct.Name)
}

// head is what the cheap first fetch learns about a message.
type head struct {
	uid    uint32
	size   int64
	header []byte
}

// catchUp reads every message after cp, window by window, and returns the
// checkpoint reached. uidNext bounds the windows; 0 means unknown, and the
// range is then open-ended.
func (f *folderWatch) catchUp(ctx context.Context, c *imapclient.Client, cp Checkpoint, uidNext uint32) (Checkpoint, error) {
	if uidNext == 0 {
		// New mail arrived while connected: learn how far it reaches with
		// a fetch of UIDs alone, so that a large batch is still read one
		// window at a time.
		top, err := f.highestUID(c, cp.LastUID+1)
		if err != nil || top == 0 {
			return cp, err
		}
		uidNext = top + 1
	}
	for {
		start := cp.LastUID + 1
		openEnded := uidNext == 0 || start+catchUpWindow > uidNext
		set := imap.UIDSet{{Start: imap.UID(start), Stop: imap.UID(start + catchUpWindow - 1)}}
		if openEnded {
			set = imap.UIDSet{{Start: imap.UID(start), Stop: 0}}
		}
		heads, covered, err := f.heads(c, set, start, uidNext)
		if err != nil {
			return cp, err
		}
		last := max(cp.LastUID, covered)
		for _, h := range heads {
			if ctx.Err() != nil {
				return cp, ctx.Err()
			}
			it, err := f.read(ctx, c, h)
			if err != nil {
				return cp, err
			}
			last = max(last, h.uid)
			if it.Reports == nil && it.Sent == nil && it.Quarantine == nil {
				continue
			}
			it.Checkpoint = cp
			it.Checkpoint.LastUID = h.uid
			if err := f.w.opts.Sink.Apply(ctx, it); err != nil {
				return cp, fmt.Errorf("apply uid %d: %w", h.uid, err)
			}
			cp = it.Checkpoint
			f.afterApply(c, it)
		}
		if !openEnded && last < start+catchUpWindow-1 {
			// UIDs are never reused under one UIDVALIDITY: the gap holds
			// no message and never will.
			last = start + catchUpWindow - 1
		}
		if last > cp.LastUID {
			adv := cp
			adv.LastUID = last
			if err := f.w.opts.Sink.Apply(ctx, Item{Checkpoint: adv, Role: f.role}); err != nil {
				return cp, fmt.Errorf("advance checkpoint: %w", err)
			}
			cp = adv
		}
		if openEnded {
			return cp, nil
		}
	}
}

// highestUID returns the highest UID at or above start, or 0 when there
// is none.
func (f *folderWatch) highestUID(c *imapclient.Client, start uint32) (uint32, error) {
	var bufs []*imapclient.FetchMessageBuffer
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		bufs, err = c.Fetch(imap.UIDSet{{Start: imap.UID(start), Stop: 0}}, &imap.FetchOptions{UID: true}).Collect()
		return err
	})
	if err != nil {
		return 0, temporary(fmt.Errorf("fetch uids from %d: %w", start, err))
	}
	var top uint32
	for _, b := range bufs {
		if u := uint32(b.UID); u >= start && u > top {
			top = u
		}
	}
	return top, nil
}

// fetchHeads fetches the size and the examined header fields of the
// messages in set, dropping UIDs below start ("UID FETCH n:*" always
// returns the last message, even below n).
func (f *folderWatch) fetchHeads(c *imapclient.Client, set imap.UIDSet, start uint32) ([]head, error) {
	fields := report.LikelyFields
	if f.w.opts.Answers != nil {
		fields = append(append([]string{}, report.LikelyFields...), threadFields...)
	}
	if f.role == RoleSent {
		fields = sentHeaderFields
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: fields, Peek: true}
	var bufs []*imapclient.FetchMessageBuffer
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		bufs, err = c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		return err
	})
	if err != nil {
		return nil, temporary(fmt.Errorf("fetch headers %v: %w", set, err))
	}
	heads := make([]head, 0, len(bufs))
	for _, b := range bufs {
		if uint32(b.UID) < start {
			continue
		}
		heads = append(heads, head{uid: uint32(b.UID), size: b.RFC822Size, header: b.FindBodySection(section)})
	}
	slices.SortFunc(heads, func(a, b head) int { return int(a.uid) - int(b.uid) })
	return heads, nil
}

// read examines one message and returns what it found. Only messages that
// may matter are fetched whole (likely reports, automatic replies to
// tracked mail), and never more than MaxMessageBytes of them.
func (f *folderWatch) read(ctx context.Context, c *imapclient.Client, h head) (Item, error) {
	it := Item{Role: f.role, UID: h.uid, Size: h.size}
	switch f.role {
	case RoleReports:
		if !report.Likely(h.header) {
			if f.w.opts.Answers == nil {
				return it, nil
			}
			return f.readAnswer(ctx, c, it, h)
		}
	case RoleSent:
		if f.acct.Policy.PixelMarker == "" {
			return f.process(it, h.header), nil
		}
	}
	raw, err := f.fetchBody(c, h)
	if err != nil {
		return it, err
	}
	return f.process(it, raw), nil
}

// maxShrinkFactor bounds how much of a report larger than MaxMessageBytes
// is streamed through report.Shrink: at most this many times the cap.
const maxShrinkFactor = 16

// fetchBody fetches a whole message, or its first MaxMessageBytes. A report
// candidate larger than that is streamed through report.Shrink instead, so
// that a report part after a large returned message is still read.
func (f *folderWatch) fetchBody(c *imapclient.Client, h head) ([]byte, error) {
	if f.role == RoleReports && h.size > f.w.opts.MaxMessageBytes {
		return f.fetchShrunk(c, h)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	if h.size > f.w.opts.MaxMessageBytes {
		section.Partial = &imap.SectionPartial{Offset: 0, Size: f.w.opts.MaxMessageBytes}
	}
	var bufs []*imapclient.FetchMessageBuffer
	set := imap.UIDSetNum(imap.UID(h.uid))
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		bufs, err = c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		return err
	})
	if err != nil {
		return nil, temporary(fmt.Errorf("fetch uid %d: %w", h.uid, err))
	}
	for _, b := range bufs {
		if uint32(b.UID) == h.uid {
			return b.FindBodySection(section), nil
		}
	}
	// Expunged between the two fetches: nothing to read.
	return nil, nil
}

// fetchShrunk streams a large message through report.Shrink, keeping at
// most MaxMessageBytes of it in memory, and at most maxShrinkFactor times
// that read from the server. The command's time limit grows with the size
// (at least 1 MB a second).
func (f *folderWatch) fetchShrunk(c *imapclient.Client, h head) ([]byte, error) {
	limit := f.w.opts.MaxMessageBytes
	section := &imap.FetchItemBodySection{Peek: true}
	if h.size > limit*maxShrinkFactor {
		section.Partial = &imap.SectionPartial{Offset: 0, Size: limit * maxShrinkFactor}
	}
	timeout := f.w.opts.CommandTimeout + time.Duration(min(h.size, limit*maxShrinkFactor)/1e6)*time.Second
	var raw []byte
	set := imap.UIDSetNum(imap.UID(h.uid))
	err := guard(timeout, c, func() error {
		cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			var uid imap.UID
			for item := msg.Next(); item != nil; item = msg.Next() {
				switch it := item.(type) {
				case imapclient.FetchItemDataUID:
					uid = it.UID
				case imapclient.FetchItemDataBodySection:
					// One UID was asked for; a server that sends the
					// UID after the literal still sends only that one.
					if uid != 0 && uid != imap.UID(h.uid) || it.Literal == nil {
						continue
					}
					b, err := report.Shrink(it.Literal, int(limit))
					if err != nil {
						cmd.Close()
						return err
					}
					raw = b
				}
			}
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, temporary(fmt.Errorf("fetch uid %d: %w", h.uid, err))
	}
	return raw, nil
}

// maxQuarantineHead caps how much of a quarantined message is kept.
const maxQuarantineHead = 64 << 10

// process turns a message into an item. A message that cannot be read, or
// whose reading panics, is quarantined: one bad message never stops the
// watcher and is never retried.
func (f *folderWatch) process(it Item, raw []byte) (out Item) {
	if raw == nil {
		return it
	}
	defer func() {
		if f.w.opts.DontRecover {
			return
		}
		if r := recover(); r != nil {
			f.log.Error("message processing panicked: quarantined", "uid", it.UID, "panic", r, "stack", string(debug.Stack()))
			out = it
			out.Reports, out.Sent = nil, nil
			out.Quarantine = &Quarantined{Reason: fmt.Sprintf("panic: %v", r), Head: headOf(raw)}
		}
	}()
	switch f.role {
	case RoleReports:
		rs, err := f.w.parse(raw)
		if err != nil {
			f.log.Warn("unreadable message: quarantined", "uid", it.UID, "err", err)
			it.Quarantine = &Quarantined{Reason: err.Error(), Head: headOf(raw)}
			return it
		}
		if rs == nil {
			rs = []report.Report{} // examined, no report: still recorded
		}
		it.Reports = rs
	case RoleSent:
		m, ok, err := SentMail(f.acct.Name, f.acct.owner(), raw, f.acct.Policy, f.w.opts.Now())
		switch {
		case errors.Is(err, errNoMessageID):
			f.log.Warn("sent mail without message-id: not tracked", "uid", it.UID)
		case err != nil:
			f.log.Warn("unreadable sent mail: quarantined", "uid", it.UID, "err", err)
			it.Quarantine = &Quarantined{Reason: err.Error(), Head: headOf(raw)}
		case ok:
			it.Sent = &m
		}
	}
	return it
}

func headOf(raw []byte) []byte {
	if len(raw) > maxQuarantineHead {
		raw = raw[:maxQuarantineHead]
	}
	return append([]byte(nil), raw...)
}

// afterApply moves or flags a processed report, once its result is stored.
// A failure here loses nothing and is only logged.
func (f *folderWatch) afterApply(c *imapclient.Client, it Item) {
	if f.role != RoleReports || len(it.Reports) == 0 || track.IsAnswer(it.Reports[0]) {
		return // replies stay where people read them
	}
	set := imap.UIDSetNum(imap.UID(it.UID))
	var err error
	switch {
	case f.acct.MoveReportsTo != "":
		err = guard(f.w.opts.CommandTimeout, c, func() error {
			_, err := c.Move(set, f.acct.MoveReportsTo).Wait()
			return err
		})
	case f.acct.FlagReports:
		err = guard(f.w.opts.CommandTimeout, c, c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close)
	}
	if err != nil {
		f.log.Warn("could not move or flag a processed report", "uid", it.UID, "err", err)
	}
}

// recheckGap is the least time between two selects of the folder that
// untagged NO responses ask for, so that a server that sends them often
// costs at most one SELECT per gap.
const recheckGap = 5 * time.Second

// wait blocks until the folder may have changed: an EXISTS during IDLE, the
// IDLE restart interval, the poll interval, or an untagged NO from the
// server (RFC 9051 section 7.1.2: a warning), which it reports as warned.
// A warning less than recheckGap after checked is acted on at the end of
// that gap.
func (f *folderWatch) wait(ctx context.Context, c *imapclient.Client, events, warn chan struct{}, checked time.Time) (warned bool, err error) {
	timeout := f.w.opts.CommandTimeout
	if f.acct.PollInterval > 0 || !c.Caps().Has(imap.CapIdle) {
		interval := f.acct.PollInterval
		if interval <= 0 {
			interval = f.w.opts.DefaultPoll
		}
		t := time.NewTimer(interval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-c.Closed():
			return false, temporary(errors.New("connection closed by server"))
		case <-events:
		case <-warn:
			warned = true
		case <-t.C:
		}
		if warned {
			return true, f.holdOff(ctx, c, checked)
		}
		if err := guard(timeout, c, c.Noop().Wait); err != nil {
			return false, temporary(fmt.Errorf("noop: %w", err))
		}
		select {
		case <-warn:
			return true, f.holdOff(ctx, c, checked)
		default:
			return false, nil
		}
	}
	var idle *imapclient.IdleCommand
	err = guard(timeout, c, func() (err error) {
		idle, err = c.Idle()
		return err
	})
	if err != nil {
		return false, temporary(fmt.Errorf("idle: %w", err))
	}
	t := time.NewTimer(f.w.opts.IdleRestart)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-c.Closed():
		return false, temporary(errors.New("connection closed by server during idle"))
	case <-events:
	case <-warn:
		warned = true
		if err := f.holdOff(ctx, c, checked); err != nil {
			return false, err
		}
	case <-t.C:
	}
	if err := idle.Close(); err != nil && ctx.Err() == nil {
		return false, temporary(fmt.Errorf("end idle: %w", err))
	}
	if err := guard(timeout, c, idle.Wait); err != nil && ctx.Err() == nil {
		return false, temporary(fmt.Errorf("end idle: %w", err))
	}
	return warned, ctx.Err()
}

// holdOff waits until recheckGap has passed since checked.
func (f *folderWatch) holdOff(ctx context.Context, c *imapclient.Client, checked time.Time) error {
	d := recheckGap - time.Since(checked)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Closed():
		return temporary(errors.New("connection closed by server"))
	case <-t.C:
		return nil
	}
}

// warnTap finds untagged NO responses in a session's plaintext, which
// go-imap reads and drops. It is the client's DebugWriter, so it sees both
// directions; client lines never start with "*". A line inside a message
// literal that looks like one only costs an extra SELECT.
type warnTap struct {
	mu   sync.Mutex
	head []byte // the start of the current line, up to len(untaggedNO)
	c    chan struct{}
}

var untaggedNO = []byte("* NO ")

func newWarnTap() *warnTap {
	return &warnTap{head: make([]byte, 0, len(untaggedNO)), c: make(chan struct{}, 1)}
}

func (t *warnTap) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for rest := p; len(rest) > 0; {
		if n := cap(t.head) - len(t.head); n > 0 {
			take := rest[:min(n, len(rest))]
			if i := bytes.IndexByte(take, '\n'); i >= 0 {
				t.head, rest = t.head[:0], rest[i+1:]
				continue
			}
			t.head, rest = append(t.head, take...), rest[len(take):]
			if len(t.head) == cap(t.head) && bytes.EqualFold(t.head, untaggedNO) {
				select {
				case t.c <- struct{}{}:
				default:
				}
			}
			continue
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		t.head, rest = t.head[:0], rest[i+1:]
	}
	return len(p), nil
}

// drain forgets a warning not yet acted on.
func (t *warnTap) drain() {
	select {
	case <-t.c:
	default:
	}
}
