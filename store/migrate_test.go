package store

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

var updateFixture = flag.Bool("update-fixture", false,
	"write the fixture of the current schema, testdata/v<N>.db, if it does not exist; fixtures are frozen once written")

// fixturePath is the frozen database of schema version v. Each was written
// by writeFixture as it was while the package wrote version v.
func fixturePath(v int) string { return fmt.Sprintf("testdata/v%d.db", v) }

// writeFixture writes a database of the current schema with one of
// everything; every fixture holds the same data.
func writeFixture(t *testing.T, path string) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "fixture.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

	open := newMail(t, "open@example.com", "alice@example.com", at(0), "bob@example.net", "carol+x@example.org")
	open.EnvelopeID = "env-open"
	register(t, s, open, at(0))
	register(t, s, newMail(t, "snoozed@example.com", "alice@example.com", at(1), "bob@example.net"), at(1))
	register(t, s, newMail(t, "done@example.com", "dave@example.com", at(2), "bob@example.net"), at(2))
	cp := &Checkpoint{Account: "work", Folder: "INBOX", UIDValidity: 1700000000, UID: 42, ModSeq: 9001}
	_, err = s.ApplyReport(ctx, ApplyInput{Now: at(3), Checkpoint: cp, Reports: []report.Report{
		dsn("open@example.com", "bob@example.net", report.ActionDelivered, "dsn1@mx.example.net", at(3)),
		mdn("open@example.com", "carol+x@example.org", report.DispositionDisplayed, "mdn1@example.org", at(3)),
		dsn("done@example.com", "bob@example.net", report.ActionFailed, "dsn2@mx.example.net", at(3)),
		mdn("unknown@example.com", "erin@example.com", report.DispositionDisplayed, "mdn2@example.com", at(3)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, "snooze", func() error { _, err := s.Snooze(ctx, "snoozed@example.com", at(72), at(4)); return err })
	mustDo(t, "close", func() error { _, err := s.CloseMail(ctx, "done@example.com", track.StateDone, at(5)); return err })
	mustDo(t, "sweep", func() error { _, err := s.SweepDue(ctx, at(30)); return err })
	items := pending(t, s)
	mustDo(t, "ack", func() error { return s.Ack(ctx, items[0].Seq) })
	mustDo(t, "retry", func() error { return s.Retry(ctx, items[1].Seq, at(31), "slack: ratelimited") })
	mustDo(t, "slack ref", func() error {
		return s.PutSlackRef(ctx, "open@example.com", SlackRef{"C024BE91L", "1748854800.000100"})
	})
	mustDo(t, "slack user", func() error { return s.PutSlackUser(ctx, "alice@example.com", SlackUser{"U0G9QF9C6", at(0)}) })
	mustDo(t, "quarantine", func() error {
		_, err := s.Quarantine(ctx, Quarantined{Account: "work", Folder: "INBOX", UIDValidity: 1700000000, UID: 43,
			Size: 2048, Reason: "parse: no header", At: at(6), Head: []byte("garbage\r\n")}, nil)
		return err
	})
	mustDo(t, "note", func() error {
		note := fmt.Sprintf("DO NOT EDIT: frozen schema v%d database, written by writeFixture in migrate_test.go; "+
			"later versions must open it as it is", currentSchema)
		return s.update(context.Background(), func(tx kvTx) error { return tx.Bucket(bucketMeta).Put([]byte("note"), []byte(note)) })
	})
	if _, err := s.BackupFile(ctx, path); err != nil {
		t.Fatal(err)
	}
}

// fileSchema reads the schema version of a database file without
// migrating it.
func fileSchema(t *testing.T, path string) int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.View(func(tx *bbolt.Tx) error { v, err = schemaVersion(boltTx{tx}); return err }); err != nil {
		t.Fatal(err)
	}
	return v
}

func storeSchema(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	err := s.view(context.Background(), func(tx kvTx) error {
		var err error
		v, err = schemaVersion(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustDo(t *testing.T, what string, fn func() error) {
	t.Helper()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// copyFixture copies a fixture to a temporary file, leaving the original
// as it is.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(name)
	if err != nil {
		t.Fatalf("open fixture: %v", err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), filepath.Base(name))
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenFixtures(t *testing.T) {
	bboltOnly(t)
	paths, err := filepath.Glob("testdata/v*.db")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata: %v", err)
	}
	for _, name := range paths {
		t.Run(filepath.Base(name), func(t *testing.T) {
			var v int
			if _, err := fmt.Sscanf(filepath.Base(name), "v%d.db", &v); err != nil {
				t.Fatalf("fixture name %s: %v", name, err)
			}
			path := copyFixture(t, name)
			if got := fileSchema(t, path); got != v {
				t.Fatalf("%s has schema %d, want %d", name, got, v)
			}
			s := openAt(t, path, Options{})
			if got := storeSchema(t, s); got != currentSchema {
				t.Errorf("schema after open = %d, want %d", got, currentSchema)
			}
			mustCheck(t, s)
			checkFixture(t, s)
		})
	}
}

// checkFixture checks that a store holds what writeFixture wrote and works
// with it.
func checkFixture(t *testing.T, s *Store) {
	ctx := t.Context()
	m := mustMail(t, s, "open@example.com")
	if r := recipient(t, m, "bob@example.net"); r.Status != track.StatusNoResponse || r.Best != track.StatusDelivered {
		t.Errorf("open: bob = %s (best %s), want no_response (best delivered)", r.Status, r.Best)
	}
	if r := recipient(t, m, "carol+x@example.org"); r.Status != track.StatusRead {
		t.Errorf("open: carol = %s, want read", r.Status)
	}
	if evs, err := s.Evidence(ctx, "open@example.com"); err != nil || len(evs) != 2 {
		t.Errorf("Evidence(open) = %d, %v; want 2", len(evs), err)
	}
	if m := mustMail(t, s, "done@example.com"); m.State != track.StateDone {
		t.Errorf("done: state %s, want done", m.State)
	}
	if m := mustMail(t, s, "snoozed@example.com"); m.State != track.StateSnoozed || !m.DueAt.Equal(t0.Add(72*time.Hour)) {
		t.Errorf("snoozed: %s due %v, want snoozed, due at +72h", m.State, m.DueAt)
	}
	digest, err := s.Digest(ctx, t0.Add(48*time.Hour), DigestQuery{})
	if err != nil || len(digest) != 1 || digest[0].Sender != "alice@example.com" || len(digest[0].Mails) != 1 ||
		digest[0].Mails[0].MessageID != "open@example.com" || !slices.Equal(digest[0].Mails[0].Waiting, []string{"bob@example.net"}) {
		t.Errorf("Digest() = %+v, %v; want alice's open@example.com waiting for bob", digest, err)
	}
	if cp, err := s.Checkpoint(ctx, "work", "INBOX"); err != nil || cp.UID != 42 || cp.ModSeq != 9001 {
		t.Errorf("Checkpoint() = %+v, %v; want UID 42, MODSEQ 9001", cp, err)
	}
	if ref, err := s.SlackRef(ctx, "open@example.com"); err != nil || ref.TS != "1748854800.000100" {
		t.Errorf("SlackRef() = %+v, %v", ref, err)
	}
	if u, err := s.SlackUser(ctx, "alice@example.com"); err != nil || u.ID != "U0G9QF9C6" {
		t.Errorf("SlackUser() = %+v, %v", u, err)
	}
	if q, err := s.QuarantineList(ctx, 0); err != nil || len(q) != 1 || q[0].UID != 43 {
		t.Errorf("QuarantineList() = %+v, %v; want UID 43", q, err)
	}
	if items := pending(t, s); len(items) == 0 || items[0].Attempts != 1 {
		t.Errorf("outbox = %+v, want the retried notice first", items)
	}

	// The old data works with the new code: evidence read again is known,
	// the orphan is adopted, the indexes answer.
	again := apply(t, s, t0, dsn("open@example.com", "bob@example.net", report.ActionDelivered, "dsn1@mx.example.net", t0.Add(3*time.Hour)))
	if again.Items[0].Outcome != OutcomeDuplicate {
		t.Errorf("report read again: %s, want duplicate", again.Items[0].Outcome)
	}
	reg := register(t, s, newMail(t, "unknown@example.com", "alice@example.com", t0, "erin@example.com"), t0.Add(7*time.Hour))
	if len(reg.Adopted) != 1 || len(reg.Notices) != 1 {
		t.Errorf("register: adopted %v, notices %d; want the orphaned receipt", reg.Adopted, len(reg.Notices))
	}
	list, err := s.ListBySender(ctx, "alice@example.com", ListFilter{}, 0)
	if err != nil || len(list) != 3 {
		t.Errorf("ListBySender(alice) = %d mails, %v; want 3", len(list), err)
	}
	mustCheck(t, s)
}

// TestWriteFixture runs writeFixture, and with -update-fixture writes the
// fixture of the current schema into testdata.
func TestWriteFixture(t *testing.T) {
	bboltOnly(t)
	path := filepath.Join(t.TempDir(), "fixture.db")
	if *updateFixture {
		path = fixturePath(currentSchema)
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s exists and is frozen", path)
		}
	}
	writeFixture(t, path)
	if v := fileSchema(t, path); v != currentSchema {
		t.Fatalf("writeFixture wrote schema %d, want %d", v, currentSchema)
	}
	s := openAt(t, copyFixture(t, path), Options{})
	mustCheck(t, s)
	checkFixture(t, s)
}

func TestMigrationsAreOrdered(t *testing.T) {
	for i, m := range migrations {
		if m.to != i+1 {
			t.Errorf("migrations[%d] goes to %d, want %d", i, m.to, i+1)
		}
	}
	if last := migrations[len(migrations)-1].to; last != currentSchema {
		t.Errorf("last migration goes to %d, currentSchema is %d", last, currentSchema)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	bboltOnly(t)
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.update(context.Background(), func(tx kvTx) error { return setSchemaVersion(tx, currentSchema+1) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path, Options{})
	var se *SchemaError
	if !errors.Is(err, ErrNewerSchema) || !errors.As(err, &se) || se.Found != currentSchema+1 || se.Supported != currentSchema {
		t.Fatalf("Open(newer) = %v, want ErrNewerSchema with versions %d and %d", err, currentSchema+1, currentSchema)
	}
}

func TestOpenRefusesForeignFile(t *testing.T) {
	bboltOnly(t)
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNotStore) {
		t.Errorf("Open(foreign bbolt file) = %v, want ErrNotStore", err)
	}
}

func TestOpenLocked(t *testing.T) {
	bboltOnly(t)
	s := openTest(t, Options{})
	if _, err := Open(s.Path(), Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open() = %v, want ErrLocked", err)
	}
}

// TestPageSize checks that a new file gets Options.PageSize's default and
// a file of another page size keeps its own: bbolt reads it from the file.
func TestPageSize(t *testing.T) {
	bboltOnly(t)
	s := openFileAt(t, filepath.Join(t.TempDir(), "new.db"), Options{})
	if got := s.db.Info().PageSize; got != defaultPageSize {
		t.Errorf("new file: page size %d, want %d", got, defaultPageSize)
	}
	old := openFileAt(t, copyFixture(t, "testdata/v5.db"), Options{PageSize: 1 << 20})
	if got := old.db.Info().PageSize; got != 4096 {
		t.Errorf("v5 fixture: page size %d, want the 4096 it was written with", got)
	}
	mustCheck(t, old)
	checkFixture(t, old)
}
