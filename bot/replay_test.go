package bot

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReplayGuard(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := func(i int) string { return fmt.Sprintf("v0=%064x", i) }
	g := newReplayGuard(3)
	if !g.first(ts, sig(1), now) {
		t.Fatal("first sight of a signature refused")
	}
	if g.first(ts, sig(1), now.Add(4*time.Minute)) {
		t.Error("the same signature within the window accepted")
	}
	if g.first(ts, strings.ToUpper(sig(1)[3:]), now) || g.first(ts, "v0="+strings.ToUpper(sig(1)[3:]), now) {
		t.Error("the same signature spelt in upper case accepted")
	}
	if !g.first(ts, sig(2), now) {
		t.Error("another signature refused")
	}
	for _, bad := range []string{"", "v0=zz", "v0=abcd"} {
		if g.first(ts, bad, now) {
			t.Errorf("first(%q) = true for a signature VerifySignature refuses", bad)
		}
	}
	// Past its window the signature is forgotten (VerifySignature refuses
	// it as stale by then).
	later := now.Add(MaxRequestAge + time.Second)
	if !g.first(strconv.FormatInt(later.Unix(), 10), sig(3), later) || g.size() != 1 {
		t.Errorf("stale signatures kept: %d remembered, want 1", g.size())
	}
	// At the bound the oldest is forgotten first.
	for i := 4; i < 10; i++ {
		g.first(strconv.FormatInt(later.Unix(), 10), sig(i), later)
	}
	if n := g.size(); n != 3 {
		t.Errorf("remembered %d signatures, want the bound 3", n)
	}
	if g.first(strconv.FormatInt(later.Unix(), 10), sig(9), later) {
		t.Error("the newest signature was forgotten at the bound")
	}
}

// BenchmarkReplayGuard fills a guard to its bound with twice as many
// requests and prints the memory it then holds.
func BenchmarkReplayGuard(b *testing.B) {
	now := time.Unix(1_790_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sigs := make([]string, maxRemembered*2)
	for i := range sigs {
		sigs[i] = fmt.Sprintf("v0=%064x", i)
	}
	var held uint64
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g := newReplayGuard(maxRemembered)
		for _, s := range sigs {
			g.first(ts, s, now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if g.size() != maxRemembered {
			b.Fatalf("size %d", g.size())
		}
		held = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(g)
	}
	b.ReportMetric(float64(held), "bytes-held")
	b.ReportMetric(float64(held)/maxRemembered, "bytes/signature")
}
