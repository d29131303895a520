package store

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
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
