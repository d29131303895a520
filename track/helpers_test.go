package track

import (
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

var (
	tokyo   = mustZone("Asia/Tokyo")
	newYork = mustZone("America/New_York")
	t0      = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC) // a Monday
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // the test binary cannot run without its zones
	}
	return loc
}

// newMail registers a mail from alice to the given addresses with a 24-hour
// wall-clock deadline.
func newMail(t *testing.T, req Requested, to ...string) Mail {
	t.Helper()
	m := Mail{
		MessageID: "<orig-1@Example.COM>",
		Sender:    "Alice@example.com",
		Subject:   "Quote for March",
		SentAt:    t0,
		Requested: req,
	}
	for _, a := range to {
		m.Recipients = append(m.Recipients, Recipient{Address: a})
	}
	m, err := Register(m, 24*time.Hour, nil, t0)
	if err != nil {
		t.Fatalf("Register() error = %v", err)
	}
	return m
}

var receipts = Requested{ReadReceipt: true, DSN: true}

// dsn is the evidence of a DSN with action a about recipient rcpt of the
// mail orig-1@example.com, issued at.
func dsn(a report.Action, rcpt string, at time.Time) Evidence {
	r := report.Report{
		Kind:              report.KindDSN,
		OriginalMessageID: "orig-1@example.com",
		Recipient:         rcpt,
		Action:            a,
		Status:            "5.1.1",
		Diagnostic:        "smtp; 550 5.1.1 user unknown",
		ReportMessageID:   "dsn-" + string(a) + "@mx.example.net",
		Date:              at,
	}
	return EvidenceFrom(r, Match{Mail: Mail{MessageID: "orig-1@example.com"}, Recipient: rcpt, Via: ViaMessageID, Confidence: ConfidenceExact}, at)
}

// mdn is the evidence of an MDN with disposition d.
func mdn(d report.Disposition, rcpt string, at time.Time) Evidence {
	r := report.Report{
		Kind:              report.KindMDN,
		OriginalMessageID: "orig-1@example.com",
		Recipient:         rcpt,
		Disposition:       d,
		UserAgent:         "Outlook",
		ReportMessageID:   "mdn-" + string(d) + "@example.org",
		Date:              at,
	}
	return EvidenceFrom(r, Match{Mail: Mail{MessageID: "orig-1@example.com"}, Recipient: rcpt, Via: ViaMessageID, Confidence: ConfidenceExact}, at)
}

func pixel(hit, rcpt string, at time.Time, machine bool) Evidence {
	return PixelEvidence(hit, "orig-1@example.com", rcpt, at, machine)
}

func recipient(t *testing.T, m Mail, addr string) Recipient {
	t.Helper()
	for _, r := range m.Recipients {
		if r.Address == addr {
			return r
		}
	}
	t.Fatalf("mail %s has no recipient %s", m.MessageID, addr)
	return Recipient{}
}

func noticeTos(ns []Notice) []Status {
	var out []Status
	for _, n := range ns {
		out = append(out, n.To)
	}
	return out
}
