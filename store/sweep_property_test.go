package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// TestSweepMatchesStoredMails checks the lazy by_due index against the
// mails themselves: random registrations, receipts, away notices, replies,
// snoozes, closes, reopens and purges (so Message-IDs come back after a
// purge), and before each sweep the notices, redraws and mails the sweep
// must produce are worked out from every stored mail whose wake-up is due
// (track.Sweep and track.Redraw) and compared with SweepDue's, which
// finds them through the index and its stale entries. Snooze, close and
// reopen may refuse a mail that is not tracked or not in a state for them.
func TestSweepMatchesStoredMails(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { sweepPropertyRun(t, seed) })
	}
}

func sweepPropertyRun(t *testing.T, seed uint64) {
	s := openTest(t, Options{NoOutbox: true, NoSync: true})
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(seed, 7))
	now := t0
	rcpts := []string{"a@p.example", "b@p.example", "c@q.example"}
	mid := func() string { return fmt.Sprintf("x%02d@example.com", rng.IntN(10)) }
	seq := 0
	rid := func() string { seq++; return fmt.Sprintf("r%d@r.example", seq) }
	for step := 0; step < 300; step++ {
		switch op := rng.IntN(11); op {
		case 0, 1:
			m := newMail(t, mid(), "alice@example.com", now.Add(-time.Duration(rng.IntN(30))*time.Hour), rcpts[:1+rng.IntN(3)]...)
			if _, err := s.RegisterMail(ctx, RegisterInput{Mail: m, Now: now}); err != nil {
				t.Fatal(err)
			}
		case 2:
			apply(t, s, now, mdn(mid(), rcpts[rng.IntN(3)], report.DispositionDisplayed, rid(), now))
		case 3:
			until := time.Date(now.Year(), now.Month(), now.Day()+rng.IntN(4), 0, 0, 0, 0, time.UTC)
			apply(t, s, now, away(mid(), rcpts[rng.IntN(3)], rid(), until, now))
		case 4:
			apply(t, s, now, reply(mid(), rcpts[rng.IntN(3)], rid(), now))
		case 5:
			_, _ = s.Snooze(ctx, mid(), now.Add(time.Duration(1+rng.IntN(48))*time.Hour), now)
		case 6:
			_, _ = s.CloseMail(ctx, mid(), track.StateDone, now)
		case 7:
			_, _ = s.Reopen(ctx, mid(), now.Add(time.Duration(rng.IntN(48))*time.Hour), now)
		case 8:
			if _, err := s.Purge(ctx, time.Duration(rng.IntN(10))*time.Hour, now); err != nil {
				t.Fatal(err)
			}
		default:
			now = now.Add(time.Duration(rng.IntN(20*60)) * time.Minute)
			sweepAndCompare(t, s, now)
		}
		if step%25 == 0 {
			mustCheck(t, s)
		}
	}
}

func sweepAndCompare(t *testing.T, s *Store, now time.Time) {
	var want []string
	wantMails := map[string][]byte{}
	swept := 0
	err := s.view(t.Context(), func(tx kvTx) error {
		return forEachMail(tx, func(k, v []byte) error {
			m, err := decodeMail(string(k), v)
			if err != nil {
				return err
			}
			w := wakeUp(&m)
			if w.IsZero() || w.After(now) {
				wantMails[string(k)] = bytes.Clone(v)
				return nil
			}
			next, ns := track.Sweep(m, now)
			sw := !next.DueAt.Equal(m.DueAt) || !track.NextDue(next).Equal(track.NextDue(m)) || len(ns) > 0
			next, redraw, redrawn := track.Redraw(next, now)
			if sw {
				swept++
			}
			for _, n := range ns {
				want = append(want, n.Key)
			}
			if redrawn {
				want = append(want, redraw.Key)
			}
			if sw || redrawn {
				v, _ = encodeMail(&next)
			}
			wantMails[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.SweepDue(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range res.Notices {
		got = append(got, n.Key)
	}
	for _, n := range res.Redraws {
		got = append(got, n.Key)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || res.Swept != swept {
		t.Fatalf("sweep at %v: notices %v swept %d, want %v swept %d", now, got, res.Swept, want, swept)
	}
	err = s.view(t.Context(), func(tx kvTx) error {
		return forEachMail(tx, func(k, v []byte) error {
			if !bytes.Equal(wantMails[string(k)], v) {
				t.Fatalf("mail %s after sweep differs", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing due is left in by_due up to now but entries of mails not due.
	_ = s.view(t.Context(), func(tx kvTx) error {
		c := tx.Bucket(bucketByDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:timeLen], appendTime(nil, now)) <= 0; k, _ = c.Next() {
			t.Errorf("by_due entry %q at or before now left after the sweep", k)
		}
		return nil
	})
}
