package report

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir is where the shared report corpus lives, relative to this
// package.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

type corpusReport struct {
	Recipient         string  `json:"recipient"`
	OriginalMessageID *string `json:"original_message_id"`
	Action            *string `json:"action"`
	Disposition       *string `json:"disposition"`
	Status            *string `json:"status"`
	Reason            *string `json:"reason"`
}

type corpusSample struct {
	Name    string
	Raw     []byte
	Kind    string         `json:"kind"`
	Family  string         `json:"family"`
	Reports []corpusReport `json:"reports"`
}

// half puts each MTA family of the corpus in one of two halves (CRC-32 of
// its name, odd or even), so that copies and siblings of a message stay on
// one side. Reason rules are adjusted only by looking at the misses of
// half 0 (REPORT_CORPUS_MISSES=0 lists them); half 1 checks that they hold on
// mail they were not adjusted on. A gap between the halves shows rules
// fitted to the samples rather than to the mail.
func (s corpusSample) half() int {
	return int(crc32.ChecksumIEEE([]byte(s.Family)) % 2)
}

// loadCorpus reads every sample of the shared corpus, or skips the test
// when the corpus is absent.
func loadCorpus(tb testing.TB) []corpusSample {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if len(files) == 0 {
		abs, _ := filepath.Abs(corpusDir)
		tb.Skipf("report corpus not found at %s: skipping corpus checks", abs)
	}
	var out []corpusSample
	for _, f := range files {
		var s corpusSample
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		s.Name = strings.TrimSuffix(filepath.Base(f), ".json")
		if s.Raw, err = os.ReadFile(strings.TrimSuffix(f, ".json") + ".eml"); err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// tally counts agreements for one field.
type tally struct{ agree, total int }

func (t *tally) add(ok bool) {
	t.total++
	if ok {
		t.agree++
	}
}

func (t tally) pct() float64 {
	if t.total == 0 {
		return 100
	}
	return 100 * float64(t.agree) / float64(t.total)
}

func (t tally) String() string {
	return fmt.Sprintf("%5.1f%% (%d/%d)", t.pct(), t.agree, t.total)
}

// TestCorpusAgreement runs Parse over every corpus sample and compares each
// expected report field by field with what Parse found.
func TestCorpusAgreement(t *testing.T) {
	samples := loadCorpus(t)
	fields := map[string]*tally{}
	for _, k := range []string{"kind", "recipient", "original_message_id", "action/disposition", "status", "reason", "core"} {
		fields[k] = &tally{}
	}
	var misses []string
	var halves [2]struct{ reason, core tally }
	show := os.Getenv("REPORT_CORPUS_MISSES")
	miss := func(s corpusSample, format string, args ...any) {
		if show == "" || show == "all" || show == fmt.Sprint(s.half()) {
			misses = append(misses, s.Name+": "+fmt.Sprintf(format, args...))
		}
	}
	for _, s := range samples {
		got, err := Parse(s.Raw)
		if err != nil {
			miss(s, "error %v", err)
		}
		wantKind := s.Kind
		if wantKind == "other" {
			wantKind = string(KindNone)
		}
		gotKind := string(KindNone)
		if len(got) > 0 {
			gotKind = string(got[0].Kind)
		}
		if gotKind == string(KindReply) || gotKind == string(KindAutoReply) {
			gotKind = string(KindNone) // answers, not delivery or read reports
		}
		fields["kind"].add(gotKind == wantKind)
		if gotKind != wantKind {
			miss(s, "kind %s, want %s", gotKind, wantKind)
		}
		for _, w := range s.Reports {
			g := pairReport(got, w, len(s.Reports))
			rcptOK := g.Recipient == strings.ToLower(w.Recipient)
			idOK := g.OriginalMessageID == str(w.OriginalMessageID)
			wantAD := str(w.Action) + str(w.Disposition)
			adOK := string(g.Action)+string(g.Disposition) == wantAD
			fields["recipient"].add(rcptOK)
			fields["original_message_id"].add(idOK)
			fields["action/disposition"].add(adOK)
			fields["status"].add(g.Status == str(w.Status))
			fields["core"].add(rcptOK && idOK && adOK)
			halves[s.half()].core.add(rcptOK && idOK && adOK)
			if !rcptOK || !idOK || !adOK {
				miss(s, "got (%q, %q, %q), want (%q, %q, %q)", g.Recipient, g.OriginalMessageID, string(g.Action)+string(g.Disposition), w.Recipient, str(w.OriginalMessageID), wantAD)
			}
			if w.Reason != nil {
				fields["reason"].add(string(g.Reason) == *w.Reason)
				halves[s.half()].reason.add(string(g.Reason) == *w.Reason)
				if string(g.Reason) != *w.Reason {
					miss(s, "reason %q, want %q (status %q, diag %.120q)", g.Reason, *w.Reason, g.Status, g.Diagnostic)
				}
			}
		}
	}
	t.Logf("corpus: %d samples", len(samples))
	for _, k := range []string{"kind", "recipient", "original_message_id", "action/disposition", "status", "reason", "core"} {
		t.Logf("  %-20s %s", k, fields[k])
	}
	for i, h := range halves {
		t.Logf("  half %d (MTA families): reason %s, core %s", i, h.reason, h.core)
	}
	t.Logf("  reason gap between the halves: %.1f points", halves[0].reason.pct()-halves[1].reason.pct())
	if show != "" {
		sort.Strings(misses)
		for _, m := range misses {
			t.Log(m)
		}
	}
	if p := fields["core"].pct(); p < 90 {
		t.Errorf("core agreement (recipient + original Message-ID + action/disposition) %.1f%%, want at least 90%%", p)
	}
	if p := fields["reason"].pct(); p < 75 {
		t.Errorf("reason agreement %.1f%%, want at least 75%%", p)
	}
}

// pairReport returns the report in got that speaks of the expected
// recipient, or the only report when both sides have one.
func pairReport(got []Report, w corpusReport, nwant int) Report {
	for _, g := range got {
		if g.Recipient == strings.ToLower(w.Recipient) {
			return g
		}
	}
	if len(got) == 1 && nwant == 1 {
		return got[0]
	}
	return Report{}
}
