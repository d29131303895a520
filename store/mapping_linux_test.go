package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fileMapping is what /proc/self/smaps says about one mapping of a file.
type fileMapping struct {
	start   uint64
	size    uint64
	rssKB   int
	vmFlags []string
}

// mappingsOf returns the mappings of the file at path in this process.
func mappingsOf(t *testing.T, path string) []fileMapping {
	t.Helper()
	fh, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("cannot read the process's mappings: %v", err)
	}
	defer fh.Close()
	var out []fileMapping
	var cur *fileMapping // the mapping of path being read, if any
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(name, " ") && !strings.Contains(name, "-") {
			if cur == nil {
				continue
			}
			switch name {
			case "Rss":
				cur.rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
			case "VmFlags":
				cur.vmFlags = strings.Fields(value)
			}
			continue
		}
		// A header: start-end perms offset device inode [path].
		cur = nil
		f := strings.Fields(line)
		if len(f) < 6 || strings.Join(f[5:], " ") != path {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, err := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err != nil || err2 != nil {
			t.Fatalf("smaps header %q: cannot read the addresses", line)
		}
		out = append(out, fileMapping{start: start, size: end - start})
		cur = &out[len(out)-1]
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read smaps: %v", err)
	}
	return out
}

// dbMapping returns the one mapping of s's file and checks that it is
// where bbolt says its data is.
func dbMapping(t *testing.T, s *Store) fileMapping {
	t.Helper()
	ms := mappingsOf(t, s.path)
	if len(ms) != 1 {
		t.Fatalf("mappings of %s = %+v, want exactly one", s.path, ms)
	}
	if data := uint64(s.db.Info().Data); ms[0].start != data {
		t.Fatalf("mapping of %s starts at %#x, bbolt's data at %#x", s.path, ms[0].start, data)
	}
	return ms[0]
}

// TestMappingRandomAccess checks that the mapping bbolt reads the file
// through is advised for random access (MADV_RANDOM, VmFlags "rr"), when
// opened and after the file outgrew it, so that a page read from the disk
// brings no read-ahead with it. bbolt advises every mapping it makes.
func TestMappingRandomAccess(t *testing.T) {
	bboltOnly(t)
	s := openTest(t, Options{InitialMmapSize: 64 << 10})
	first := dbMapping(t, s)
	if !slices.Contains(first.vmFlags, "rr") {
		t.Fatalf("mapping after Open: VmFlags %v, want rr", first.vmFlags)
	}
	// 64 values of 60 KiB take the file past several remaps.
	value := []byte(strings.Repeat("x", 60<<10))
	for i := range 64 {
		if err := s.PutUserSettings(t.Context(), fmt.Sprintf("U%03d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	grown := dbMapping(t, s)
	if grown.size <= first.size {
		t.Fatalf("mapping of %d bytes after writing 3.75 MiB, %d before: the file did not outgrow it", grown.size, first.size)
	}
	if !slices.Contains(grown.vmFlags, "rr") {
		t.Errorf("mapping after growth: VmFlags %v, want rr", grown.vmFlags)
	}
}

// putSettings stores n values of 60 KiB, each filled with its index, and
// returns a function that reads them back and checks them.
func putSettings(t *testing.T, s *Store, n int) (check func()) {
	t.Helper()
	value := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 60<<10) }
	for i := range n {
		if err := s.PutUserSettings(t.Context(), fmt.Sprintf("U%03d", i), value(i)); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		for i := range n {
			id := fmt.Sprintf("U%03d", i)
			got, err := s.UserSettings(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, value(i)) {
				t.Fatalf("UserSettings(%s) = %d bytes starting %q, want %d bytes of %q", id, len(got), got[:min(len(got), 8)], 60<<10, value(i)[0])
			}
		}
	}
}

// TestMappingTrim checks that unmapping the file drops its pages from the
// process's resident set and leaves what is read through the mapping as
// it was.
func TestMappingTrim(t *testing.T) {
	bboltOnly(t)
	s := openTest(t, Options{MappedLimit: -1})
	check := putSettings(t, s, 64)
	check()
	if rss := dbMapping(t, s).rssKB; rss < 3<<10 {
		t.Fatalf("mapping's Rss after reading 3.75 MiB = %d kB, want at least 3 MiB", rss)
	}
	if err := (&mapping{}).trim(s.db); err != nil {
		t.Fatalf("trim() = %v", err)
	}
	if rss := dbMapping(t, s).rssKB; rss != 0 {
		t.Fatalf("mapping's Rss after trim = %d kB, want 0", rss)
	}
	check()
	if rss := dbMapping(t, s).rssKB; rss < 3<<10 {
		t.Errorf("mapping's Rss after reading again = %d kB, want at least 3 MiB", rss)
	}
}

// TestMappedLimit checks that a store unmaps its file after a transaction
// that leaves more of the process's file pages resident than
// Options.MappedLimit allows, and only then.
func TestMappedLimit(t *testing.T) {
	bboltOnly(t)
	for _, tc := range []struct {
		name      string
		limit     int
		wantTrims bool
	}{
		{"default", 0, false},
		{"one byte", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, Options{MappedLimit: tc.limit})
			if s.mapped == nil {
				t.Fatal("Open made no mapping limit")
			}
			putSettings(t, s, 64)()
			rss, trims := dbMapping(t, s).rssKB, s.mapped.trims.Load()
			if got := trims > 0; got != tc.wantTrims {
				t.Fatalf("%d unmappings with MappedLimit %d, want some: %v", trims, tc.limit, tc.wantTrims)
			}
			if tc.wantTrims && rss != 0 {
				t.Errorf("mapping's Rss after a read = %d kB, want 0", rss)
			}
			if !tc.wantTrims && rss < 3<<10 {
				t.Errorf("mapping's Rss after reading 3.75 MiB = %d kB, want at least 3 MiB", rss)
			}
		})
	}
}

// TestMappedLimitConcurrent unmaps the file after every transaction while
// writers grow it and readers read it, and checks that every read sees
// what was written.
func TestMappedLimitConcurrent(t *testing.T) {
	bboltOnly(t)
	s := openTest(t, Options{MappedLimit: 1, InitialMmapSize: 64 << 10})
	const workers, rounds = 4, 40
	value := func(w, r int) []byte { return bytes.Repeat([]byte{byte('a' + w), byte('0' + r%10)}, 16<<10) }
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		id := fmt.Sprintf("U%d", w)
		wg.Go(func() {
			for r := range rounds {
				if err := s.PutUserSettings(t.Context(), id, value(w, r)); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for range rounds {
				got, err := s.UserSettings(t.Context(), id)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if len(got) != 32<<10 || got[0] != byte('a'+w) || !bytes.Equal(got, bytes.Repeat(got[:2], 16<<10)) {
					errs <- fmt.Errorf("UserSettings(%s) = %d bytes starting %q, want 32 KiB of one value written", id, len(got), got[:min(len(got), 8)])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range workers {
		id := fmt.Sprintf("U%d", w)
		if got, err := s.UserSettings(t.Context(), id); err != nil || !bytes.Equal(got, value(w, rounds-1)) {
			t.Errorf("UserSettings(%s) after the writers = %d bytes, %v; want the last value written", id, len(got), err)
		}
	}
	if s.mapped.trims.Load() == 0 {
		t.Error("the store never unmapped its file")
	}
}
