package store

import (
	"bytes"
	"fmt"
	"time"

	"github.com/mailack/mailack/track"
)

// entry is one index key and its value.
type entry struct{ key, val []byte }

// mailIndex is a secondary index over mails. Each mail implies a set of
// entries; putMail keeps the index equal to the union of those sets and
// Check verifies it.
type mailIndex struct {
	bucket []byte
	// entries lists the entries m implies.
	entries func(m *track.Mail) []entry
	// owner returns the Message-ID an entry's key names.
	owner func(k []byte) (string, bool)
	// lazy indexes keep the entries a mail no longer implies until a
	// reader passes them and deletes them (see byDueEntries): the index
	// holds every entry its mails imply, and may hold stale ones besides.
	lazy bool
}

// mailIndexes are the mail indexes.
var mailIndexes = []mailIndex{
	{bucketBySender, bySenderEntries, afterNUL(timeLen), false},
	{bucketByDue, byDueEntries, afterFixed(timeLen), true},
	{bucketByClosed, byClosedEntries, afterFixed(timeLen), false},
	{bucketByEnvelope, byEnvelopeEntries, afterNUL(0), false},
	{bucketBySubject, bySubjectEntries, afterNUL(16 + timeLen), false},
	{bucketAwaiting, awaitingEntries, afterFixed(timeLen), false},
}

// afterNUL reads keys of the form part\x00 <skip bytes> messageID.
func afterNUL(skip int) func([]byte) (string, bool) {
	return func(k []byte) (string, bool) {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k) <= i+1+skip {
			return "", false
		}
		return string(k[i+1+skip:]), true
	}
}

// afterFixed reads keys of the form <n bytes> messageID.
func afterFixed(n int) func([]byte) (string, bool) {
	return func(k []byte) (string, bool) {
		if len(k) <= n {
			return "", false
		}
		return string(k[n:]), true
	}
}

// bySenderEntries: sender \x00 SentAt messageID → state, so that a sender's
// mails are listed newest first and filtered by state without loading them.
func bySenderEntries(m *track.Mail) []entry {
	k := append(join(m.Sender, ""), appendTime(nil, m.SentAt)...)
	return []entry{{append(k, m.MessageID...), []byte(m.State)}}
}

// byDueEntries: the mail's next wake-up messageID, for mails with a
// deadline still to fire (track.NextDue: the mail's own or a recipient's
// moved one) or a card to draw again when a recipient is back from being
// away (track.NextRedraw), whichever comes first.
//
// The index is lazy: when a mail's wake-up moves or goes (a read receipt,
// an answer, a snooze, a close, a purge), its old entry stays until the
// sweep reaches it, finds that the mail wakes at another time, not at all,
// or is gone, and deletes it. Most reports end a wait, and the entry they
// would delete sits at a random place in the index (its mail's deadline),
// so deleting it at once cost one more page written per report; the sweep
// deletes stale entries in time order, many to a page.
func byDueEntries(m *track.Mail) []entry {
	due := wakeUp(m)
	if due.IsZero() {
		return nil
	}
	return []entry{{append(appendTime(nil, due), m.MessageID...), empty}}
}

// wakeUp is when the sweep must look at m again: the earlier of
// track.NextDue and track.NextRedraw, zero for never.
func wakeUp(m *track.Mail) time.Time {
	due := track.NextDue(*m)
	if r := track.NextRedraw(*m); !r.IsZero() && (due.IsZero() || r.Before(due)) {
		due = r
	}
	return due
}

// byClosedEntries: ClosedAt messageID, for done and stopped mails, so that
// retention is a range scan.
func byClosedEntries(m *track.Mail) []entry {
	if !m.Closed() {
		return nil
	}
	return []entry{{append(appendTime(nil, m.ClosedAt), m.MessageID...), empty}}
}

// byEnvelopeEntries: envelopeID \x00 messageID.
func byEnvelopeEntries(m *track.Mail) []entry {
	if m.EnvelopeID == "" {
		return nil
	}
	return []entry{{join(m.EnvelopeID, m.MessageID), empty}}
}

// bySubjectEntries: address \x00 subject-hash SentAt messageID for every
// recipient address and its plus-address base, for correlation by subject
// when a report quotes no ID.
func bySubjectEntries(m *track.Mail) []entry {
	subject := track.NormalizeSubject(m.Subject)
	if subject == "" {
		return nil
	}
	h := subjectHash(subject)
	var out []entry
	for _, addr := range subjectAddresses(m) {
		k := append(join(addr, h), appendTime(nil, m.SentAt)...)
		out = append(out, entry{append(k, m.MessageID...), empty})
	}
	return out
}

func subjectAddresses(m *track.Mail) []string {
	var out []string
	for _, r := range m.Recipients {
		for _, a := range []string{r.Address, plusBase(r.Address)} {
			if a != "" && !containsString(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// putMail stores m, whose stored version is old (nil for a new mail), and
// brings the indexes up to date.
func putMail(tx kvTx, old, m *track.Mail) error {
	val, err := encodeMail(m)
	if err != nil {
		return fmt.Errorf("encode mail %s: %w", m.MessageID, err)
	}
	if err := tx.Bucket(bucketMails).Put([]byte(m.MessageID), val); err != nil {
		return fmt.Errorf("put mail %s: %w", m.MessageID, err)
	}
	return reindex(tx, old, m)
}

// deleteMail removes m and its index entries; its evidence is left to the
// caller.
func deleteMail(tx kvTx, m *track.Mail) error {
	if err := tx.Bucket(bucketMails).Delete([]byte(m.MessageID)); err != nil {
		return fmt.Errorf("delete mail %s: %w", m.MessageID, err)
	}
	return reindex(tx, m, nil)
}

// reindex replaces old's index entries with m's; either may be nil.
func reindex(tx kvTx, old, m *track.Mail) error {
	for _, ix := range mailIndexes {
		var before, after []entry
		if old != nil {
			before = ix.entries(old)
		}
		if m != nil {
			after = ix.entries(m)
		}
		if err := applyDiff(tx.Bucket(ix.bucket), before, after, !ix.lazy); err != nil {
			return fmt.Errorf("index %s: %w", ix.bucket, err)
		}
	}
	return nil
}

// applyDiff turns entries before into entries after; with del false, the
// entries only before stay (a lazy index).
func applyDiff(b bucket, before, after []entry, del bool) error {
	for _, e := range before {
		if del && findEntry(after, e.key) == nil {
			if err := b.Delete(e.key); err != nil {
				return err
			}
		}
	}
	for _, e := range after {
		if old := findEntry(before, e.key); old != nil && bytes.Equal(old.val, e.val) {
			continue
		}
		if err := b.Put(e.key, e.val); err != nil {
			return err
		}
	}
	return nil
}

func findEntry(es []entry, key []byte) *entry {
	for i := range es {
		if bytes.Equal(es[i].key, key) {
			return &es[i]
		}
	}
	return nil
}
