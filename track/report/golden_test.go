package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden.json from what Parse returns")

// goldenDir holds hand-built report messages (NAME.eml, CRLF line endings
// as IMAP delivers them) and what Parse must return for each
// (NAME.golden.json).
var goldenDir = filepath.Join("testdata", "golden")

// goldenReport is the part of a Report the golden files pin down.
type goldenReport struct {
	Kind              string `json:"kind"`
	OriginalMessageID string `json:"original_message_id"`
	EnvelopeID        string `json:"envelope_id"`
	Recipient         string `json:"recipient"`
	Action            string `json:"action"`
	Status            string `json:"status"`
	ReplyCode         string `json:"reply_code"`
	Disposition       string `json:"disposition"`
	Reason            string `json:"reason"`
	RemoteMTA         string `json:"remote_mta"`
	ReportMessageID   string `json:"report_message_id"`
	AutoReply         string `json:"auto_reply,omitempty"`
	AwayUntil         string `json:"away_until,omitempty"`
	OriginalRecipient string `json:"original_recipient,omitempty"`
	SuggestedAddress  string `json:"suggested_address,omitempty"`
}

func toGolden(rs []Report) []goldenReport {
	out := make([]goldenReport, 0, len(rs))
	for _, r := range rs {
		out = append(out, goldenReport{
			Kind:              string(r.Kind),
			OriginalMessageID: r.OriginalMessageID,
			EnvelopeID:        r.EnvelopeID,
			Recipient:         r.Recipient,
			Action:            string(r.Action),
			Status:            r.Status,
			ReplyCode:         r.ReplyCode,
			Disposition:       string(r.Disposition),
			Reason:            string(r.Reason),
			RemoteMTA:         r.RemoteMTA,
			ReportMessageID:   r.ReportMessageID,
			AutoReply:         string(r.AutoReply),
			AwayUntil:         dateString(r.AwayUntil),
			OriginalRecipient: r.OriginalRecipient,
			SuggestedAddress:  r.SuggestedAddress,
		})
	}
	return out
}

// goldenMessages returns the paths of the golden input messages.
func goldenMessages(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.eml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden messages in %s (%v)", goldenDir, err)
	}
	return files
}

// TestGolden parses every message in testdata/golden and compares the
// reports field by field with NAME.golden.json. Run with -update to rewrite
// the expected files; check each rewritten file against its message.
func TestGolden(t *testing.T) {
	for _, path := range goldenMessages(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n, crlf := bytes.Count(raw, []byte("\n")), bytes.Count(raw, []byte("\r\n")); n != crlf {
				t.Fatalf("%s: %d of %d lines do not end in CRLF", path, n-crlf, n)
			}
			rs, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse(%s) error: %v", name, err)
			}
			got := toGolden(rs)
			wantPath := filepath.Join(goldenDir, name+".golden.json")
			if *update {
				b, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(wantPath, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var want []goldenReport
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("%s: %v", wantPath, err)
			}
			compareGolden(t, name, got, want)
		})
	}
}

func compareGolden(t *testing.T, name string, got, want []goldenReport) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("Parse(%s) returned %d reports, want %d:\n got  %+v\n want %+v", name, len(got), len(want), got, want)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		fields := []struct {
			name      string
			got, want string
		}{
			{"kind", g.Kind, w.Kind},
			{"original_message_id", g.OriginalMessageID, w.OriginalMessageID},
			{"envelope_id", g.EnvelopeID, w.EnvelopeID},
			{"recipient", g.Recipient, w.Recipient},
			{"action", g.Action, w.Action},
			{"status", g.Status, w.Status},
			{"reply_code", g.ReplyCode, w.ReplyCode},
			{"disposition", g.Disposition, w.Disposition},
			{"reason", g.Reason, w.Reason},
			{"remote_mta", g.RemoteMTA, w.RemoteMTA},
			{"report_message_id", g.ReportMessageID, w.ReportMessageID},
			{"auto_reply", g.AutoReply, w.AutoReply},
			{"away_until", g.AwayUntil, w.AwayUntil},
			{"original_recipient", g.OriginalRecipient, w.OriginalRecipient},
			{"suggested_address", g.SuggestedAddress, w.SuggestedAddress},
		}
		for _, f := range fields {
			if f.got != f.want {
				t.Errorf("Parse(%s) report %d %s = %q, want %q", name, i, f.name, f.got, f.want)
			}
		}
	}
}
