package mailwatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/track"
)

// ErrNoAccount is returned when no watched account belongs to a sender.
var ErrNoAccount = errors.New("no watched mailbox belongs to this sender")

// maxSearchWords caps how many words of a subject query are searched for.
const maxSearchWords = 8

// FindSent searches the Sent folder of the account owned by sender for
// query — a Message-ID, or words that must all appear in the subject — and
// returns up to limit mails, newest first, as they would be tracked (every
// recipient pending), whether or not they asked for a receipt. It opens a
// connection of its own for the search.
func (w *Watcher) FindSent(ctx context.Context, sender, query string, limit int) ([]track.Mail, error) {
	acct, ok := w.accountOf(sender)
	if !ok {
		return nil, fmt.Errorf("%s: %w", sender, ErrNoAccount)
	}
	query = strings.TrimSpace(query)
	if query == "" || limit <= 0 {
		return nil, nil
	}
	c, release, err := w.connect(ctx, acct, nil, nil)
	if err != nil {
		return nil, err
	}
	defer release()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	f := &folderWatch{w: w, acct: acct, role: RoleSent, folder: acct.SentFolder, log: w.opts.Logger}
	name, err := f.resolve(c)
	if err != nil {
		return nil, err
	}
	if err := guard(w.opts.CommandTimeout, c, func() error { _, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait(); return err }); err != nil {
		return nil, fmt.Errorf("select %q: %w", name, err)
	}
	var found *imap.SearchData
	err = guard(w.opts.CommandTimeout, c, func() (err error) {
		found, err = c.UIDSearch(searchCriteria(query), nil).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", name, err)
	}
	uids := found.AllUIDs()
	slices.Reverse(uids) // newest first
	if len(uids) > limit {
		uids = uids[:limit]
	}
	return f.sentMails(c, uids)
}

// searchCriteria matches a Message-ID exactly, or every word of a subject.
func searchCriteria(q string) *imap.SearchCriteria {
	if id := track.NormalizeMessageID(q); strings.Contains(id, "@") && !strings.ContainsAny(q, " \t") {
		return &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}
	}
	c := &imap.SearchCriteria{}
	for i, word := range strings.Fields(q) {
		if i == maxSearchWords {
			break
		}
		c.Header = append(c.Header, imap.SearchCriteriaHeaderField{Key: "Subject", Value: word})
	}
	return c
}

// sentMails fetches the headers of uids and returns them as mails to
// track, in the order of uids.
func (f *folderWatch) sentMails(c *imapclient.Client, uids []imap.UID) ([]track.Mail, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: sentHeaderFields, Peek: true}
	var bufs []*imapclient.FetchMessageBuffer
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		bufs, err = c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetch sent headers: %w", err)
	}
	byUID := map[imap.UID][]byte{}
	for _, b := range bufs {
		byUID[b.UID] = b.FindBodySection(section)
	}
	policy := f.acct.Policy
	policy.All = true
	var out []track.Mail
	for _, uid := range uids {
		m, ok, err := SentMail(f.acct.Name, f.acct.owner(), byUID[uid], policy, f.w.opts.Now())
		if err != nil || !ok {
			continue // no Message-ID, or only to the owner: nothing to track
		}
		out = append(out, m)
	}
	return out, nil
}

// accountOf returns the account whose owner is sender.
func (w *Watcher) accountOf(sender string) (Account, bool) {
	for _, a := range w.accounts {
		if strings.EqualFold(a.owner(), sender) {
			return a, true
		}
	}
	return Account{}, false
}
