package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/track/report"
)

// model is what a bucket should hold.
type model map[string]string

func (m model) keys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestKVModel runs random reads, batched reads, writes and cursor moves on
// a bucket, within transactions and across them, more keys than a cursor
// reads in its first two pages, and compares every answer with a map.
func TestKVModel(t *testing.T) {
	s := openTest(t, Options{})
	name := []byte("model")
	if err := s.update(t.Context(), func(tx kvTx) error { _, err := tx.CreateBucket(name); return err }); err != nil {
		t.Fatal(err)
	}
	want := model{}
	rng := rand.New(rand.NewPCG(7, 11))
	key := func() string { return fmt.Sprintf("k%04d", rng.IntN(3000)) }
	for round := range 12 {
		next := maps(want)
		// Odd rounds fail at the end: nothing they wrote may stay.
		fail := round%2 == 1
		err := s.update(t.Context(), func(tx kvTx) error {
			next = maps(want)
			b := tx.Bucket(name)
			for i := range 700 {
				if err := step(rng, b, next, key); err != nil {
					return err
				}
				if i%40 == 0 {
					if err := batchStep(tx, name, next, key); err != nil {
						return err
					}
				}
				if i%100 == 0 {
					if err := backStep(b, next, key()); err != nil {
						return err
					}
					lo, hi := key(), key()
					if err := boundedStep(b, next, min(lo, hi), max(lo, hi)); err != nil {
						return err
					}
				}
			}
			if fail {
				return errBoom
			}
			return nil
		})
		if fail {
			if !errors.Is(err, errBoom) {
				t.Fatalf("round %d: update = %v, want errBoom", round, err)
			}
		} else if err != nil {
			t.Fatalf("round %d: %v", round, err)
		} else {
			want = next
		}
		// A fresh read transaction sees what was committed, in order, both
		// ways.
		err = s.view(t.Context(), func(tx kvTx) error {
			var fwd, back []string
			c := tx.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if want[string(k)] != string(v) {
					return fmt.Errorf("%s = %q, want %q", k, v, want[string(k)])
				}
				fwd = append(fwd, string(k))
			}
			for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
				back = append(back, string(k))
			}
			slices.Reverse(back)
			if !slices.Equal(fwd, want.keys()) || !slices.Equal(back, want.keys()) {
				return fmt.Errorf("keys forward %d, backward %d, want %d", len(fwd), len(back), len(want))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if len(want) < 3*etcdPageSize {
		t.Fatalf("only %d keys: the cursors never read a third page", len(want))
	}
}

// backStep walks b backwards from its last key down to low with a cursor
// bounded below at low, and checks the keys against m.
func backStep(b bucket, m model, low string) error {
	var want, got []string
	for _, k := range m.keys() {
		if k >= low {
			want = append(want, k)
		}
	}
	slices.Reverse(want)
	c := b.Cursor()
	boundBelow(c, []byte(low))
	for k, v := c.Last(); k != nil && string(k) >= low; k, v = c.Prev() {
		if m[string(k)] != string(v) {
			return fmt.Errorf("backwards to %s: %s = %q, want %q", low, k, v, m[string(k)])
		}
		got = append(got, string(k))
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("backwards to %s: %d keys, want %d", low, len(got), len(want))
	}
	return nil
}

// boundedStep walks b forwards and backwards between low and high with
// cursors bounded there, and checks the keys against m.
func boundedStep(b bucket, m model, low, high string) error {
	var want, fwd, back []string
	for _, k := range m.keys() {
		if k >= low && k < high {
			want = append(want, k)
		}
	}
	c := b.Cursor()
	boundBelow(c, []byte(low))
	boundAbove(c, []byte(high))
	for k, _ := c.Seek([]byte(low)); k != nil && string(k) < high; k, _ = c.Next() {
		fwd = append(fwd, string(k))
	}
	// Backwards from high as ListBySender does: a cursor bounded above
	// may say there is no key at or after high.
	c = b.Cursor()
	boundBelow(c, []byte(low))
	boundAbove(c, []byte(high))
	k, _ := c.Seek([]byte(high))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && string(k) >= low; k, _ = c.Prev() {
		back = append(back, string(k))
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, want) || !slices.Equal(back, want) {
		return fmt.Errorf("between %s and %s: %d keys forwards, %d backwards, want %d", low, high, len(fwd), len(back), len(want))
	}
	return nil
}

// batchStep prefetches a few keys of bucket name, some of them twice, and
// checks that reading them then gives what m holds.
func batchStep(tx kvTx, name []byte, m model, key func() string) error {
	b := tx.Bucket(name)
	var ks []string
	var in []keyIn
	for range 10 {
		ks = append(ks, key())
		in = append(in, keyIn{name, []byte(ks[len(ks)-1])})
	}
	ks = append(ks, ks[0])
	prefetch(tx, append(in, in[0]))
	for _, k := range ks {
		got := b.Get([]byte(k))
		if w, ok := m[k]; ok != (got != nil) || string(got) != w {
			return fmt.Errorf("Get(%s) after prefetch = %q (nil %t), want %q (stored %t)", k, got, got == nil, w, ok)
		}
	}
	return nil
}

var errBoom = errors.New("boom")

func maps(m model) model {
	out := make(model, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// step makes one random operation on b and checks it against m.
func step(rng *rand.Rand, b bucket, m model, key func() string) error {
	k := key()
	switch op := rng.IntN(10); {
	case op < 4:
		v := fmt.Sprint(rng.Uint32())
		if rng.IntN(5) == 0 {
			v = "" // an empty value is a stored key
		}
		m[k] = v
		return b.Put([]byte(k), []byte(v))
	case op < 6:
		delete(m, k)
		return b.Delete([]byte(k))
	case op < 7:
		got := b.Get([]byte(k))
		if w, ok := m[k]; ok != (got != nil) || string(got) != w {
			return fmt.Errorf("Get(%s) = %q (nil %t), want %q (stored %t)", k, got, got == nil, w, ok)
		}
	default:
		// Seek, then walk a few keys either way.
		ks := m.keys()
		i, _ := slices.BinarySearch(ks, k)
		c := b.Cursor()
		got, _ := c.Seek([]byte(k))
		for n := range 1 + rng.IntN(20) {
			var w string
			if i >= 0 && i < len(ks) {
				w = ks[i]
			}
			if string(got) != w {
				return fmt.Errorf("cursor after %d moves from %s at %q, want %q", n, k, got, w)
			}
			if got == nil {
				break
			}
			if rng.IntN(3) == 0 {
				got, _ = c.Prev()
				i--
			} else {
				got, _ = c.Next()
				i++
			}
		}
	}
	return nil
}

// TestKVSequence checks NextSequence counts per bucket and survives
// commits, and that a failed transaction hands no number out.
func TestKVSequence(t *testing.T) {
	s := openTest(t, Options{})
	var got []uint64
	next := func(fail bool) error {
		return s.update(t.Context(), func(tx kvTx) error {
			n, err := tx.Bucket(bucketQuarantine).NextSequence()
			if err != nil {
				return err
			}
			if fail {
				return errBoom
			}
			got = append(got, n)
			return nil
		})
	}
	for i := range 5 {
		if err := next(i == 2); err != nil && !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
	}
	if want := []uint64{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("sequence = %v, want %v", got, want)
	}
}

// TestKVSerializable runs read-modify-write transactions on one counter
// from several stores at once (on etcd, several nodes sharing the
// cluster): none is lost.
func TestKVSerializable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailack.db")
	stores := []*Store{openAt(t, path, Options{})}
	if testEtcd != nil {
		stores = append(stores, openAt(t, path, Options{}), openAt(t, path, Options{}))
	}
	const perWorker = 30
	var wg sync.WaitGroup
	errc := make(chan error, 3*len(stores))
	for _, s := range stores {
		for range 3 {
			wg.Go(func() {
				for range perWorker {
					err := s.update(context.Background(), func(tx kvTx) error {
						b := tx.Bucket(bucketMeta)
						var n uint64
						if v := b.Get([]byte("counter")); v != nil {
							n = binary.BigEndian.Uint64(v)
						}
						return b.Put([]byte("counter"), binary.BigEndian.AppendUint64(nil, n+1))
					})
					if err != nil {
						errc <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	err := stores[0].view(t.Context(), func(tx kvTx) error {
		v := tx.Bucket(bucketMeta).Get([]byte("counter"))
		if got, want := binary.BigEndian.Uint64(v), uint64(3*len(stores)*perWorker); got != want {
			return fmt.Errorf("counter = %d, want %d", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var conflicts int64
	for _, s := range stores {
		conflicts += s.EtcdConflicts()
	}
	t.Logf("%d transactions ran again after a conflict", conflicts)
}

// TestEtcdFence checks that a write whose fence fails is not committed and
// fails with ErrFenced, and that writes go through while it holds.
func TestEtcdFence(t *testing.T) {
	if testEtcd == nil {
		t.Skip("the fence is a compare of etcd transactions")
	}
	ctx := t.Context()
	prefix := "test" + filepath.ToSlash(t.TempDir()) + "/" // fresh in each run of the test
	owner := prefix + "owner"
	if _, err := testEtcd.Put(ctx, owner, "node-a"); err != nil {
		t.Fatal(err)
	}
	fenced := WithFence(ctx, clientv3.Compare(clientv3.Value(owner), "=", "node-a"))
	s, err := OpenEtcd(testEtcd, EtcdOptions{Prefix: prefix + "store/"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := newMail(t, "fenced@example.com", "alice@example.com", t0, "bob@example.net")
	if _, err := s.RegisterMail(fenced, RegisterInput{Mail: m, Now: t0}); err != nil {
		t.Fatalf("RegisterMail while the fence holds = %v", err)
	}
	if _, err := testEtcd.Put(ctx, owner, "node-b"); err != nil {
		t.Fatal(err)
	}
	_, err = s.ApplyReport(fenced, ApplyInput{Reports: []report.Report{
		dsn(m.MessageID, "bob@example.net", report.ActionDelivered, "r1@mta", t0.Add(time.Minute)),
	}, Now: t0.Add(time.Minute)})
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("ApplyReport after losing the fence = %v, want ErrFenced", err)
	}
	before := recipient(t, m, "bob@example.net").Best
	if got := recipient(t, mustMail(t, s, m.MessageID), "bob@example.net"); got.Best != before {
		t.Errorf("fenced report was applied: status %v, was %v", got.Best, before)
	}
	if n := countEvidence(t, s); n != 0 {
		t.Errorf("%d evidence stored by a fenced write", n)
	}
	if err := s.CheckFence(fenced); !errors.Is(err, ErrFenced) {
		t.Errorf("CheckFence after losing the fence = %v, want ErrFenced", err)
	}
	if err := s.CheckFence(WithFence(ctx, clientv3.Compare(clientv3.Value(owner), "=", "node-b"))); err != nil {
		t.Errorf("CheckFence of a fence that holds = %v", err)
	}
}

// TestEtcdCompactedSnapshot compacts the history past a transaction's
// snapshot while it reads: the transaction runs again on a new snapshot.
func TestEtcdCompactedSnapshot(t *testing.T) {
	if testEtcd == nil {
		t.Skip("etcd keeps the history a snapshot reads")
	}
	s := openTest(t, Options{})
	m := newMail(t, "compacted@example.com", "alice@example.com", t0, "bob@example.net")
	register(t, s, m, t0)
	runs := 0
	var found bool
	err := s.view(t.Context(), func(tx kvTx) error {
		runs++
		if runs == 1 {
			resp, err := testEtcd.Put(t.Context(), "test/"+t.Name()+"/advance", "x")
			if err != nil {
				return err
			}
			if _, err := testEtcd.Compact(t.Context(), resp.Header.Revision); err != nil {
				return err
			}
		}
		found = tx.Bucket(bucketMails).Get([]byte(m.MessageID)) != nil
		return nil
	})
	if err != nil || runs != 2 || !found {
		t.Fatalf("view across a compaction = %v after %d runs, mail found %t; want nil after 2 runs, found", err, runs, found)
	}

	// A write whose read failed writes nothing, even what it wrote
	// before the failure, and the rules see their buckets all the same.
	runs = 0
	err = s.update(t.Context(), func(tx kvTx) error {
		runs++
		if err := tx.Bucket(bucketMeta).Put([]byte("note"), []byte("half")); err != nil {
			return err
		}
		if runs == 1 {
			resp, err := testEtcd.Put(t.Context(), "test/"+t.Name()+"/advance", "y")
			if err != nil {
				return err
			}
			if _, err := testEtcd.Compact(t.Context(), resp.Header.Revision); err != nil {
				return err
			}
		}
		_, ok, err := getMail(tx, m.MessageID)
		if err == nil && !ok {
			return ErrNotFound // what the rules do with a mail they cannot read
		}
		return err
	})
	if err != nil || runs != 2 {
		t.Fatalf("update across a compaction = %v after %d runs; want nil after 2 runs", err, runs)
	}
}
