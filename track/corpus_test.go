package track

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

// corpusDir is where the shared report corpus lives, relative to this
// package.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

type corpusReport struct {
	file string
	raw  []byte
	r    report.Report
}

// loadCorpus parses every message of the shared corpus, or skips the test
// when the corpus is absent.
func loadCorpus(t *testing.T) []corpusReport {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if len(files) == 0 {
		abs, _ := filepath.Abs(corpusDir)
		t.Skipf("report corpus not found at %s: skipping corpus checks", abs)
	}
	var out []corpusReport
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := report.Parse(raw)
		if err != nil {
			continue // the report package's own tests judge its errors
		}
		for _, r := range rs {
			if r.Kind != report.KindNone {
				out = append(out, corpusReport{filepath.Base(f), raw, r})
			}
		}
	}
	return out
}

// TestCorpusSignals checks that every report the parser yields from real
// mail implies a status, so none is refused by Apply.
func TestCorpusSignals(t *testing.T) {
	counts := map[Status]int{}
	for _, c := range loadCorpus(t) {
		s, ok := Signal(c.r)
		if !ok {
			t.Errorf("Signal(%s: %s %s%s) = none, want a status", c.file, c.r.Kind, c.r.Action, c.r.Disposition)
		}
		counts[s]++
	}
	t.Logf("signals: %v", counts)
}

// TestCorpusEvidenceIDs checks that evidence IDs are stable and that two
// reports share one only when they share a Message-ID, which names one
// report. (Some corpus fixtures were derived from one another and reuse
// the Message-ID with other content; real mail does not.)
func TestCorpusEvidenceIDs(t *testing.T) {
	seen := map[string]corpusReport{}
	dups := 0
	for _, c := range loadCorpus(t) {
		id := EvidenceID(c.r)
		if again := EvidenceID(c.r); again != id {
			t.Errorf("EvidenceID(%s) = %s then %s, want stable", c.file, id, again)
		}
		prev, ok := seen[id]
		if !ok {
			seen[id] = c
			continue
		}
		if bytes.Equal(prev.raw, c.raw) || reflect.DeepEqual(prev.r, c.r) ||
			(c.r.ReportMessageID != "" && c.r.ReportMessageID == prev.r.ReportMessageID) {
			dups++
			continue
		}
		t.Errorf("EvidenceID(%s) = EvidenceID(%s) = %s for different reports", c.file, prev.file, id)
	}
	t.Logf("%d distinct evidence IDs, %d reports sharing one with an earlier report", len(seen), dups)
}

// TestCorpusCorrelate registers, for every report quoting its original
// Message-ID, a mail under that ID with the reported recipient among
// others, and checks the report finds the mail and the recipient and
// applies.
func TestCorpusCorrelate(t *testing.T) {
	applied := 0
	for _, c := range loadCorpus(t) {
		if c.r.OriginalMessageID == "" || NormalizeAddress(c.r.Recipient) == "" {
			continue
		}
		sent := c.r.Date.Add(-time.Hour)
		m := tracked(t, c.r.OriginalMessageID, "", c.r.Subject, sent, c.r.Recipient, "someone-else@example.invalid")
		mt, err := Correlate(c.r, &fakeLookup{mails: []Mail{m}}, sent, time.Hour)
		if err != nil || mt.Via != ViaMessageID || mt.Recipient != NormalizeAddress(c.r.Recipient) {
			t.Errorf("Correlate(%s) = %s via %s, %v, want %s via message_id", c.file, mt.Recipient, mt.Via, err, NormalizeAddress(c.r.Recipient))
			continue
		}
		res, err := Apply(m, EvidenceFrom(c.r, mt, sent), sent)
		want, _ := Signal(c.r)
		if err != nil || len(res.Notices) != 1 || res.Notices[0].To != want {
			t.Errorf("Apply(%s) = %v, %v, want one notice of %s", c.file, noticeTos(res.Notices), err, want)
			continue
		}
		applied++
	}
	t.Logf("%d corpus reports correlated and applied", applied)
}
