package track

import (
	"errors"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

// fakeLookup is an in-memory Lookup that records its calls and fails on
// demand.
type fakeLookup struct {
	mails []Mail
	err   error
	calls []string
}

func (f *fakeLookup) MailByMessageID(id string) (Mail, bool, error) {
	f.calls = append(f.calls, "message-id "+id)
	if f.err != nil {
		return Mail{}, false, f.err
	}
	for _, m := range f.mails {
		if m.MessageID == id {
			return m, true, nil
		}
	}
	return Mail{}, false, nil
}

func (f *fakeLookup) MailByEnvelopeID(id string) (Mail, bool, error) {
	f.calls = append(f.calls, "envelope-id "+id)
	if f.err != nil {
		return Mail{}, false, f.err
	}
	for _, m := range f.mails {
		if m.EnvelopeID != "" && m.EnvelopeID == id {
			return m, true, nil
		}
	}
	return Mail{}, false, nil
}

// MailsBySubject returns every mail to recipient's base address in the
// window, a superset as the interface allows.
func (f *fakeLookup) MailsBySubject(recipient, subject string, from, to time.Time) ([]Mail, error) {
	f.calls = append(f.calls, "subject "+recipient+" "+subject)
	if f.err != nil {
		return nil, f.err
	}
	var out []Mail
	for _, m := range f.mails {
		for _, r := range m.Recipients {
			if BaseAddress(r.Address) == recipient && !m.SentAt.Before(from) && !m.SentAt.After(to) {
				out = append(out, m)
				break
			}
		}
	}
	return out, nil
}

// tracked registers a mail with the given Message-ID, envelope ID, subject,
// send time and recipients.
func tracked(t *testing.T, id, envid, subject string, sent time.Time, to ...string) Mail {
	t.Helper()
	m := Mail{MessageID: id, EnvelopeID: envid, Sender: "alice@example.com", Subject: subject, SentAt: sent}
	for _, a := range to {
		m.Recipients = append(m.Recipients, Recipient{Address: a})
	}
	m, err := Register(m, 24*time.Hour, nil, sent)
	if err != nil {
		t.Fatalf("Register(%s) error = %v", id, err)
	}
	return m
}

func TestCorrelate(t *testing.T) {
	sent := t0
	later := t0.Add(2 * time.Hour)
	lookup := &fakeLookup{mails: []Mail{
		tracked(t, "a1@example.com", "", "Quote for March", sent, bob, "carol@example.org"),
		tracked(t, "a2@example.com", "ENV-42", "Invoice", sent, "dave@example.net"),
		tracked(t, "a3@example.com", "", "Weekly report", sent, "erin+work@example.net"),
		tracked(t, "a4@example.com", "", "Lunch?", sent, "frank@example.com"),
		tracked(t, "a5@example.com", "", "Lunch?", sent.Add(time.Minute), "frank@example.com"),
		tracked(t, "a6@example.com", "", "Old news", sent.Add(-10*24*time.Hour), "gina@example.com"),
		tracked(t, "a7@example.com", "", "Minutes", sent, "henry@example.com"),
	}}
	tests := []struct {
		name    string
		r       report.Report
		wantID  string
		wantRcp string
		wantVia Via
		wantErr error
	}{
		{"message-id", report.Report{OriginalMessageID: "<a1@EXAMPLE.com>", Recipient: bob},
			"a1@example.com", bob, ViaMessageID, nil},
		{"message-id with case in address", report.Report{OriginalMessageID: "a1@example.com", Recipient: "Carol@Example.ORG"},
			"a1@example.com", "carol@example.org", ViaMessageID, nil},
		{"original recipient", report.Report{OriginalMessageID: "a1@example.com", Recipient: "c.smith@mail.example.org", OriginalRecipient: "rfc822;carol@example.org"},
			"a1@example.com", "carol@example.org", ViaMessageID, nil},
		{"plus address reported", report.Report{OriginalMessageID: "a1@example.com", Recipient: "bob+inbox@example.org"},
			"a1@example.com", bob, ViaMessageID, nil},
		{"plus address tracked", report.Report{OriginalMessageID: "a3@example.com", Recipient: "erin@example.net"},
			"a3@example.com", "erin+work@example.net", ViaMessageID, nil},
		{"alias on single recipient", report.Report{OriginalMessageID: "a2@example.com", Recipient: "d.jones@example.net"},
			"a2@example.com", "dave@example.net", ViaMessageID, nil},
		{"stranger on multi-recipient mail", report.Report{OriginalMessageID: "a1@example.com", Recipient: "zed@example.org"},
			"a1@example.com", "", ViaMessageID, ErrUnknownRecipient},
		{"envelope id", report.Report{OriginalMessageID: "unknown@relay", EnvelopeID: "ENV-42", Recipient: "dave@example.net"},
			"a2@example.com", "dave@example.net", ViaEnvelopeID, nil},
		{"in-reply-to", report.Report{InReplyTo: "<a7@example.com>", Recipient: "henry@example.com"},
			"a7@example.com", "henry@example.com", ViaThread, nil},
		{"last references entry", report.Report{References: []string{"a1@example.com", "a7@example.com"}, Recipient: "henry@example.com"},
			"a7@example.com", "henry@example.com", ViaThread, nil},
		{"subject", report.Report{Subject: "Read: RE: Quote for March", Recipient: bob, Date: later},
			"a1@example.com", bob, ViaSubject, nil},
		{"subject in Japanese", report.Report{Subject: "開封済み: Weekly report", Recipient: "erin+work@example.net", Date: later},
			"a3@example.com", "erin+work@example.net", ViaSubject, nil},
		{"subject with plus-address base", report.Report{Subject: "Gelesen: Weekly report", Recipient: "erin@example.net", Date: later},
			"a3@example.com", "erin+work@example.net", ViaSubject, nil},
		{"subject ambiguous", report.Report{Subject: "Read: Lunch?", Recipient: "frank@example.com", Date: later},
			"", "", "", nil},
		{"subject outside window", report.Report{Subject: "Read: Old news", Recipient: "gina@example.com", Date: later},
			"", "", "", nil},
		{"subject of another recipient", report.Report{Subject: "Read: Invoice", Recipient: "zed@example.net", Date: later},
			"", "", "", nil},
		{"unknown message-id is no subject guess", report.Report{OriginalMessageID: "zz@example.com", Subject: "Read: Quote for March", Recipient: bob, Date: later},
			"", "", "", nil},
		{"nothing to go on", report.Report{Recipient: bob}, "", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Correlate(tt.r, lookup, later, 72*time.Hour)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Correlate(%+v) error = %v, want %v", tt.r, err, tt.wantErr)
			}
			if got.Mail.MessageID != tt.wantID || got.Recipient != tt.wantRcp || got.Via != tt.wantVia {
				t.Errorf("Correlate(%+v) = %s %s via %s, want %s %s via %s",
					tt.r, got.Mail.MessageID, got.Recipient, got.Via, tt.wantID, tt.wantRcp, tt.wantVia)
			}
			wantConf := ConfidenceExact
			switch tt.wantVia {
			case ViaSubject:
				wantConf = ConfidenceLow
			case "":
				wantConf = ""
			}
			if got.Confidence != wantConf {
				t.Errorf("Correlate(%+v) confidence = %v, want %v", tt.r, got.Confidence, wantConf)
			}
			if got.Found() != (tt.wantID != "") {
				t.Errorf("Correlate(%+v).Found() = %v, want %v", tt.r, got.Found(), tt.wantID != "")
			}
		})
	}
}

