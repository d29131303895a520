package report

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds Parse the corpus messages (when the corpus is present),
// the golden messages and mutations of them. Parse must not panic, and
// whatever it returns must keep its promises (see checkReports).
func FuzzParse(f *testing.F) {
	if files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json")); len(files) > 0 {
		for _, s := range loadCorpus(f) {
			f.Add(s.Raw)
		}
	}
	for _, path := range goldenMessages(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rs, err := Parse(raw)
		checkReports(t, "fuzz input", rs, err)
	})
}
