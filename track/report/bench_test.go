package report

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

// walkBaseline reads raw the way a bare MIME walk does with go-message:
// every part is opened and read to the end, nested multiparts are entered
// and embedded messages are read, nothing is interpreted. Errors are
// ignored: the walk stops where go-message gives up.
func walkBaseline(raw []byte) {
	// An error with an entity (an unknown charset, say) still leaves a
	// body to read; without an entity go-message gave up on the header.
	e, _ := gomessage.Read(bytes.NewReader(raw))
	if e != nil {
		walkEntity(e)
	}
}

func walkEntity(e *gomessage.Entity) {
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			walkEntity(p)
		}
	}
	// Everything else, message/rfc822 included, is read to the end.
	_, _ = io.Copy(io.Discard, e.Body) // read errors end the walk of this part
}

// parseAll runs Parse over every message.
func parseAll(msgs [][]byte) {
	for _, m := range msgs {
		_, _ = Parse(m) // only the cost is measured here
	}
}

func walkAll(msgs [][]byte) {
	for _, m := range msgs {
		walkBaseline(m)
	}
}

// corpusBytes returns the raw corpus messages and their total size, or
// skips the benchmark when the corpus is absent.
func corpusBytes(b *testing.B) ([][]byte, int64) {
	b.Helper()
	samples := loadCorpus(b)
	msgs := make([][]byte, len(samples))
	var total int64
	for i, s := range samples {
		msgs[i] = s.Raw
		total += int64(len(s.Raw))
	}
	return msgs, total
}

// BenchmarkCorpus reads every corpus message once per iteration, first with
// the bare go-message walk ("baseline"), then with Parse ("parse"). Compare
// the msgs/s and MB/s of the two lines.
func BenchmarkCorpus(b *testing.B) {
	msgs, total := corpusBytes(b)
	for _, bm := range []struct {
		name string
		run  func([][]byte)
	}{
		{"baseline", walkAll},
		{"parse", parseAll},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				bm.run(msgs)
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(len(msgs)*b.N)/secs, "msgs/s")
			b.ReportMetric(float64(total)*float64(b.N)/secs/1e6, "MB/s")
		})
	}
}

// BenchmarkCorpusRatio times both walks over the corpus in the same run
// and reports how many times the cost of the baseline Parse is ("ratio").
func BenchmarkCorpusRatio(b *testing.B) {
	msgs, total := corpusBytes(b)
	var base, parse time.Duration
	b.SetBytes(2 * total)
	for b.Loop() {
		t0 := time.Now()
		walkAll(msgs)
		t1 := time.Now()
		parseAll(msgs)
		base += t1.Sub(t0)
		parse += time.Since(t1)
	}
	b.ReportMetric(float64(parse)/float64(base), "ratio")
	b.ReportMetric(float64(len(msgs)*b.N)/base.Seconds(), "baseline-msgs/s")
	b.ReportMetric(float64(len(msgs)*b.N)/parse.Seconds(), "parse-msgs/s")
}

// BenchmarkParseScaling parses pathological inputs of 1, 4 and 16 MB. Time
// is linear in size when ns/byte stays flat across the sizes of one input.
func BenchmarkParseScaling(b *testing.B) {
	sizes := []int{1 << 20, 4 << 20, 16 << 20}
	inputs := map[int]map[string][]byte{}
	for _, n := range sizes {
		inputs[n] = pathological(n)
	}
	for _, name := range sortedKeys(inputs[sizes[0]]) {
		for _, n := range sizes {
			raw := inputs[n][name]
			b.Run(fmt.Sprintf("%s/%dMB", name, n>>20), func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				for b.Loop() {
					_, _ = Parse(raw) // only the cost is measured here
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(raw)), "ns/byte")
			})
		}
	}
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// BenchmarkGolden parses each golden message.
func BenchmarkGolden(b *testing.B) {
	for _, path := range goldenMessages(b) {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		raw := readGolden(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				_, _ = Parse(raw) // only the cost is measured here
			}
		})
	}
}

// BenchmarkStartup reports what the package's tables cost the first
// Parse of a program (they are built on first use, not when the program
// starts): building the reason index and the bounce phrase sets from
// scratch, per op.
func BenchmarkStartup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newReasonIndex(phraseRules, commandMarkers)
		newPhraseSet(bounceSubjectPhrases)
	}
}
