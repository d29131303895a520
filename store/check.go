package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrCorrupt means Check found the database inconsistent; the error is an
// *IntegrityError listing what.
var ErrCorrupt = errors.New("store: integrity check failed")

// maxProblems caps the problems an IntegrityError lists.
const maxProblems = 50

// IntegrityError lists the inconsistencies Check found.
type IntegrityError struct {
	Problems []string
	// More counts problems found beyond those listed.
	More int
}

func (e *IntegrityError) Error() string {
	s := fmt.Sprintf("store: integrity check failed: %d problems: %s", len(e.Problems)+e.More, strings.Join(e.Problems, "; "))
	if e.More > 0 {
		s += fmt.Sprintf("; and %d more", e.More)
	}
	return s
}

// Unwrap makes the error match ErrCorrupt.
func (e *IntegrityError) Unwrap() error { return ErrCorrupt }

// Check verifies the database in one read transaction: every record
// decodes, every index entry names an existing record and is the entry
// that record implies (a lazy index may also hold stale entries, see
// byDueEntries), and every record has all its entries. It returns
// an *IntegrityError listing what is wrong, or another error when it
// could not read. It reads the whole file.
func (s *Store) Check(ctx context.Context) error {
	var ie IntegrityError
	if s.db != nil {
		if err := s.checkPages(ctx, &ie); err != nil {
			return fmt.Errorf("check %s: %w", s.path, err)
		}
	}
	pages := ie
	err := s.view(ctx, func(tx kvTx) error {
		ie = pages
		c := &checker{tx: tx, ie: &ie, want: map[string]int{}}
		for _, step := range []func(context.Context) error{c.mails, c.indexes, c.evidenceIDs, c.orphans, c.outbox, c.slackRefs} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check %s: %w", s.path, err)
	}
	if len(ie.Problems) > 0 {
		return &ie
	}
	return nil
}

// checkPages runs bbolt's own page check (every reachable page once, none
// also on the freelist). bbolt's Tx.Check "is not safe to use
// concurrently on a read-only transaction" (boltdb/bolt pull request 174):
// a write committed meanwhile changes the freelist it compares with, and
// pages the read transaction still sees are reported "reachable freed".
// So it runs in a write transaction, which holds writers off while it
// runs, and is rolled back. It runs before, not inside, the read
// transaction of the other checks: one goroutine holding a read
// transaction while it opens a write transaction may deadlock on a remap.
func (s *Store) checkPages(ctx context.Context, ie *IntegrityError) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c := &checker{ie: ie}
	for err := range tx.Check() {
		c.add("bbolt: %v", err)
	}
	return nil
}

type checker struct {
	tx   kvTx
	ie   *IntegrityError
	want map[string]int // index bucket → entries the mails imply
}

func (c *checker) add(format string, args ...any) {
	if len(c.ie.Problems) < maxProblems {
		c.ie.Problems = append(c.ie.Problems, fmt.Sprintf(format, args...))
		return
	}
	c.ie.More++
}

// forEach walks bucket b, checking ctx every so often.
func (c *checker) forEach(ctx context.Context, b []byte, fn func(k, v []byte)) error {
	n := 0
	return c.tx.Bucket(b).ForEach(func(k, v []byte) error {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fn(k, v)
		return nil
	})
}

// mails checks that every mail decodes and has all its index entries, and
// that all evidence follows a mail and decodes.
func (c *checker) mails(ctx context.Context) error {
	var mail []byte // the last mail's key
	return c.forEach(ctx, bucketMails, func(k, v []byte) {
		if !isMailKey(k) {
			c.evidence(mail, k, v)
			return
		}
		mail = bytes.Clone(k)
		m, err := decodeMail(string(k), v)
		if err != nil {
			c.add("mail %q: %v", k, err)
			return
		}
		for _, ix := range mailIndexes {
			b := c.tx.Bucket(ix.bucket)
			for _, e := range ix.entries(&m) {
				c.want[string(ix.bucket)]++
				got := b.Get(e.key)
				switch {
				case got == nil:
					c.add("mail %s: %s entry %q missing", k, ix.bucket, e.key)
				case !bytes.Equal(got, e.val):
					c.add("mail %s: %s entry %q is %q, want %q", k, ix.bucket, e.key, got, e.val)
				}
			}
		}
	})
}

// evidence checks a piece of evidence under key k; mail is the key of the
// mail before it.
func (c *checker) evidence(mail, k, v []byte) {
	i := bytes.IndexByte(k, 0)
	mid, id := k[:i], k[i+1:]
	if !bytes.Equal(mid, mail) {
		c.add("evidence %s names no stored mail %s", id, mid)
	}
	ev, err := decodeEvidence(string(mid), string(id), v)
	if err != nil {
		c.add("%v", err)
		return
	}
	got := c.tx.Bucket(bucketEvidenceIDs).Get(id)
	switch {
	case needsGlobalID(&ev) && !bytes.Equal(got, mid):
		c.add("evidence %s of %s, tied by %s: evidence_ids holds %q", id, mid, ev.Via, got)
	case c.tx.Bucket(bucketOrphans).Get(id) != nil:
		c.add("evidence %s of %s is an orphan as well", id, mid)
	}
}