func TestCorrelateOrder(t *testing.T) {
	// The report's Message-ID and envelope ID name different mails; the
	// Message-ID wins, and nothing further is looked up.
	lookup := &fakeLookup{mails: []Mail{
		tracked(t, "a1@example.com", "", "One", t0, bob),
		tracked(t, "a2@example.com", "ENV-2", "Two", t0, bob),
	}}
	r := report.Report{OriginalMessageID: "a1@example.com", EnvelopeID: "ENV-2", InReplyTo: "a2@example.com", Recipient: bob}
	got, err := Correlate(r, lookup, t0, time.Hour)
	if err != nil || got.Mail.MessageID != "a1@example.com" {
		t.Fatalf("Correlate() = %s, %v, want a1@example.com", got.Mail.MessageID, err)
	}
	if len(lookup.calls) != 1 {
		t.Errorf("Correlate() made lookups %q, want only the Message-ID", lookup.calls)
	}
}

func TestCorrelateLookupError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name string
		r    report.Report
	}{
		{"message-id", report.Report{OriginalMessageID: "a@b", Recipient: bob}},
		{"envelope id", report.Report{EnvelopeID: "E", Recipient: bob}},
		{"thread", report.Report{InReplyTo: "a@b", Recipient: bob}},
		{"subject", report.Report{Subject: "Read: x", Recipient: bob}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Correlate(tt.r, &fakeLookup{err: errDisk}, t0, time.Hour)
			if !errors.Is(err, errDisk) {
				t.Errorf("Correlate(%+v) error = %v, want %v", tt.r, err, errDisk)
			}
		})
	}
}

