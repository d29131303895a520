package mailwatch

import (
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/track/report"
)

// prefilterMin is the least number of UIDs a window of a report folder
// must span for its candidates to be found by the server first: below it
// the round trip costs more than the header fields of the few messages.
const prefilterMin = 64

// heads returns the size and the examined header fields of the messages of
// set that may matter. In a report folder whose server searches as RFC
// 9051 and RFC 5255 say (canPrefilter), a window of at least prefilterMin
// UIDs is first narrowed by the server to the messages that match one of
// report.SearchTerms, a superset of those the header fields would let
// through: IMAP repeats the UID, the size and the field list in every
// FETCH answer, about 160 bytes a message, which is most of what a
// catch-up receives when few messages are reports or answers.
//
// covered is the highest UID whose message is known to need nothing
// beyond the heads returned: every message up to it was searched. It is 0
// when the heads are all there is to know.
func (f *folderWatch) heads(c *imapclient.Client, set imap.UIDSet, start, uidNext uint32) (hs []head, covered uint32, err error) {
	if f.role != RoleReports || uidNext == 0 || min(uidNext-start, catchUpWindow) < prefilterMin || f.searchRefused || !f.w.searchable(c.Caps()) {
		hs, err = f.fetchHeads(c, set, start)
		return hs, 0, err
	}
	// The search covers the window, or, open-ended, every message that
	// exists now: all below uidNext (RFC 9051 section 2.3.1.1: a new
	// message gets a higher UID).
	covered = uidNext - 1
	if stop := uint32(set[0].Stop); stop != 0 {
		covered = stop
	}
	uids, err := f.candidates(c, set, start)
	var refused *imap.Error
	if errors.As(err, &refused) {
		// A server that declares I18NLEVEL yet answers NO or BAD to the
		// search: every message's fields are read instead, from now on,
		// rather than retrying a search it will refuse again.
		f.log.Warn("server refused the search for candidates: reading every message's header fields", "folder", f.folder, "err", err)
		f.searchRefused = true
		hs, err = f.fetchHeads(c, set, start)
		return hs, 0, err
	}
	if err != nil || len(uids) == 0 {
		return nil, covered, err
	}
	hs, err = f.fetchHeads(c, imap.UIDSetNum(uids...), start)
	return hs, covered, err
}

// canPrefilter reports whether the server declares that its SEARCH
// compares with i;unicode-casemap (RFC 5255 section 4: I18NLEVEL=1 or 2),
// a case-insensitive substring match on decoded header values, which
// report.SearchTerms needs. Dovecot declares I18NLEVEL=1. Gmail's search
// matches whole words only (JavaMail's Gmail notes,
// https://javaee.github.io/javamail/Gmail) and its CAPABILITY declares
// neither, so there, as on every server that does not declare it, every
// message's header fields are fetched.
func canPrefilter(caps imap.CapSet) bool {
	return caps.Has("I18NLEVEL=1") || caps.Has("I18NLEVEL=2")
}

// candidates returns the UIDs at or above start in set that match one of
// the search terms, in ascending order.
func (f *folderWatch) candidates(c *imapclient.Client, set imap.UIDSet, start uint32) ([]imap.UID, error) {
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{set}}
	crit.And(candidateCriteria(report.SearchTerms(f.w.opts.Answers != nil)))
	var found *imap.SearchData
	err := guard(f.w.opts.CommandTimeout, c, func() (err error) {
		found, err = c.UIDSearch(crit, nil).Wait()
		return err
	})
	if err != nil {
		return nil, temporary(fmt.Errorf("search candidates %v: %w", set, err))
	}
	// "UID SEARCH UID n:*" matches the last message even below n, as
	// FETCH does.
	uids := slices.DeleteFunc(found.AllUIDs(), func(u imap.UID) bool { return uint32(u) < start })
	slices.Sort(uids)
	return uids, nil
}

// candidateCriteria joins terms with OR into one criterion, as a balanced
// tree so that no server meets a deep nesting.
func candidateCriteria(terms []report.SearchTerm) *imap.SearchCriteria {
	keys := make([]imap.SearchCriteria, 0, len(terms))
	for _, t := range terms {
		k := imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: t.Field, Value: t.Contains}}}
		if t.Lacks != "" {
			k.Not = []imap.SearchCriteria{{Header: []imap.SearchCriteriaHeaderField{{Key: t.Field, Value: t.Lacks}}}}
		}
		keys = append(keys, k)
	}
	return orTree(keys)
}

// orTree joins keys with OR, halving the list at each level.
func orTree(keys []imap.SearchCriteria) *imap.SearchCriteria {
	if len(keys) == 1 {
		k := keys[0]
		return &k
	}
	mid := len(keys) / 2
	return &imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{*orTree(keys[:mid]), *orTree(keys[mid:])}}}
}