// indexes checks that every index entry names a stored mail and that no
// index holds more entries than the mails imply; when one does, it finds
// the entries no mail implies. A lazy index may hold stale entries, of
// mails gone or that imply others (see byDueEntries); its keys must still
// have their form.
func (c *checker) indexes(ctx context.Context) error {
	mails := c.tx.Bucket(bucketMails)
	for _, ix := range mailIndexes {
		n := 0
		err := c.forEach(ctx, ix.bucket, func(k, _ []byte) {
			n++
			id, ok := ix.owner(k)
			switch {
			case !ok || id == "":
				c.add("%s entry %q names no mail", ix.bucket, k)
			case !ix.lazy && mails.Get([]byte(id)) == nil:
				c.add("%s entry %q names no stored mail", ix.bucket, k)
			}
		})
		if err != nil {
			return err
		}
		if !ix.lazy && n > c.want[string(ix.bucket)] {
			if err := c.strayEntries(ctx, ix); err != nil {
				return err
			}
		}
	}
	return nil
}

// strayEntries reports the entries of ix that the mail they name does not
// imply.
func (c *checker) strayEntries(ctx context.Context, ix mailIndex) error {
	return c.forEach(ctx, ix.bucket, func(k, _ []byte) {
		id, ok := ix.owner(k)
		if !ok {
			return // reported already
		}
		m, ok, err := getMail(c.tx, id)
		if err != nil || !ok {
			return // reported already
		}
		if findEntry(ix.entries(&m), k) == nil {
			c.add("%s entry %q is not implied by mail %s", ix.bucket, k, id)
		}
	})
}

// evidenceIDs checks that every recorded ID names evidence that needs it.
func (c *checker) evidenceIDs(ctx context.Context) error {
	mails := c.tx.Bucket(bucketMails)
	return c.forEach(ctx, bucketEvidenceIDs, func(k, v []byte) {
		val := mails.Get(join(string(v), string(k)))
		if val == nil {
			c.add("evidence_ids entry %s names no evidence of %q", k, v)
			return
		}
		if ev, err := decodeEvidence(string(v), string(k), val); err == nil && !needsGlobalID(&ev) {
			c.add("evidence_ids entry %s: evidence of %s is tied by %q and needs none", k, v, ev.Via)
		}
	})
}

// orphans checks the orphans against their two indexes, both ways.
func (c *checker) orphans(ctx context.Context) error {
	keys, age, ids := c.tx.Bucket(bucketOrphanKeys), c.tx.Bucket(bucketOrphanAge), c.tx.Bucket(bucketEvidenceIDs)
	orphans := c.tx.Bucket(bucketOrphans)
	wantKeys, n := 0, 0
	err := c.forEach(ctx, bucketOrphans, func(k, v []byte) {
		n++
		o, err := decodeOrphan(string(k), v)
		if err != nil {
			c.add("%v", err)
			return
		}
		for _, ok := range orphanKeys(&o) {
			wantKeys++
			if keys.Get(ok) == nil {
				c.add("orphan %s: %s entry %q missing", k, bucketOrphanKeys, ok)
			}
		}
		if age.Get(orphanAgeKey(&o)) == nil {
			c.add("orphan %s: %s entry missing", k, bucketOrphanAge)
		}
		if v := ids.Get(k); v != nil {
			c.add("orphan %s: evidence_ids ties it to %q", k, v)
		}
	})
	if err != nil {
		return err
	}
	nKeys := 0
	err = c.forEach(ctx, bucketOrphanKeys, func(k, _ []byte) {
		nKeys++
		if orphans.Get(k[bytes.LastIndexByte(k, 0)+1:]) == nil {
			c.add("%s entry %q names no orphan", bucketOrphanKeys, k)
		}
	})
	if err != nil {
		return err
	}
	if nKeys != wantKeys {
		c.add("%s holds %d entries, the orphans imply %d", bucketOrphanKeys, nKeys, wantKeys)
	}
	nAge := 0
	err = c.forEach(ctx, bucketOrphanAge, func(k, _ []byte) {
		nAge++
		if len(k) <= timeLen || orphans.Get(k[timeLen:]) == nil {
			c.add("%s entry %q names no orphan", bucketOrphanAge, k)
		}
	})
	if nAge != n {
		c.add("%s holds %d entries for %d orphans", bucketOrphanAge, nAge, n)
	}
	return err
}

// outbox checks the outbox against its key index, both ways.
func (c *checker) outbox(ctx context.Context) error {
	keys := c.tx.Bucket(bucketOutboxKeys)
	n := 0
	err := c.forEach(ctx, bucketOutbox, func(k, v []byte) {
		n++
		var r outboxRec
		if err := json.Unmarshal(v, &r); err != nil || len(k) != 8 {
			c.add("outbox item %x: bad key or value: %v", k, err)
			return
		}
		if got := keys.Get([]byte(r.Notice.Key)); !bytes.Equal(got, k) {
			c.add("outbox item %d (%s): %s holds %x", binary.BigEndian.Uint64(k), r.Notice.Key, bucketOutboxKeys, got)
		}
	})
	if err != nil {
		return err
	}
	nKeys := 0
	box := c.tx.Bucket(bucketOutbox)
	err = c.forEach(ctx, bucketOutboxKeys, func(k, v []byte) {
		nKeys++
		if box.Get(v) == nil {
			c.add("%s entry %s names no outbox item", bucketOutboxKeys, k)
		}
	})
	if nKeys != n {
		c.add("%s holds %d entries for %d outbox items", bucketOutboxKeys, nKeys, n)
	}
	return err
}

func (c *checker) slackRefs(ctx context.Context) error {
	mails := c.tx.Bucket(bucketMails)
	return c.forEach(ctx, bucketSlackRefs, func(k, _ []byte) {
		if mails.Get(k) == nil {
			c.add("slack ref of %s names no stored mail", k)
		}
	})
}
