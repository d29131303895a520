package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func TestReportScopes(t *testing.T) {
	scopes := reportScopes([]config.Account{
		{Name: "alice", Owner: "Alice@Example.co.jp"},
		{Name: "receipts", Owner: "receipts@example.co.jp", ReportsFor: []string{"@Example.co.jp", "partner@other.example"}},
	})
	tests := []struct {
		account, sender string
		want            bool
	}{
		{"alice", "alice@example.co.jp", true},
		{"alice", "bob@example.co.jp", false},
		{"receipts", "bob@example.co.jp", true},
		{"receipts", "partner@other.example", true},
		{"receipts", "someone@other.example", false},
	}
	for _, tc := range tests {
		if got := scopes[tc.account].Covers(tc.sender); got != tc.want {
			t.Errorf("scope of %s covers %s = %v, want %v", tc.account, tc.sender, got, tc.want)
		}
	}
	sink := &storeSink{scopes: scopes}
	if sc := sink.scope("unknown"); sc.Covers("alice@example.co.jp") {
		t.Error("an account without a scope may report on alice's mail")
	}
}

// The sink refuses a report from a mailbox that may not report on the
// mail's sender (counted, logged at warn, checkpoint advanced) and a
// Sent-folder registration of a Message-ID another sender tracks (no
// error, so the watcher moves on; counted; checkpoint advanced).
func TestSinkRefusesOtherSendersMail(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reg := &registrar{st: st, defaultAfter: 48 * time.Hour, now: func() time.Time { return now }, metrics: newMetrics(), log: log}
	sink := &storeSink{registrar: reg, log: log, scopes: reportScopes([]config.Account{
		{Name: "alice", Owner: "alice@example.com"}, {Name: "bob", Owner: "bob@example.com"}})}
	mail := func(sender string) *track.Mail {
		return &track.Mail{MessageID: "b1@example.com", Sender: sender, SentAt: now, State: track.StateOpen,
			Recipients: []track.Recipient{{Address: "carol@example.org", Status: track.StatusPending, Best: track.StatusPending}}}
	}
	cp := func(account, folder string, uid uint32) mailwatch.Checkpoint {
		return mailwatch.Checkpoint{Account: account, Folder: folder, UIDValidity: 1, LastUID: uid}
	}
	if err := sink.Apply(ctx, mailwatch.Item{Checkpoint: cp("bob", "Sent", 1), UID: 1, Sent: mail("bob@example.com")}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Apply(ctx, mailwatch.Item{Checkpoint: cp("alice", "Sent", 4), UID: 4, Sent: mail("alice@example.com")}); err != nil {
		t.Fatalf("sink.Apply(alice's copy of bob's mail) = %v, want nil (refused, moved on)", err)
	}
	if n := metricValue(t, reg.metrics, "mailack_registrations_refused_total", ""); n != 1 {
		t.Errorf("refused registrations = %v, want 1", n)
	}
	receipt := report.Report{Kind: report.KindMDN, Disposition: report.DispositionDisplayed, Recipient: "carol@example.org",
		OriginalMessageID: "b1@example.com", ReportMessageID: "r1@example.org", Date: now}
	if err := sink.Apply(ctx, mailwatch.Item{Checkpoint: cp("alice", "INBOX", 9), UID: 9, Reports: []report.Report{receipt}}); err != nil {
		t.Fatal(err)
	}
	if n := metricValue(t, reg.metrics, "mailack_report_outcomes_total", string(store.OutcomeUnauthorized)); n != 1 {
		t.Errorf("unauthorized reports = %v, want 1", n)
	}
	for _, c := range []struct {
		folder string
		uid    uint32
	}{{"Sent", 4}, {"INBOX", 9}} {
		if got, err := st.Checkpoint(ctx, "alice", c.folder); err != nil || got.UID != c.uid {
			t.Errorf("alice's %s checkpoint = %+v, %v; want UID %d", c.folder, got, err, c.uid)
		}
	}
	m, err := st.Mail(ctx, "b1@example.com")
	if err != nil || m.Sender != "bob@example.com" || m.Recipients[0].Status != track.StatusPending {
		t.Errorf("bob's mail = %+v, %v; want his, carol pending", m, err)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN msg=\"registration refused: message-id tracked for another sender\"",
		"level=WARN msg=\"report refused: its mailbox may not report on that sender's mail\" account=alice folder=INBOX uid=9"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if _, err := reg.register(ctx, *mail("alice@example.com"), nil); !errors.Is(err, track.ErrOtherSender) {
		t.Errorf("register(alice's copy) = %v, want ErrOtherSender", err)
	}
	if err := reg.RegisterMail(ctx, *mail("alice@example.com")); err != nil {
		t.Errorf("relay registration of bob's Message-ID = %v, want nil (refused and logged)", err)
	}
}

// metricValue returns the value of the counter name (with the label
// value, if any) in m's registry, or -1.
func metricValue(t *testing.T, m *metrics, name, label string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, x := range mf.GetMetric() {
			if label == "" || len(x.GetLabel()) > 0 && x.GetLabel()[0].GetValue() == label {
				return x.GetCounter().GetValue()
			}
		}
	}
	return -1
}
