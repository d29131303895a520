package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	code, out, _ := runCmd(t, "--help")
	if code != 0 || !strings.Contains(out, "scan") {
		t.Errorf("mailack --help = %d, %q; want 0 and the command list", code, out)
	}
	code, _, errOut := runCmd(t, "scan", "--help")
	if code != 0 || !strings.Contains(errOut, "--json") || !strings.Contains(errOut, "Maildir") {
		t.Errorf("mailack scan --help = %d, %q; want 0 and the scan options", code, errOut)
	}
	code, _, errOut = runCmd(t, "version", "--help")
	if code != 0 || !strings.HasPrefix(errOut, "Usage: mailack version\n") || strings.Contains(errOut, "Options:") {
		t.Errorf("mailack version --help = %d, %q; want 0, the usage line and no empty option list", code, errOut)
	}
	code, _, errOut = runCmd(t, "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("mailack frobnicate = %d, %q; want 2 and an unknown command error", code, errOut)
	}
	code, _, errOut = runCmd(t, "scan")
	if code != 2 || !strings.Contains(errOut, "no PATH") {
		t.Errorf("mailack scan = %d, %q; want 2 and a usage error", code, errOut)
	}
}

const sampleDSN = "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n" +
	"To: alice@example.com\r\n" +
	"Subject: Undelivered Mail Returned to Sender\r\n" +
	"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\n" +
	"Message-Id: <bounce-1@mx.example.net>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
	"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry.\r\n" +
	"--B\r\nContent-Type: message/delivery-status\r\n\r\n" +
	"Reporting-MTA: dns; mx.example.net\r\nOriginal-Envelope-Id: env-42\r\n\r\n" +
	"Final-Recipient: rfc822; Bob@Example.org\r\nOriginal-Recipient: rfc822; robert@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
	"Remote-MTA: dns; mx.example.org\r\nDiagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: User unknown\r\n\r\n" +
	"Final-Recipient: rfc822; carol@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n" +
	"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
	"Message-ID: <orig-1@example.com>\r\nFrom: alice@example.com\r\nTo: bob@example.org, carol@example.org\r\n" +
	"--B--\r\n"

func TestScanJSON(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "bounce.eml"), []byte(sampleDSN), 0o644))
	must(os.WriteFile(filepath.Join(dir, "plain.eml"), []byte("From: a@example.com\r\nSubject: hello\r\n\r\nhi\r\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "empty.eml"), nil, 0o644))
	// A text bounce that gives no status code: its wording stands for 5.1.1.
	must(os.WriteFile(filepath.Join(dir, "qmail.eml"), []byte("From: MAILER-DAEMON@mx.example.net\r\nTo: alice@example.com\r\nSubject: failure notice\r\n\r\n"+
		"Hi. This is the qmail-send program at mx.example.net.\r\nI'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"+
		"<dan@example.org>:\r\nSorry, no mailbox here by that name.\r\n"), 0o644))
	// A bounce that suggests another address (RFC 5321 section 3.4).
	must(os.WriteFile(filepath.Join(dir, "relocated.eml"), []byte("From: MAILER-DAEMON@mx.example.net\r\nTo: alice@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n"+
		"I'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n"+
		"<erin@example.org>: host mx.example.org[192.0.2.7] said: 551 5.1.6 User not local;\r\n    please try <erin@example.net> (in reply to RCPT TO command)\r\n"), 0o644))

	code, out, errOut := runCmd(t, "scan", "--json", dir)
	if code != 0 {
		t.Fatalf("scan --json = %d, stderr %q", code, errOut)
	}
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 6 {
		t.Fatalf("scan printed %d records, want 6 (2 recipients, 1 error, 1 none, 2 text bounces):\n%s", len(recs), out)
	}
	for _, k := range []string{"file", "kind", "original_message_id", "envelope_id", "recipient", "action", "status", "reply_code", "disposition", "reason", "diagnostic", "remote_mta", "report_message_id", "date"} {
		if _, ok := recs[1][k]; !ok {
			t.Errorf("record lacks field %q: %v", k, recs[1])
		}
	}
	want := []map[string]string{
		{"file": "bounce.eml", "kind": "dsn", "recipient": "bob@example.org", "action": "failed", "status": "5.1.1", "reply_code": "550",
			"original_message_id": "orig-1@example.com", "envelope_id": "env-42", "report_message_id": "bounce-1@mx.example.net", "date": "2026-11-24T01:00:00Z", "remote_mta": "mx.example.org",
			"original_recipient": "robert@example.org"},
		{"file": "bounce.eml", "kind": "dsn", "recipient": "carol@example.org", "action": "delivered", "status": "2.0.0"},
		{"file": "empty.eml", "kind": "error"},
		{"file": "plain.eml", "kind": "none"},
		{"file": "qmail.eml", "kind": "dsn", "recipient": "dan@example.org", "action": "failed", "status": "5.1.1", "reason": "userunknown"},
		{"file": "relocated.eml", "kind": "dsn", "recipient": "erin@example.org", "action": "failed", "status": "5.1.6", "reason": "hasmoved",
			"suggested_address": "erin@example.net"},
	}
	for i, w := range want {
		for k, v := range w {
			got, _ := recs[i][k].(string)
			if k == "file" {
				got = filepath.Base(got)
			}
			if got != v {
				t.Errorf("record %d: %s = %q, want %q", i, k, got, v)
			}
		}
	}
	if _, ok := recs[0]["suggested_address"]; ok {
		t.Errorf("record of a bounce that suggests nothing has suggested_address: %v", recs[0])
	}
	if _, ok := recs[1]["original_recipient"]; ok {
		t.Errorf("record without an Original-Recipient has original_recipient: %v", recs[1])
	}
	if e, _ := recs[2]["error"].(string); e == "" {
		t.Errorf("error record has no error text: %v", recs[2])
	}
}

func TestScanTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bounce.eml")
	if err := os.WriteFile(path, []byte(sampleDSN), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "scan", path)
	if code != 0 {
		t.Fatalf("scan = %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "FILE") {
		t.Fatalf("table = %q, want a header and two rows", out)
	}
	if f := strings.Fields(lines[1]); len(f) < 7 || f[2] != "bob@example.org" || f[3] != "failed" || f[4] != "5.1.1" || f[6] != "orig-1@example.com" {
		t.Errorf("row = %q, want bob failed 5.1.1 with the original Message-ID", lines[1])
	}
}

func TestScanMissingPath(t *testing.T) {
	code, out, _ := runCmd(t, "scan", "--json", filepath.Join(t.TempDir(), "missing"))
	if code != 0 || !strings.Contains(out, `"kind":"error"`) {
		t.Errorf("scan of a missing path = %d, %q; want 0 and an error record", code, out)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("store:\n  path: x.db\naccounts:\n  - name: a\n    host: h\n    username: a@example.com\n    password: ${P}\n"), 0o644)
	os.WriteFile(bad, []byte("log:\n  level: loud\naccounts:\n  - name: a\n    password: hunter2\n"), 0o644)
	code, out, _ := runCmdEnv(t, map[string]string{"P": "pw"}, "check-config", good)
	if code != 0 || !strings.Contains(out, "ok (1 account(s)") {
		t.Errorf("check-config good = %d, %q", code, out)
	}
	code, _, errOut := runCmd(t, "check-config", bad)
	for _, want := range []string{"bad.yaml:2: log.level", "bad.yaml:5: accounts[0]: password: a literal secret is not accepted", "accounts[0].host"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("check-config bad = %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
}
