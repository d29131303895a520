package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func TestOutboxRetryAndAck(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "o1@example.com", "alice@example.com", t0, "bob@example.net", "carol@example.net"), t0)
	apply(t, s, t0,
		dsn("o1@example.com", "bob@example.net", report.ActionFailed, "f@mx", t0),
		mdn("o1@example.com", "carol@example.net", report.DispositionDisplayed, "m@mx", t0))
	items := pending(t, s)
	if len(items) != 2 {
		t.Fatalf("outbox holds %d, want 2", len(items))
	}
	first := items[0]
	if err := s.Retry(t.Context(), first.Seq, t0.Add(time.Minute), "slack: ratelimited"); err != nil {
		t.Fatal(err)
	}
	due, err := s.Pending(t.Context(), t0.Add(30*time.Second), 0)
	if err != nil || len(due) != 1 || due[0].Seq != items[1].Seq {
		t.Errorf("Pending(before retry time) = %+v, %v; want only the second item", due, err)
	}
	later, _ := s.Pending(t.Context(), t0.Add(time.Minute), 1)
	if len(later) != 1 || later[0].Seq != first.Seq || later[0].Attempts != 1 || later[0].LastError != "slack: ratelimited" {
		t.Errorf("Pending(at retry time, limit 1) = %+v, want the retried item with 1 attempt", later)
	}
	if err := s.Ack(t.Context(), first.Seq); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(t.Context(), first.Seq); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Ack() = %v, want ErrNotFound", err)
	}
	if err := s.Retry(t.Context(), first.Seq, t0, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retry(acked) = %v, want ErrNotFound", err)
	}
	if got := noticeKeys(pending(t, s)); !slices.Equal(got, []string{items[1].Notice.Key}) {
		t.Errorf("outbox keys = %v, want [%s]", got, items[1].Notice.Key)
	}
	mustCheck(t, s)
}

func TestOutboxDropsDuplicateKeys(t *testing.T) {
	s := openTest(t, Options{})
	n := track.Notice{Key: "k1", Kind: track.NoticeRead, MessageID: "x@example.com"}
	var added []track.Notice
	err := s.update(t.Context(), func(tx kvTx) error {
		a, err := s.enqueueNotices(tx, []track.Notice{n, n}, t0)
		added = a
		if err != nil {
			return err
		}
		a, err = s.enqueueNotices(tx, []track.Notice{n}, t0)
		added = append(added, a...)
		return err
	})
	if err != nil || len(added) != 1 {
		t.Fatalf("enqueue the same key three times: added %d, %v; want 1", len(added), err)
	}
}

func TestCheckpoints(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	if _, err := s.Checkpoint(ctx, "work", "INBOX"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Checkpoint(unread folder) = %v, want ErrNotFound", err)
	}
	steps := []struct {
		name string
		set  Checkpoint
		want Checkpoint
	}{
		{"first", Checkpoint{UIDValidity: 5, UID: 10, ModSeq: 7}, Checkpoint{UIDValidity: 5, UID: 10, ModSeq: 7}},
		{"forward", Checkpoint{UIDValidity: 5, UID: 12, ModSeq: 9}, Checkpoint{UIDValidity: 5, UID: 12, ModSeq: 9}},
		{"never back", Checkpoint{UIDValidity: 5, UID: 11, ModSeq: 8}, Checkpoint{UIDValidity: 5, UID: 12, ModSeq: 9}},
		{"new uidvalidity", Checkpoint{UIDValidity: 6, UID: 1}, Checkpoint{UIDValidity: 6, UID: 1}},
	}
	for _, st := range steps {
		st.set.Account, st.set.Folder = "work", "INBOX"
		if err := s.SetCheckpoint(ctx, st.set); err != nil {
			t.Fatalf("%s: SetCheckpoint() = %v", st.name, err)
		}
		got, err := s.Checkpoint(ctx, "work", "INBOX")
		if err != nil || got.UIDValidity != st.want.UIDValidity || got.UID != st.want.UID || got.ModSeq != st.want.ModSeq {
			t.Errorf("%s: Checkpoint() = %+v, %v; want %+v", st.name, got, err, st.want)
		}
	}
	if _, err := s.Checkpoint(ctx, "work", "Sent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Checkpoint(other folder) = %v, want ErrNotFound", err)
	}
	if err := s.SetCheckpoint(ctx, Checkpoint{Account: "a\x00b", Folder: "INBOX"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetCheckpoint(NUL) = %v, want ErrInvalid", err)
	}
}

