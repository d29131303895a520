package store

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// TestCopyToEtcd copies a bbolt file into etcd, checks the store there
// exports the same, runs the copy again (nothing to do), recovers from a
// copy cut short and refuses a prefix holding another store.
func TestCopyToEtcd(t *testing.T) {
	if testEtcd == nil {
		t.Skip("needs the embedded etcd")
	}
	ctx := t.Context()
	src := openFileAt(t, filepath.Join(t.TempDir(), "mailack.db"), Options{})
	fill(t, src)
	prefix := "test" + filepath.ToSlash(t.TempDir()) + "/" // fresh in each run of the test
	n, already, err := src.CopyToEtcd(ctx, testEtcd, prefix)
	if err != nil || already || n == 0 {
		t.Fatalf("CopyToEtcd = %d, %t, %v", n, already, err)
	}
	open := func() *Store {
		t.Helper()
		s, err := OpenEtcd(testEtcd, EtcdOptions{Prefix: prefix, ReadOnly: true}, Options{})
		if err != nil {
			t.Fatalf("OpenEtcd = %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	dst := open()
	mustCheck(t, dst)
	if a, b := export(t, src), export(t, dst); !bytes.Equal(a, b) {
		t.Errorf("the store on etcd exports differently:\n%s\nwant\n%s", b, a)
	}
	if _, err := dst.ApplyReport(ctx, ApplyInput{Now: t0}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write on a read-only store = %v, want ErrReadOnly", err)
	}
	n2, already, err := src.CopyToEtcd(ctx, testEtcd, prefix)
	if err != nil || !already || n2 != n {
		t.Fatalf("second CopyToEtcd = %d, %t, %v; want %d, true, nil", n2, already, err, n)
	}

	// A copy cut short before its meta bucket: not a store until a new
	// run completes it.
	if _, err := testEtcd.Delete(ctx, prefix+"m/meta"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEtcd(testEtcd, EtcdOptions{Prefix: prefix}, Options{}); !errors.Is(err, ErrNotStore) {
		t.Fatalf("OpenEtcd(copy cut short) = %v, want ErrNotStore", err)
	}
	if n3, already, err := src.CopyToEtcd(ctx, testEtcd, prefix); err != nil || already || n3 != n {
		t.Fatalf("CopyToEtcd after a cut = %d, %t, %v; want %d, false, nil", n3, already, err, n)
	}
	open()

	// Another store's prefix is left alone.
	other := openFileAt(t, filepath.Join(t.TempDir(), "other.db"), Options{})
	register(t, other, newMail(t, "other@example.com", "carol@example.com", t0, "dan@example.net"), t0)
	if _, _, err := other.CopyToEtcd(ctx, testEtcd, prefix); !errors.Is(err, ErrTargetInUse) {
		t.Fatalf("CopyToEtcd onto another store = %v, want ErrTargetInUse", err)
	}
	if a, b := export(t, src), export(t, open()); !bytes.Equal(a, b) {
		t.Error("a refused copy changed the store on etcd")
	}
}
