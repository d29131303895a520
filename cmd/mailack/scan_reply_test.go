package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanReplies runs `mailack scan --json` over replies and automatic
// replies as clients write them and checks the fields the README documents
// for them.
func TestScanReplies(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"reply-outlook-ja", "autoreply-exchange-ja", "autoreply-helpdesk", "reply-neg-new-thread"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "track", "report", "testdata", "golden", name+".eml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".eml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCmd(t, "scan", "--json", dir)
	if code != 0 {
		t.Fatalf("scan --json = %d, stderr %q", code, errOut)
	}
	got := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		got[strings.TrimSuffix(filepath.Base(m["file"].(string)), ".eml")] = m
	}
	want := map[string]map[string]string{
		"reply-outlook-ja": {"kind": "reply", "recipient": "suzuki@partner.example.co.jp",
			"original_message_id": "TYAPR01MB5863A1B2C3D4E5F6A7B8C9D0E1F2@TYAPR01MB5863.jpnprd01.prod.outlook.com", "auto_reply": "", "away_until": ""},
		"autoreply-exchange-ja": {"kind": "autoreply", "recipient": "suzuki@partner.example.co.jp", "auto_reply": "away", "away_until": "2026-12-07"},
		"autoreply-helpdesk":    {"kind": "autoreply", "recipient": "support@vendor.example", "auto_reply": "acknowledgement", "away_until": ""},
		"reply-neg-new-thread":  {"kind": "none"},
	}
	for name, fields := range want {
		rec, ok := got[name]
		if !ok {
			t.Errorf("scan printed no record for %s:\n%s", name, out)
			continue
		}
		for k, v := range fields {
			g, present := rec[k]
			if !present {
				t.Errorf("%s: record lacks field %q", name, k)
				continue
			}
			if s, _ := g.(string); s != v {
				t.Errorf("%s: %s = %q, want %q", name, k, s, v)
			}
		}
	}
}
