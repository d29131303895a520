package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mailack/mailack/track"
)

// awaitingEntries: SentAt messageID → sender, subject and the addresses
// waited for, for open mails with a recipient other than the sender still
// without a conclusive answer: enough to render a digest without loading
// the mail. Snoozed mails are left out: their sender asked to hear of
// them later.
func awaitingEntries(m *track.Mail) []entry {
	if m.State != track.StateOpen {
		return nil
	}
	w := waitingFor(m)
	if len(w) == 0 {
		return nil
	}
	return []entry{{append(appendTime(nil, m.SentAt), m.MessageID...), encodeAwaiting(m.Sender, m.Subject, w)}}
}

// encodeAwaiting writes each string with its length as a uvarint before
// it; the digest reads many entries, and this decodes far faster than
// JSON.
func encodeAwaiting(sender, subject string, waiting []string) []byte {
	var b []byte
	for _, s := range append([]string{sender, subject}, waiting...) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeAwaiting(b []byte) ([]string, error) {
	var out []string
	for len(b) > 0 {
		n, size := binary.Uvarint(b)
		if size <= 0 || n > uint64(len(b)-size) {
			return nil, errors.New("bad length")
		}
		out = append(out, string(b[size:size+int(n)]))
		b = b[size+int(n):]
	}
	if len(out) < 3 {
		return nil, fmt.Errorf("%d fields, want at least 3", len(out))
	}
	return out, nil
}

// waitingFor lists m's recipients, other than the sender, whose status
// does not answer what the mail asked for.
func waitingFor(m *track.Mail) []string {
	var out []string
	for _, r := range m.Recipients {
		if r.Address != m.Sender && !m.Conclusive(r) {
			out = append(out, r.Address)
		}
	}
	return out
}

// DigestQuery selects the mails of a digest.
type DigestQuery struct {
	// OlderThan: only mails sent at least this long before now.
	OlderThan time.Duration
	// Within: only mails sent at most this long before now; 0 means no
	// bound, which makes the digest cover every unanswered mail ever sent.
	Within time.Duration
	// Limit caps the mails returned, oldest first; 0 means no limit.
	Limit int
}

// DigestMail is an open mail still waiting for answers.
type DigestMail struct {
	MessageID string
	Subject   string
	SentAt    time.Time
	// Waiting lists the recipients without a conclusive answer.
	Waiting []string
}

// SenderDigest is one sender's unanswered mails, oldest first.
type SenderDigest struct {
	Sender string
	Mails  []DigestMail
}

// Digest lists the open mails, sent within the query's window, that a
// recipient has not answered yet, grouped by sender in address order. It
// is a range scan of the awaiting index, whose entries carry what a digest
// shows, so no mail is loaded.
func (s *Store) Digest(ctx context.Context, now time.Time, q DigestQuery) ([]SenderDigest, error) {
	end := appendTime(nil, now.Add(-q.OlderThan))
	var start []byte
	if q.Within > 0 {
		start = appendTime(nil, now.Add(-q.Within))
	}
	bySender := map[string][]DigestMail{}
	err := s.view(ctx, func(tx kvTx) error {
		clear(bySender)
		n := 0
		c := tx.Bucket(bucketAwaiting).Cursor()
		if hi := prefixEnd(end); hi != nil {
			boundAbove(c, hi)
		}
		k, v := c.First()
		if start != nil {
			k, v = c.Seek(start)
		}
		for ; k != nil && !full(n, q.Limit); k, v = c.Next() {
			if len(k) <= timeLen {
				return orDangling(nil, bucketAwaiting, k)
			}
			if bytes.Compare(k[:timeLen], end) > 0 {
				break
			}
			f, err := decodeAwaiting(v)
			if err != nil {
				return fmt.Errorf("decode %s entry %q: %w", bucketAwaiting, k, err)
			}
			bySender[f[0]] = append(bySender[f[0]], DigestMail{
				MessageID: string(k[timeLen:]), Subject: f[1], SentAt: readTime(k), Waiting: f[2:],
			})
			n++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	out := make([]SenderDigest, 0, len(bySender))
	for sender, mails := range bySender {
		out = append(out, SenderDigest{Sender: sender, Mails: mails})
	}
	slices.SortFunc(out, func(a, b SenderDigest) int { return cmp.Compare(a.Sender, b.Sender) })
	return out, nil
}
