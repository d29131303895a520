package mailwatch

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

func TestFindSent(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	noReceipt := func(id, to, subject string) string {
		return "From: alice@test.example\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0900\r\nMessage-ID: <" + id + ">\r\n\r\nbody\r\n"
	}
	mailstack.Append(t, c, "Sent Items", noReceipt("q1@test.example", "bob@test.example", "Quarterly report draft"))
	mailstack.Append(t, c, "Sent Items", noReceipt("q2@test.example", "carol@test.example", "Quarterly report final"))
	mailstack.Append(t, c, "Sent Items", noReceipt("j1@test.example", "bob@test.example", "=?ISO-2022-JP?B?GyRCOCtAUT1xJE43bxsoQg==?="))
	mailstack.Append(t, c, "Sent Items", noReceipt("self@test.example", "alice@test.example", "Quarterly note to self"))

	w, err := New([]Account{account(s, "alice")}, Options{Sink: newMemSink(), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name, query string
		limit       int
		want        []string
	}{
		{"by message-id", "<q1@test.example>", 5, []string{"q1@test.example"}},
		{"bare message-id", "q2@test.example", 5, []string{"q2@test.example"}},
		{"all words, newest first, own copies skipped", "quarterly report", 5, []string{"q2@test.example", "q1@test.example"}},
		{"limit", "quarterly report", 1, []string{"q2@test.example"}},
		{"japanese subject", "見積書", 5, []string{"j1@test.example"}},
		{"no match", "invoice", 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := w.FindSent(ctx, "Alice@test.example", tc.query, tc.limit)
			if err != nil {
				t.Fatalf("FindSent(%q) error: %v", tc.query, err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.MessageID)
				if len(m.Recipients) == 0 || m.Sender != "alice@test.example" {
					t.Errorf("mail %s = %+v, want recipients and sender", m.MessageID, m)
				}
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) || (len(got) > 1 && got[1] != tc.want[1]) {
				t.Errorf("FindSent(%q) = %v, want %v", tc.query, got, tc.want)
			}
		})
	}
	if ms, _ := w.FindSent(ctx, "alice@test.example", "見積書", 5); len(ms) == 1 && ms[0].Subject != "見積書の件" {
		t.Errorf("subject = %q, want it decoded", ms[0].Subject)
	}
	if _, err := w.FindSent(ctx, "mallory@test.example", "quarterly", 5); !errors.Is(err, ErrNoAccount) {
		t.Errorf("FindSent for another sender = %v, want ErrNoAccount", err)
	}
}