func TestMatchRecipient(t *testing.T) {
	multi := tracked(t, "m@x", "", "s", t0, bob, "carol+team@example.org", "Dan@Example.net")
	single := tracked(t, "s@x", "", "s", t0, bob)
	selfCopied := tracked(t, "c@x", "", "s", t0, bob, "alice@example.com")
	twoTags := tracked(t, "t@x", "", "s", t0, "pat+a@example.org", "pat+b@example.org")
	tests := []struct {
		name           string
		m              Mail
		addr, original string
		want           string
		ok             bool
	}{
		{"exact", multi, bob, "", bob, true},
		{"case", multi, "DAN@example.NET", "", "dan@example.net", true},
		{"bracketed", multi, "Bob <Bob@Example.org>", "", bob, true},
		{"plus reported", multi, "bob+x@example.org", "", bob, true},
		{"plus tracked", multi, "carol@example.org", "", "carol+team@example.org", true},
		{"other tag", multi, "carol+other@example.org", "", "carol+team@example.org", true},
		{"original recipient", multi, "c.king@mail.example.org", "carol+team@example.org", "carol+team@example.org", true},
		{"stranger on multi", multi, "eve@example.org", "", "", false},
		{"empty on multi", multi, "", "", "", false},
		{"alias on single", single, "robert@example.org", "", bob, true},
		{"empty on single", single, "", "", bob, true},
		{"alias on single plus sender", selfCopied, "robert@example.org", "", bob, true},
		{"sender", single, "alice@example.com", "", "alice@example.com", true},
		{"ambiguous tags", twoTags, "pat@example.org", "", "", false},
		{"exact tag", twoTags, "pat+b@example.org", "", "pat+b@example.org", true},
		{"domain differs", multi, "bob@example.com", "", "", false},
		{"garbage", multi, "<<>>;;@", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MatchRecipient(tt.m, tt.addr, tt.original)
			if got != tt.want || ok != tt.ok {
				t.Errorf("MatchRecipient(%q, %q) = %q, %v, want %q, %v", tt.addr, tt.original, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNormalizeMessageID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<abc@Example.COM>", "abc@example.com"},
		{"  abc@example.com  ", "abc@example.com"},
		{"<ABC.def@example.com>", "ABC.def@example.com"},
		{"<abc@exa\r\n mple.com>", "abc@example.com"},
		{"mailto:abc@example.com", "abc@example.com"},
		{"<mid:abc@example.com>", "abc@example.com"},
		{"<abc@example.com> (added by postmaster)", "abc@example.com"},
		{"abc@example.com>;", "abc@example.com"},
		{"abc@example.com.", "abc@example.com"},
		{`"abc@example.com",`, "abc@example.com"},
		{"<abc@example.com", "abc@example.com"},
		{"", ""},
		{"<>", ""},
		{"no-at-sign", "no-at-sign"},
	}
	for _, tt := range tests {
		if got := NormalizeMessageID(tt.in); got != tt.want {
			t.Errorf("NormalizeMessageID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Bob@Example.ORG", bob},
		{"rfc822; bob@example.org", bob},
		{"RFC822;<bob@example.org>", bob},
		{"Bob Smith <bob@example.org>", bob},
		{`"Smith, Bob" <bob@example.org>`, bob},
		{"mailto:bob@example.org", bob},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeAddress(tt.in); got != tt.want {
			t.Errorf("NormalizeAddress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Quote for March", "quote for march"},
		{"Read: Quote for March", "quote for march"},
		{"Not read: Quote for March", "quote for march"},
		{"Read: RE: Fwd: Quote  for\tMarch", "quote for march"},
		{"Delivered: Quote", "quote"},
		{"Undeliverable: Quote", "quote"},
		{"Relayed: Quote", "quote"},
		{"開封済み: 見積書", "見積書"},
		{"未開封: 見積書", "見積書"},
		{"開封済み： 見積書", "見積書"},
		{"配信不能: 見積書", "見積書"},
		{"Gelesen: Angebot", "angebot"},
		{"Ungelesen: Angebot", "angebot"},
		{"Unzustellbar: Angebot", "angebot"},
		{"Lu : Devis", "devis"},
		{"Non lu : Devis", "devis"},
		{"Leído: Presupuesto", "presupuesto"},
		{"Returned mail: Quote", "quote"},
		{"AW: WG: Angebot", "angebot"},
		{"[EXTERNAL] Read: Quote", "quote"},
		{"Return Receipt (displayed) - Quote for March", "quote for march"},
		{"Reading list", "reading list"},
		{"Read", "read"},
		{"Re:", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeSubject(tt.in); got != tt.want {
			t.Errorf("NormalizeSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
