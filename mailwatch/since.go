package mailwatch

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// startSince moves an empty checkpoint up to the first message within
// Account.Since and stores it, so that the skipped messages stay skipped
// after a restart.
func (f *folderWatch) startSince(ctx context.Context, c *imapclient.Client, cp Checkpoint, uidNext uint32) (Checkpoint, error) {
	last, err := f.firstUIDSince(c, cp.Folder, uidNext)
	if err != nil || last == 0 {
		return cp, err
	}
	cp.LastUID = last
	if err := f.w.opts.Sink.Apply(ctx, Item{Checkpoint: cp, Role: f.role}); err != nil {
		return cp, fmt.Errorf("store checkpoint: %w", err)
	}
	return cp, nil
}

// firstUIDSince returns the UID to start the first read of the selected
// folder after, so that only messages within Account.Since are read: one
// below the lowest UID whose internal date is on or after the cut-off day,
// or uidNext-1 when there is none. SEARCH SINCE compares internal dates
// by day, disregarding time and time zone (RFC 3501 §6.4.4), so up to a
// day more is read, never less. With ESEARCH (RFC 4731) the server sends
// the lowest UID alone rather than every match.
func (f *folderWatch) firstUIDSince(c *imapclient.Client, folder string, uidNext uint32) (uint32, error) {
	cutoff := f.w.opts.Now().Add(-f.acct.Since)
	criteria := &imap.SearchCriteria{Since: cutoff}
	var opts *imap.SearchOptions
	if c.Caps().Has(imap.CapESearch) {
		opts = &imap.SearchOptions{ReturnMin: true}
	}
	var found *imap.SearchData
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		found, err = c.UIDSearch(criteria, opts).Wait()
		return err
	})
	if err != nil {
		return 0, temporary(fmt.Errorf("search since %s: %w", cutoff.Format("2-Jan-2006"), err))
	}
	lowest := uint32(found.Min)
	if opts == nil {
		for _, uid := range found.AllUIDs() {
			if lowest == 0 || uint32(uid) < lowest {
				lowest = uint32(uid)
			}
		}
	}
	if lowest == 0 {
		if uidNext == 0 {
			return 0, nil
		}
		return uidNext - 1, nil
	}
	f.log.Info("first read bounded by since", "folder", folder, "since", cutoff.Format("2006-01-02"), "from_uid", lowest)
	return lowest - 1, nil
}
