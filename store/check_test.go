package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// corrupt changes the database behind the store's back.
func corrupt(t *testing.T, s *Store, fn func(tx kvTx) error) {
	t.Helper()
	if err := s.update(t.Context(), fn); err != nil {
		t.Fatalf("corrupt: %v", err)
	}
}

func TestCheckDetects(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(tx kvTx) error
		want    string
	}{
		{"dangling sender entry", func(tx kvTx) error {
			k := append(appendTime(join("alice@example.com", ""), t0), "ghost@example.com"...)
			return tx.Bucket(bucketBySender).Put(k, []byte("open"))
		}, "names no stored mail"},
		{"missing deadline entry", func(tx kvTx) error {
			k, _ := tx.Bucket(bucketByDue).Cursor().First()
			return tx.Bucket(bucketByDue).Delete(k)
		}, "by_due entry"},
		{"deadline entry naming no mail", func(tx kvTx) error {
			return tx.Bucket(bucketByDue).Put(appendTime(nil, t0.Add(time.Minute)), empty)
		}, "by_due entry"},
		{"wrong state in sender entry", func(tx kvTx) error {
			c := tx.Bucket(bucketBySender).Cursor()
			k, _ := c.First()
			return tx.Bucket(bucketBySender).Put(k, []byte("done"))
		}, "want \"open\""},
		{"evidence of no mail", func(tx kvTx) error {
			return tx.Bucket(bucketMails).Put(join("ghost@example.com", "dsn-1"), []byte(`{}`))
		}, "names no stored mail ghost@example.com"},
		{"evidence id without evidence", func(tx kvTx) error {
			return tx.Bucket(bucketEvidenceIDs).Put([]byte("mdn-x"), []byte(id(1)))
		}, "names no evidence"},
		{"orphan without age entry", func(tx kvTx) error {
			k, _ := tx.Bucket(bucketOrphanAge).Cursor().First()
			return tx.Bucket(bucketOrphanAge).Delete(k)
		}, "orphans_by_age entry missing"},
		{"outbox key of no item", func(tx kvTx) error {
			return tx.Bucket(bucketOutboxKeys).Put([]byte("stray"), seqKey(999))
		}, "names no outbox item"},
		{"undecodable mail", func(tx kvTx) error {
			return tx.Bucket(bucketMails).Put([]byte(id(3)), []byte("{"))
		}, "decode mail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{})
			fill(t, s)
			mustCheck(t, s)
			corrupt(t, s, tt.breakIt)
			err := s.Check(t.Context())
			var ie *IntegrityError
			if !errors.As(err, &ie) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Check() = %v, want an *IntegrityError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check() = %v, want a problem mentioning %q", err, tt.want)
			}
		})
	}
}
