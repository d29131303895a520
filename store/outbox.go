package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mailack/mailack/track"
)

// OutboxItem is a notice not yet delivered to chat.
type OutboxItem struct {
	// Seq orders the outbox and names the item for Ack and Retry.
	Seq      uint64
	Notice   track.Notice
	Enqueued time.Time
	// Attempts counts failed deliveries; NextTry is when the next may be
	// made and LastError why the last failed.
	Attempts  int
	NextTry   time.Time
	LastError string
	// InFlight is what the deliverer was about to send for the item when
	// it last marked it (MarkInFlight), and InFlightAt when: what Slack
	// may have received without the item being acknowledged.
	InFlight   string
	InFlightAt time.Time
}

type outboxRec struct {
	Notice    noticeRec `json:"n"`
	Enqueued  int64     `json:"enq"`
	Attempts  int       `json:"tries,omitempty"`
	NextTry   int64     `json:"next,omitempty"`
	LastError string    `json:"err,omitempty"`
	InFlight  string    `json:"fly,omitempty"`
	FlightAt  int64     `json:"flyat,omitempty"`
}

func (r *outboxRec) item(seq uint64) OutboxItem {
	return OutboxItem{
		Seq:        seq,
		Notice:     r.Notice.notice(),
		Enqueued:   fromNanos(r.Enqueued),
		Attempts:   r.Attempts,
		NextTry:    fromNanos(r.NextTry),
		LastError:  r.LastError,
		InFlight:   r.InFlight,
		InFlightAt: fromNanos(r.FlightAt),
	}
}

// enqueueNotices appends the notices whose keys are not in the outbox yet
// and returns those it appended; with Options.NoOutbox it appends nothing
// and returns those it would have appended.
func (s *Store) enqueueNotices(tx kvTx, ns []track.Notice, now time.Time) ([]track.Notice, error) {
	box, keys := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxKeys)
	setFillPercent(box, 0.95) // keys only ever grow
	var added []track.Notice
	seen := map[string]bool{} // for NoOutbox, which writes no keys
	for _, n := range ns {
		if n.Key == "" {
			return added, fmt.Errorf("enqueue notice for %s: empty key: %w", n.MessageID, ErrInvalid)
		}
		if keys.Get([]byte(n.Key)) != nil {
			continue
		}
		if s.opts.NoOutbox {
			if !seen[n.Key] {
				seen[n.Key] = true
				added = append(added, n)
			}
			continue
		}
		seq, err := box.NextSequence()
		if err != nil {
			return added, fmt.Errorf("enqueue notice %s: %w", n.Key, err)
		}
		v, err := json.Marshal(outboxRec{Notice: toNoticeRec(&n), Enqueued: nanos(now)})
		if err != nil {
			return added, fmt.Errorf("encode notice %s: %w", n.Key, err)
		}
		if err := box.Put(seqKey(seq), v); err != nil {
			return added, fmt.Errorf("enqueue notice %s: %w", n.Key, err)
		}
		if err := keys.Put([]byte(n.Key), seqKey(seq)); err != nil {
			return added, fmt.Errorf("enqueue notice %s: %w", n.Key, err)
		}
		added = append(added, n)
	}
	return added, nil
}

// Pending returns up to limit outbox items due at now (NextTry not after
// now), oldest first; limit 0 means all.
func (s *Store) Pending(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error) {
	return s.PendingAfter(ctx, now, 0, limit)
}

// PendingAfter is Pending for the items queued after the one numbered
// after (OutboxItem.Seq): a reader pages through the outbox by passing the
// last Seq it got.
func (s *Store) PendingAfter(ctx context.Context, now time.Time, after uint64, limit int) ([]OutboxItem, error) {
	var out []OutboxItem
	err := s.view(ctx, func(tx kvTx) error {
		out = nil
		c := tx.Bucket(bucketOutbox).Cursor()
		k, v := c.First()
		if after > 0 {
			k, v = c.Seek(seqKey(after + 1))
		}
		for ; k != nil && !full(len(out), limit); k, v = c.Next() {
			var r outboxRec
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode outbox item %x: %w", k, err)
			}
			if r.NextTry != 0 && fromNanos(r.NextTry).After(now) {
				continue
			}
			out = append(out, r.item(binary.BigEndian.Uint64(k)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// Ack removes a delivered item from the outbox. An item not there fails
// with ErrNotFound, which a caller acknowledging twice may ignore.
func (s *Store) Ack(ctx context.Context, seq uint64) error {
	err := s.update(ctx, func(tx kvTx) error {
		r, err := getOutbox(tx, seq)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketOutbox).Delete(seqKey(seq)); err != nil {
			return err
		}
		return tx.Bucket(bucketOutboxKeys).Delete([]byte(r.Notice.Key))
	})
	if err != nil {
		return fmt.Errorf("ack outbox item %d: %w", seq, err)
	}
	return nil
}

// Retry records a failed delivery of an item: it counts the attempt, keeps
// cause and holds the item back until next.
func (s *Store) Retry(ctx context.Context, seq uint64, next time.Time, cause string) error {
	err := s.update(ctx, func(tx kvTx) error {
		r, err := getOutbox(tx, seq)
		if err != nil {
			return err
		}
		r.Attempts++
		r.NextTry = nanos(next)
		r.LastError = cause
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketOutbox).Put(seqKey(seq), v)
	})
	if err != nil {
		return fmt.Errorf("retry outbox item %d: %w", seq, err)
	}
	return nil
}

func getOutbox(tx kvTx, seq uint64) (outboxRec, error) {
	v := tx.Bucket(bucketOutbox).Get(seqKey(seq))
	if v == nil {
		return outboxRec{}, ErrNotFound
	}
	var r outboxRec
	if err := json.Unmarshal(v, &r); err != nil {
		return outboxRec{}, fmt.Errorf("decode outbox item %d: %w", seq, err)
	}
	return r, nil
}

// MarkInFlight records that what is named by what (such as a card or a
// thread reply) is about to be sent for the items: a deliverer that finds
// the mark on an item it did not acknowledge looks for what was sent
// before sending it again. Written with the deliverer's fence (WithFence),
// it fails with ErrFenced once the deliverer no longer leads, and then
// nothing may be sent. An item not there fails with ErrNotFound.
func (s *Store) MarkInFlight(ctx context.Context, seqs []uint64, what string, now time.Time) error {
	err := s.update(ctx, func(tx kvTx) error {
		for _, seq := range seqs {
			r, err := getOutbox(tx, seq)
			if err != nil {
				return err
			}
			r.InFlight, r.FlightAt = what, nanos(now)
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketOutbox).Put(seqKey(seq), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark outbox items %v in flight: %w", seqs, err)
	}
	return nil
}

// CheckFence reports ErrFenced when the fence of ctx (WithFence) no longer
// holds on a store on etcd: the writer that holds it has lost what it
// writes for, and must not act on the outbox any more. A context without
// a fence, and a bbolt file, always pass.
func (s *Store) CheckFence(ctx context.Context) error {
	fence := fenceFrom(ctx)
	if s.etcd == nil || len(fence) == 0 {
		return nil
	}
	resp, err := s.etcd.cli.Txn(ctx).If(fence...).Commit()
	if err != nil {
		return fmt.Errorf("check fence: %w", err)
	}
	if !resp.Succeeded {
		return ErrFenced
	}
	return nil
}
