package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// fill gives a store a little of everything.
func fill(t testing.TB, s *Store) {
	t.Helper()
	for i := range 5 {
		register(t, s, newMail(t, id(i), "alice@example.com", t0.Add(time.Duration(i)*time.Hour), "bob@example.net", "carol@example.net"), t0)
		apply(t, s, t0.Add(time.Hour), dsn(id(i), "bob@example.net", report.ActionDelivered, "d"+id(i), t0))
	}
	apply(t, s, t0, mdn("orphan@example.com", "bob@example.net", report.DispositionDisplayed, "o@mx", t0))
}

func export(t testing.TB, s *Store) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.Export(t.Context(), &b); err != nil {
		t.Fatalf("Export() = %v", err)
	}
	return b.Bytes()
}

func TestBackup(t *testing.T) {
	s := openTest(t, Options{})
	fill(t, s)
	dir := t.TempDir()

	var buf bytes.Buffer
	n, err := s.Backup(t.Context(), &buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup() = %d, %v; buffer %d bytes", n, err, buf.Len())
	}
	path := filepath.Join(dir, "copy.db")
	if _, err := s.BackupFile(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	if testEtcd == nil {
		if _, err := s.BackupFile(t.Context(), s.Path()); !errors.Is(err, ErrInvalid) {
			t.Errorf("BackupFile(live database) = %v, want ErrInvalid", err)
		}
	}
	// A backup is a bbolt file, of a store on etcd too.
	copied := openFileAt(t, path, Options{})
	mustCheck(t, copied)
	if a, b := export(t, s), export(t, copied); !bytes.Equal(a, b) {
		t.Errorf("backup exports differently:\n%s\nwant\n%s", b, a)
	}
}

func TestExport(t *testing.T) {
	s := openTest(t, Options{})
	fill(t, s)
	var doc struct {
		Schema int            `json:"schema"`
		Mails  []ExportedMail `json:"mails"`
		Orph   []track.Orphan `json:"orphans"`
	}
	if err := json.Unmarshal(export(t, s), &doc); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if doc.Schema != currentSchema || len(doc.Mails) != 5 || len(doc.Orph) != 1 {
		t.Fatalf("export: schema %d, %d mails, %d orphans; want %d, 5, 1", doc.Schema, len(doc.Mails), len(doc.Orph), currentSchema)
	}
	m := doc.Mails[0]
	if m.Mail.MessageID != id(0) || len(m.Evidence) != 1 || m.Evidence[0].Signal != track.StatusDelivered {
		t.Errorf("first exported mail = %+v, want %s with its DSN", m, id(0))
	}
}

func TestPurge(t *testing.T) {
	s := openTest(t, Options{})
	fill(t, s)
	ctx := t.Context()
	if err := s.PutSlackRef(ctx, id(0), SlackRef{"C", "1.0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseMail(ctx, id(0), track.StateDone, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseMail(ctx, id(1), track.StateStopped, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseMail(ctx, id(2), track.StateDone, t0.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	res, err := s.Purge(ctx, 7*24*time.Hour, t0.Add(10*24*time.Hour))
	if err != nil || res.Mails != 2 || res.Evidence != 2 {
		t.Fatalf("Purge() = %+v, %v; want 2 mails and 2 evidence", res, err)
	}
	for _, i := range []int{0, 1} {
		if _, err := s.Mail(ctx, id(i)); !errors.Is(err, ErrNotFound) {
			t.Errorf("Mail(%s) after purge = %v, want ErrNotFound", id(i), err)
		}
	}
	if _, err := s.Mail(ctx, id(2)); err != nil {
		t.Errorf("Mail(%s), closed recently, = %v", id(2), err)
	}
	if _, err := s.SlackRef(ctx, id(0)); !errors.Is(err, ErrNotFound) {
		t.Errorf("SlackRef() after purge = %v, want ErrNotFound", err)
	}
	if got := countMails(t, s); got != 3 {
		t.Errorf("%d mails left, want 3", got)
	}
	if got := countEvidence(t, s); got != 3 {
		t.Errorf("%d evidence left, want 3", got)
	}
	for b, want := range map[string]int{"by_sender": 3, "by_closed": 1, "by_subject": 6} {
		if got := countKeys(t, s, []byte(b)); got != want {
			t.Errorf("%s holds %d keys, want %d", b, got, want)
		}
	}
	mustCheck(t, s)
}
