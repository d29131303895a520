package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mailack/mailack/track"
)

// Orphan key kinds in orphans_by_key: kind \x00 value \x00 evidenceID.
const (
	orphanByMessageID  = "m"
	orphanByEnvelopeID = "e"
	orphanByThread     = "t"
	orphanBySubject    = "s" // value: address \x00 subject hash
)

// orphanKeys lists the orphans_by_key keys of o: what a mail registered
// later can be matched by, as track.AdoptOrphans matches. Values holding a
// NUL byte are left out: no mail can have them.
func orphanKeys(o *track.Orphan) [][]byte {
	id := o.Evidence.ID
	k := o.Keys
	var out [][]byte
	add := func(parts ...string) {
		if hasNUL(parts...) {
			return
		}
		key := join(append(parts, id)...)
		if !slices.ContainsFunc(out, func(x []byte) bool { return bytes.Equal(x, key) }) {
			out = append(out, key)
		}
	}
	if k.MessageID != "" {
		add(orphanByMessageID, k.MessageID)
	}
	if k.EnvelopeID != "" {
		add(orphanByEnvelopeID, k.EnvelopeID)
	}
	for _, t := range k.Thread {
		if t != "" {
			add(orphanByThread, t)
		}
	}
	subject := track.NormalizeSubject(k.Subject)
	if k.MessageID != "" || k.EnvelopeID != "" || subject == "" {
		return out
	}
	h := subjectHash(subject)
	for _, a := range []string{k.Recipient, k.OriginalRecipient} {
		if a == "" {
			continue
		}
		add(orphanBySubject, a, h)
		add(orphanBySubject, plusBase(a), h)
	}
	return out
}

// candidatePrefixes lists the orphans_by_key prefixes under which orphans
// that may belong to m are found.
func candidatePrefixes(m *track.Mail, window time.Duration) [][]byte {
	out := [][]byte{
		join(orphanByMessageID, m.MessageID, ""),
		join(orphanByThread, m.MessageID, ""),
	}
	if m.EnvelopeID != "" {
		out = append(out, join(orphanByEnvelopeID, m.EnvelopeID, ""))
	}
	subject := track.NormalizeSubject(m.Subject)
	if window <= 0 || subject == "" {
		return out
	}
	h := subjectHash(subject)
	for _, a := range subjectAddresses(m) {
		out = append(out, join(orphanBySubject, a, h, ""))
	}
	return out
}

func putOrphan(tx kvTx, o *track.Orphan) error {
	id := o.Evidence.ID
	v, err := encodeOrphan(o)
	if err != nil {
		return fmt.Errorf("encode orphan %s: %w", id, err)
	}
	if err := tx.Bucket(bucketOrphans).Put([]byte(id), v); err != nil {
		return fmt.Errorf("put orphan %s: %w", id, err)
	}
	for _, k := range orphanKeys(o) {
		if err := tx.Bucket(bucketOrphanKeys).Put(k, empty); err != nil {
			return fmt.Errorf("put orphan key %q: %w", k, err)
		}
	}
	if err := tx.Bucket(bucketOrphanAge).Put(orphanAgeKey(o), empty); err != nil {
		return fmt.Errorf("put orphan age %s: %w", id, err)
	}
	return nil
}

func orphanAgeKey(o *track.Orphan) []byte {
	return append(appendTime(nil, o.Received), o.Evidence.ID...)
}

// removeOrphan deletes o and its index entries.
func removeOrphan(tx kvTx, o *track.Orphan) error {
	id := o.Evidence.ID
	if err := tx.Bucket(bucketOrphans).Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete orphan %s: %w", id, err)
	}
	for _, k := range orphanKeys(o) {
		if err := tx.Bucket(bucketOrphanKeys).Delete(k); err != nil {
			return fmt.Errorf("delete orphan key %q: %w", k, err)
		}
	}
	if err := tx.Bucket(bucketOrphanAge).Delete(orphanAgeKey(o)); err != nil {
		return fmt.Errorf("delete orphan age %s: %w", id, err)
	}
	return nil
}

func getOrphan(tx kvTx, id string) (track.Orphan, bool, error) {
	v := tx.Bucket(bucketOrphans).Get([]byte(id))
	if v == nil {
		return track.Orphan{}, false, nil
	}
	o, err := decodeOrphan(id, v)
	return o, err == nil, err
}

