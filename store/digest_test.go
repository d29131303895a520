package store

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

func TestDigest(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	day := 24 * time.Hour
	for i, sender := range []string{"bob@example.com", "alice@example.com", "alice@example.com", "alice@example.com", "carol@example.com", "carol@example.com"} {
		register(t, s, newMail(t, id(i), sender, t0.Add(time.Duration(i)*day), "x@example.net", "y@example.net"), t0)
	}
	// id(2) answered by both, id(4) closed, id(5) snoozed, id(3) half answered.
	apply(t, s, t0,
		mdn(id(2), "x@example.net", report.DispositionDisplayed, "a", t0),
		mdn(id(2), "y@example.net", report.DispositionDenied, "b", t0),
		dsn(id(3), "y@example.net", report.ActionFailed, "c", t0),
		dsn(id(3), "x@example.net", report.ActionDelivered, "d", t0))
	if _, err := s.CloseMail(ctx, id(4), track.StateDone, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snooze(ctx, id(5), t0.Add(30*day), t0); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(6 * day)
	summary := func(ds []SenderDigest) []string {
		var out []string
		for _, d := range ds {
			for _, m := range d.Mails {
				out = append(out, d.Sender+" "+m.MessageID+" "+m.SentAt.Format(time.DateOnly)+" "+strings.Join(m.Waiting, ","))
			}
		}
		return out
	}
	tests := []struct {
		name string
		q    DigestQuery
		want []string
	}{
		{"all", DigestQuery{}, []string{
			"alice@example.com " + id(1) + " 2025-06-03 x@example.net,y@example.net",
			"alice@example.com " + id(3) + " 2025-06-05 x@example.net",
			"bob@example.com " + id(0) + " 2025-06-02 x@example.net,y@example.net",
		}},
		{"older than three days", DigestQuery{OlderThan: 3*day + time.Hour}, []string{
			"alice@example.com " + id(1) + " 2025-06-03 x@example.net,y@example.net",
			"bob@example.com " + id(0) + " 2025-06-02 x@example.net,y@example.net",
		}},
		{"within five days", DigestQuery{Within: 5 * day}, []string{
			"alice@example.com " + id(1) + " 2025-06-03 x@example.net,y@example.net",
			"alice@example.com " + id(3) + " 2025-06-05 x@example.net",
		}},
		{"limit", DigestQuery{Limit: 1}, []string{
			"bob@example.com " + id(0) + " 2025-06-02 x@example.net,y@example.net",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Digest(ctx, now, tt.q)
			if err != nil || !slices.Equal(summary(got), tt.want) {
				t.Errorf("Digest(%+v) = %q, %v\nwant %q", tt.q, summary(got), err, tt.want)
			}
		})
	}
	all, _ := s.Digest(ctx, now, DigestQuery{})
	if w := all[0].Mails[1].Waiting; !slices.Equal(w, []string{"x@example.net"}) {
		t.Errorf("id(3) waiting for %v, want only x (y failed, which answers)", w)
	}
	mustCheck(t, s)
}

func TestAwaitingEncoding(t *testing.T) {
	tests := []struct {
		name    string
		sender  string
		subject string
		waiting []string
	}{
		{"plain", "a@example.com", "Quote", []string{"b@example.net"}},
		{"empty subject, two waiting", "a@example.com", "", []string{"b@example.net", "c@example.net"}},
		{"odd bytes", "a@example.com", "見積\x00\xff" + strings.Repeat("x", 300), []string{"b@example.net"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAwaiting(encodeAwaiting(tt.sender, tt.subject, tt.waiting))
			want := append([]string{tt.sender, tt.subject}, tt.waiting...)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("decodeAwaiting(encodeAwaiting(...)) = %q, %v; want %q", got, err, want)
			}
		})
	}
	for _, bad := range [][]byte{{0x05, 'a'}, {0x80}, encodeAwaiting("a", "b", nil)} {
		if _, err := decodeAwaiting(bad); err == nil {
			t.Errorf("decodeAwaiting(%q) succeeded, want an error", bad)
		}
	}
}
