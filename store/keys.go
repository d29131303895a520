package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"time"
)

// Bucket names. The layout is described in the package documentation.
var (
	bucketMeta        = []byte("meta")
	bucketMails       = []byte("mails")
	bucketEvidence    = []byte("evidence")
	bucketEvidenceIDs = []byte("evidence_ids")
	bucketBySender    = []byte("by_sender")
	bucketByDue       = []byte("by_due")
	bucketByClosed    = []byte("by_closed")
	bucketByEnvelope  = []byte("by_envelope")
	bucketBySubject   = []byte("by_subject")
	bucketAwaiting    = []byte("awaiting")
	bucketOrphans     = []byte("orphans")
	bucketOrphanKeys  = []byte("orphans_by_key")
	bucketOrphanAge   = []byte("orphans_by_age")
	bucketCheckpoints = []byte("checkpoints")
	bucketOutbox      = []byte("outbox")
	bucketOutboxKeys  = []byte("outbox_keys")
	bucketSlackRefs   = []byte("slack_refs")
	bucketSlackUsers  = []byte("slack_users")
	bucketQuarantine  = []byte("quarantine")
	bucketSettings    = []byte("user_settings")
)

// empty is the value of keys that carry no value. bbolt returns nil from
// Get for a nil value put in the same transaction, so nil is never stored.
var empty = []byte{}

// timeLen is the length of an encoded time in a key.
const timeLen = 8

// appendTime appends t as 8 big-endian bytes that sort as t does: Unix
// nanoseconds with the sign bit flipped, clamped to the range they cover
// (the years 1677 to 2262).
func appendTime(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(clampNanos(t))^(1<<63))
}

func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// readTime decodes a time appendTime wrote.
func readTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// join joins key parts with NUL bytes; no part may hold one (see hasNUL).
func join(parts ...string) []byte {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

func hasNUL(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// subjectHash names a normalised subject in keys: 16 hex digits of its
// SHA-256. A collision only adds a candidate the correlator rejects.
func subjectHash(normalized string) string {
	h := sha256.Sum256([]byte(normalized))
	return hex.EncodeToString(h[:8])
}

// plusBase drops a +tag from an address's local part, so that mail to
// a+tag@b is found by a report about a@b and the other way round.
func plusBase(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return addr
	}
	local, domain := addr[:at], addr[at:]
	if i := strings.IndexByte(local, '+'); i > 0 {
		return local[:i] + domain
	}
	return addr
}

// scanPrefix calls fn for each key of b starting with prefix, in order,
// until fn returns false or an error.
func scanPrefix(b bucket, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// prefixEnd returns the first key after every key starting with p, or
// nil when there is none (p is empty or all 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// full reports whether a list of n items has reached limit; a limit of zero
// or less is no limit.
func full(n, limit int) bool { return limit > 0 && n >= limit }
