package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// openTest opens a fresh store in t.TempDir and closes it when t ends.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "mailack.db"), opts)
}

func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	return openWith(t, openBackend, path, opts)
}

// openFileAt opens the bbolt file at path, in the run on etcd too.
func openFileAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	return openWith(t, Open, path, opts)
}

func openWith(t testing.TB, open func(string, Options) (*Store, error), path string, opts Options) *Store {
	t.Helper()
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	s, err := open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s
}

// newMail prepares a mail as the tracker would, with a 24 h deadline.
func newMail(t testing.TB, id, sender string, sent time.Time, rcpts ...string) track.Mail {
	t.Helper()
	m := track.Mail{
		MessageID: id,
		Sender:    sender,
		Subject:   "Quote for " + id,
		SentAt:    sent,
		Requested: track.Requested{ReadReceipt: true, DSN: true},
	}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, track.Recipient{Address: r})
	}
	m, err := track.Register(m, 24*time.Hour, nil, sent)
	if err != nil {
		t.Fatalf("track.Register(%s) = %v", id, err)
	}
	return m
}

func register(t testing.TB, s *Store, m track.Mail, now time.Time) RegisterResult {
	t.Helper()
	res, err := s.RegisterMail(t.Context(), RegisterInput{Mail: m, Now: now})
	if err != nil {
		t.Fatalf("RegisterMail(%s) = %v", m.MessageID, err)
	}
	return res
}

func dsn(mid, rcpt string, action report.Action, reportID string, at time.Time) report.Report {
	return report.Report{
		Kind:              report.KindDSN,
		OriginalMessageID: mid,
		Recipient:         rcpt,
		Action:            action,
		Status:            map[report.Action]string{report.ActionFailed: "5.1.1"}[action],
		ReportMessageID:   reportID,
		Date:              at,
	}
}

func mdn(mid, rcpt string, d report.Disposition, reportID string, at time.Time) report.Report {
	return report.Report{
		Kind:              report.KindMDN,
		OriginalMessageID: mid,
		Recipient:         rcpt,
		Disposition:       d,
		ReportMessageID:   reportID,
		Date:              at,
		UserAgent:         "Mail/1.0",
	}
}

func apply(t testing.TB, s *Store, now time.Time, rs ...report.Report) ApplyResult {
	t.Helper()
	res, err := s.ApplyReport(t.Context(), ApplyInput{Reports: rs, Now: now})
	if err != nil {
		t.Fatalf("ApplyReport(%d reports) = %v", len(rs), err)
	}
	return res
}

func mustCheck(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check() = %v", err)
	}
}

func mustMail(t testing.TB, s *Store, id string) track.Mail {
	t.Helper()
	m, err := s.Mail(t.Context(), id)
	if err != nil {
		t.Fatalf("Mail(%s) = %v", id, err)
	}
	return m
}

func recipient(t testing.TB, m track.Mail, addr string) track.Recipient {
	t.Helper()
	for _, r := range m.Recipients {
		if r.Address == addr {
			return r
		}
	}
	t.Fatalf("mail %s has no recipient %s", m.MessageID, addr)
	return track.Recipient{}
}

func pending(t testing.TB, s *Store) []OutboxItem {
	t.Helper()
	items, err := s.Pending(t.Context(), t0.Add(100*365*24*time.Hour), 0)
	if err != nil {
		t.Fatalf("Pending() = %v", err)
	}
	return items
}

func outcomes(r ApplyResult) []Outcome {
	var out []Outcome
	for _, it := range r.Items {
		out = append(out, it.Outcome)
	}
	return out
}

func noticeKeys(items []OutboxItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Notice.Key)
	}
	return out
}

func countKeys(t testing.TB, s *Store, bucket []byte) int {
	t.Helper()
	n := 0
	err := s.view(t.Context(), func(tx kvTx) error {
		return tx.Bucket(bucket).ForEach(func(_, _ []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatalf("count %s: %v", bucket, err)
	}
	return n
}

// countEvidence counts the evidence in the mails bucket.
func countEvidence(t testing.TB, s *Store) int {
	t.Helper()
	n := 0
	err := s.view(t.Context(), func(tx kvTx) error {
		return tx.Bucket(bucketMails).ForEach(func(k, _ []byte) error {
			if !isMailKey(k) {
				n++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("count evidence: %v", err)
	}
	return n
}

// countMails counts the mails.
func countMails(t testing.TB, s *Store) int {
	t.Helper()
	n := 0
	err := s.view(t.Context(), func(tx kvTx) error {
		return forEachMail(tx, func(_, _ []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatalf("count mails: %v", err)
	}
	return n
}

func id(i int) string { return fmt.Sprintf("m%04d@example.com", i) }