// orphanCandidates loads the orphans that may belong to m, ordered by ID.
func orphanCandidates(tx kvTx, m *track.Mail, window time.Duration) ([]track.Orphan, error) {
	var ids []string
	for _, p := range candidatePrefixes(m, window) {
		err := scanPrefix(tx.Bucket(bucketOrphanKeys), p, func(k, _ []byte) (bool, error) {
			ids = append(ids, string(k[bytes.LastIndexByte(k, 0)+1:]))
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]track.Orphan, 0, len(ids))
	for _, id := range ids {
		o, ok, err := getOrphan(tx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s entry for %s names no stored orphan", bucketOrphanKeys, id)
		}
		out = append(out, o)
	}
	return out, nil
}

// adoptOrphans applies to the newly stored m the orphans that belong to it,
// moves their evidence to m and puts the notices in the outbox.
func (s *Store) adoptOrphans(tx kvTx, m track.Mail, now time.Time) (RegisterResult, error) {
	res := RegisterResult{Mail: m}
	w := window(s.opts)
	cands, err := orphanCandidates(tx, &m, w)
	if err != nil || len(cands) == 0 {
		return res, err
	}
	r, adopted := track.AdoptOrphansIn(m, cands, s.opts.Calendar, now, w)
	for _, o := range cands {
		if !slices.Contains(adopted, o.Evidence.ID) {
			continue
		}
		if err := removeOrphan(tx, &o); err != nil {
			return res, err
		}
		evs := []track.Evidence{bindOrphan(&m, &o)}
		if track.IsAnswerOrphan(o) {
			evs, _ = track.AdoptedAnswer(m, o)
		}
		for _, ev := range evs {
			if err := putEvidence(tx, &ev); err != nil {
				return res, err
			}
		}
	}
	res.Adopted = adopted
	if !r.Changed {
		return res, nil
	}
	if err := putMail(tx, &m, &r.Mail); err != nil {
		return res, err
	}
	res.Mail = r.Mail
	res.Notices, err = s.enqueueNotices(tx, r.Notices, now)
	return res, err
}

// bindOrphan is the evidence of an orphan adopted by m, tied to m as
// track.AdoptOrphans ties it.
func bindOrphan(m *track.Mail, o *track.Orphan) track.Evidence {
	ev := o.Evidence
	k := o.Keys
	ev.MessageID = m.MessageID
	ev.Confidence = track.ConfidenceExact
	switch {
	case k.MessageID != "" && k.MessageID == m.MessageID:
		ev.Via = track.ViaMessageID
	case k.EnvelopeID != "" && k.EnvelopeID == m.EnvelopeID:
		ev.Via = track.ViaEnvelopeID
	case slices.Contains(k.Thread, m.MessageID):
		ev.Via = track.ViaThread
	default:
		ev.Via, ev.Confidence = track.ViaSubject, track.ConfidenceLow
	}
	if addr, ok := track.MatchRecipient(*m, k.Recipient, k.OriginalRecipient); ok {
		ev.Recipient = addr
		ev.Reported = ""
		if k.Recipient != "" && k.Recipient != addr {
			ev.Reported = k.Recipient
		}
	}
	return ev
}

// ExpireOrphans deletes the orphans received more than maxAge before now,
// and the answer orphans received more than track.AnswerOrphanMaxAge
// before now (track.ExpiredOrphan), and returns how many it deleted;
// maxAge of zero or less keeps report orphans.
func (s *Store) ExpireOrphans(ctx context.Context, now time.Time, maxAge time.Duration) (int, error) {
	scan := track.AnswerOrphanMaxAge // the shortest age that expires any orphan
	if maxAge > 0 {
		scan = min(scan, maxAge)
	}
	end := appendTime(nil, now.Add(-scan))
	total := 0
	for {
		n := 0
		err := s.update(ctx, func(tx kvTx) error {
			n = 0
			var expired []track.Orphan
			c := tx.Bucket(bucketOrphanAge).Cursor()
			for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0 && len(expired) < chunk; k, _ = c.Next() {
				o, ok, err := getOrphan(tx, string(k[timeLen:]))
				if err != nil || !ok {
					return orDanglingOrphan(err, k)
				}
				if track.ExpiredOrphan(o, now, maxAge) {
					expired = append(expired, o)
				}
			}
			for _, o := range expired {
				if err := removeOrphan(tx, &o); err != nil {
					return err
				}
			}
			n = len(expired)
			return nil
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("expire orphans: %w", err)
		}
		if n < chunk {
			return total, nil
		}
	}
}

func orDanglingOrphan(err error, k []byte) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%s entry %q names no stored orphan", bucketOrphanAge, k)
}

// Orphans returns up to limit orphans, oldest first; limit 0 means all.
func (s *Store) Orphans(ctx context.Context, limit int) ([]track.Orphan, error) {
	var out []track.Orphan
	err := s.view(ctx, func(tx kvTx) error {
		out = nil
		c := tx.Bucket(bucketOrphanAge).Cursor()
		for k, _ := c.First(); k != nil && !full(len(out), limit); k, _ = c.Next() {
			o, ok, err := getOrphan(tx, string(k[timeLen:]))
			if err != nil || !ok {
				return orDanglingOrphan(err, k)
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list orphans: %w", err)
	}
	return out, nil
}