func TestSlackRefsAndUsers(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	if err := s.PutSlackRef(ctx, "s1@example.com", SlackRef{"C1", "1.2"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutSlackRef(unknown mail) = %v, want ErrNotFound", err)
	}
	register(t, s, newMail(t, "s1@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	if err := s.PutSlackRef(ctx, "<s1@example.com>", SlackRef{"C1", "1712345678.000100"}); err != nil {
		t.Fatal(err)
	}
	if ref, err := s.SlackRef(ctx, "s1@example.com"); err != nil || ref != (SlackRef{"C1", "1712345678.000100"}) {
		t.Errorf("SlackRef() = %+v, %v", ref, err)
	}
	if _, err := s.SlackUser(ctx, "bob@example.net"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SlackUser(uncached) = %v, want ErrNotFound", err)
	}
	for _, u := range []SlackUser{{ID: "U123", FetchedAt: t0}, {ID: "", FetchedAt: t0.Add(time.Hour)}} {
		if err := s.PutSlackUser(ctx, "Bob <BOB@example.net>", u); err != nil {
			t.Fatal(err)
		}
		got, err := s.SlackUser(ctx, "bob@example.net")
		if err != nil || got.ID != u.ID || !got.FetchedAt.Equal(u.FetchedAt) {
			t.Errorf("SlackUser() = %+v, %v; want %+v", got, err, u)
		}
	}
	mustCheck(t, s)
}

func TestQuarantine(t *testing.T) {
	s := openTest(t, Options{QuarantineHead: 10})
	ctx := t.Context()
	raw := []byte("Subject: broken\r\n\r\nbody")
	cp := &Checkpoint{Account: "work", Folder: "INBOX", UIDValidity: 3, UID: 99}
	qid, err := s.Quarantine(ctx, Quarantined{Account: "work", Folder: "INBOX", UIDValidity: 3, UID: 99,
		Size: int64(len(raw)), Reason: "parse: header line without colon", At: t0, Head: raw}, cp)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.QuarantineList(ctx, 0)
	if err != nil || len(list) != 1 {
		t.Fatalf("QuarantineList() = %d, %v; want 1", len(list), err)
	}
	q := list[0]
	if q.ID != qid || q.UID != 99 || q.Size != int64(len(raw)) || !bytes.Equal(q.Head, raw[:10]) || !q.At.Equal(t0) {
		t.Errorf("quarantined = %+v, want UID 99, size %d, head %q", q, len(raw), raw[:10])
	}
	if got, _ := s.Checkpoint(ctx, "work", "INBOX"); got.UID != 99 {
		t.Errorf("Checkpoint UID = %d, want 99", got.UID)
	}
	if err := s.Unquarantine(ctx, qid); err != nil {
		t.Fatal(err)
	}
	if err := s.Unquarantine(ctx, qid); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Unquarantine() = %v, want ErrNotFound", err)
	}
}

func TestExpireOrphans(t *testing.T) {
	s := openTest(t, Options{})
	apply(t, s, t0, mdn("gone1@example.com", "bob@example.net", report.DispositionDisplayed, "o1@mx", t0))
	apply(t, s, t0.Add(48*time.Hour), mdn("gone2@example.com", "bob@example.net", report.DispositionDisplayed, "o2@mx", t0))
	n, err := s.ExpireOrphans(t.Context(), t0.Add(50*time.Hour), 24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("ExpireOrphans() = %d, %v; want 1", n, err)
	}
	left, _ := s.Orphans(t.Context(), 0)
	if len(left) != 1 || left[0].Keys.MessageID != "gone2@example.com" {
		t.Errorf("orphans left = %+v, want gone2", left)
	}
	if n := countKeys(t, s, bucketOrphanAge); n != 1 {
		t.Errorf("orphans_by_age holds %d, want 1", n)
	}
	mustCheck(t, s)
}

// With NoOutbox, reports, orphans adopted at registration and deadlines
// still yield their notices, but none is queued; the same file opened
// without it queues them again.
func TestNoOutbox(t *testing.T) {
	path := t.TempDir() + "/mailack.db"
	s, err := Open(path, Options{NoOutbox: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	register(t, s, newMail(t, "n1@example.com", "alice@example.com", t0, "bob@example.net", "carol@example.net"), t0)
	res := apply(t, s, t0,
		dsn("n1@example.com", "bob@example.net", report.ActionFailed, "f@mx", t0),
		mdn("n1@example.com", "carol@example.net", report.DispositionDisplayed, "m@mx", t0))
	if len(res.Notices) != 2 {
		t.Errorf("ApplyReport() notices = %d, want 2", len(res.Notices))
	}
	apply(t, s, t0, dsn("n2@example.com", "dave@example.net", report.ActionFailed, "f2@mx", t0))
	reg := register(t, s, newMail(t, "n2@example.com", "alice@example.com", t0.Add(-time.Hour), "dave@example.net"), t0)
	if len(reg.Notices) != 1 {
		t.Errorf("RegisterMail() adopting an orphan: notices = %d, want 1", len(reg.Notices))
	}
	register(t, s, newMail(t, "n3@example.com", "alice@example.com", t0, "erin@example.net"), t0)
	sw, err := s.SweepDue(t.Context(), t0.Add(48*time.Hour))
	if err != nil || len(sw.Notices) == 0 {
		t.Errorf("SweepDue() = %d notices, %v; want the no-response notices", len(sw.Notices), err)
	}
	if items := pending(t, s); len(items) != 0 {
		t.Errorf("outbox holds %d with NoOutbox, want 0: %v", len(items), noticeKeys(items))
	}
	mustCheck(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path, Options{NoSync: true})
	register(t, s, newMail(t, "n4@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	apply(t, s, t0, dsn("n4@example.com", "bob@example.net", report.ActionFailed, "f4@mx", t0))
	if items := pending(t, s); len(items) != 1 {
		t.Errorf("outbox holds %d without NoOutbox, want 1", len(items))
	}
}

// PendingAfter pages through the due items: each page starts after the
// last Seq of the one before, skips what is not due, and the pages
// together are Pending's list.
func TestOutboxPendingAfterPages(t *testing.T) {
	s := openTest(t, Options{})
	for i := range 7 {
		register(t, s, newMail(t, id(i), "alice@example.com", t0, "bob@example.net"), t0)
		apply(t, s, t0, mdn(id(i), "bob@example.net", report.DispositionDisplayed, fmt.Sprintf("r%d@mx", i), t0))
	}
	all := pending(t, s)
	if len(all) != 7 {
		t.Fatalf("outbox holds %d, want 7", len(all))
	}
	if err := s.Retry(t.Context(), all[3].Seq, t0.Add(time.Hour), "later"); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	var after uint64
	for {
		page, err := s.PendingAfter(t.Context(), t0, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, it := range page {
			got = append(got, it.Seq)
		}
		after = page[len(page)-1].Seq
	}
	var want []uint64
	for i, it := range all {
		if i != 3 {
			want = append(want, it.Seq)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages of 2 = %v, want %v (every due item once, in order)", got, want)
	}
}

// MarkInFlight records what was about to be sent for items, and when;
// Retry keeps the mark, Ack removes the item with it.
func TestOutboxInFlight(t *testing.T) {
	s := openTest(t, Options{})
	register(t, s, newMail(t, "f1@example.com", "alice@example.com", t0, "bob@example.net", "carol@example.net"), t0)
	apply(t, s, t0,
		dsn("f1@example.com", "bob@example.net", report.ActionFailed, "f@mx", t0),
		mdn("f1@example.com", "carol@example.net", report.DispositionDisplayed, "m@mx", t0))
	items := pending(t, s)
	if len(items) != 2 || items[0].InFlight != "" || !items[0].InFlightAt.IsZero() {
		t.Fatalf("outbox = %+v, want 2 items not in flight", items)
	}
	at := t0.Add(time.Minute)
	if err := s.MarkInFlight(t.Context(), []uint64{items[0].Seq, items[1].Seq}, "card", at); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkInFlight(t.Context(), []uint64{items[1].Seq}, "reply", at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(t.Context(), items[1].Seq, t0, "slack: timeout"); err != nil {
		t.Fatal(err)
	}
	got := pending(t, s)
	if len(got) != 2 || got[0].InFlight != "card" || !got[0].InFlightAt.Equal(at) ||
		got[1].InFlight != "reply" || !got[1].InFlightAt.Equal(at.Add(time.Second)) || got[1].Attempts != 1 {
		t.Errorf("outbox = %+v, want the first in flight for a card, the second for a reply after one attempt", got)
	}
	if err := s.Ack(t.Context(), items[0].Seq); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkInFlight(t.Context(), []uint64{items[0].Seq}, "card", at); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkInFlight(acked) = %v, want ErrNotFound", err)
	}
	if err := s.CheckFence(t.Context()); err != nil {
		t.Errorf("CheckFence without a fence = %v", err)
	}
	mustCheck(t, s)
}
