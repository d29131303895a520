package mailwatch

import (
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
)

func TestSentMail(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	const owner = "tanaka@example.co.jp"
	base := "From: =?ISO-2022-JP?B?GyRCRURDZhsoQg==?= <Tanaka@example.co.jp>\r\n" +
		"To: Suzuki <suzuki@partner.example.com>, sato@example.co.jp\r\n" +
		"Cc: Tanaka@example.co.jp\r\n" +
		"Bcc: boss@example.co.jp\r\n" +
		"Subject: =?ISO-2022-JP?B?GyRCOCtAUT1xJE43bxsoQg==?=\r\n" +
		"Date: Tue, 24 Nov 2026 17:30:00 +0900\r\n" +
		"Message-ID: <ABC123@example.co.jp>\r\n"
	tests := []struct {
		name     string
		raw      string
		policy   TrackPolicy
		tracked  bool
		wantRR   bool
		wantPix  bool
		wantErr  bool
		wantRcpt []string
	}{
		{name: "read receipt requested", raw: base + "Disposition-Notification-To: Tanaka@example.co.jp\r\n\r\nbody", tracked: true, wantRR: true,
			wantRcpt: []string{"to:suzuki@partner.example.com", "to:sato@example.co.jp", "bcc:boss@example.co.jp"}},
		{name: "old receipt header", raw: base + "Return-Receipt-To: tanaka@example.co.jp\r\n\r\nbody", tracked: true, wantRR: true,
			wantRcpt: []string{"to:suzuki@partner.example.com", "to:sato@example.co.jp", "bcc:boss@example.co.jp"}},
		{name: "no request is not tracked", raw: base + "\r\nbody"},
		{name: "track all", raw: base + "\r\nbody", policy: TrackPolicy{All: true}, tracked: true,
			wantRcpt: []string{"to:suzuki@partner.example.com", "to:sato@example.co.jp", "bcc:boss@example.co.jp"}},
		{name: "bcc to the tracking address", raw: strings.Replace(base, "boss@", "track@", 1) + "\r\nbody", policy: TrackPolicy{TrackingAddress: "Track@example.co.jp"}, tracked: true,
			wantRcpt: []string{"to:suzuki@partner.example.com", "to:sato@example.co.jp"}},
		{name: "pixel in body", raw: base + "Content-Type: text/html\r\n\r\n<img src=\"https://t.example/o/xyz.gif\">", policy: TrackPolicy{PixelMarker: "https://t.example/o/"}, tracked: true, wantPix: true,
			wantRcpt: []string{"to:suzuki@partner.example.com", "to:sato@example.co.jp", "bcc:boss@example.co.jp"}},
		{name: "own copy only", raw: "From: tanaka@example.co.jp\r\nTo: tanaka@example.co.jp\r\nMessage-ID: <x@y>\r\nDisposition-Notification-To: tanaka@example.co.jp\r\n\r\n"},
		{name: "a report is never tracked", raw: base + "Disposition-Notification-To: a@b\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=x\r\n\r\n"},
		{name: "no message id", raw: "From: tanaka@example.co.jp\r\nTo: a@example.com\r\nDisposition-Notification-To: tanaka@example.co.jp\r\n\r\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok, err := SentMail("sales", owner, []byte(tc.raw), tc.policy, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("SentMail() error = %v, want error %v", err, tc.wantErr)
			}
			if ok != tc.tracked {
				t.Fatalf("SentMail() tracked = %v, want %v", ok, tc.tracked)
			}
			if !ok {
				return
			}
			var got []string
			for _, r := range m.Recipients {
				got = append(got, string(r.Field)+":"+r.Address)
				if r.Status != track.StatusPending {
					t.Errorf("recipient %s status %q, want pending", r.Address, r.Status)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.wantRcpt, ",") {
				t.Errorf("recipients = %v, want %v", got, tc.wantRcpt)
			}
			if m.Requested.ReadReceipt != tc.wantRR || m.Requested.Pixel != tc.wantPix {
				t.Errorf("requested = %+v, want receipt %v pixel %v", m.Requested, tc.wantRR, tc.wantPix)
			}
			if m.MessageID != "ABC123@example.co.jp" || m.Sender != "tanaka@example.co.jp" || m.SenderName != "田中" || m.Account != "sales" {
				t.Errorf("mail = %q %q %q %q", m.MessageID, m.Sender, m.SenderName, m.Account)
			}
			if m.Subject != "見積書の件" {
				t.Errorf("subject = %q, want 見積書の件", m.Subject)
			}
			if want := time.Date(2026, 11, 24, 8, 30, 0, 0, time.UTC); !m.SentAt.Equal(want) {
				t.Errorf("sent at %v, want %v", m.SentAt, want)
			}
		})
	}
}

// The sender of a mail found in a Sent folder is the mailbox's owner: a
// copy of another person's mail there (the copy Alice received, dragged to
// her Sent folder) is Alice's, so it cannot claim Bob's mail.
func TestSentMailSenderIsTheOwner(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name, from, wantName string
	}{
		{"the owner's own mail", "Alice <Alice@example.com>", "Alice"},
		{"another person's mail", "Bob <bob@example.com>", ""},
		{"no From", "", ""},
		{"an unparseable From", "<<<", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := "To: carol@example.org, alice@example.com\r\nMessage-ID: <b1@example.com>\r\nDisposition-Notification-To: bob@example.com\r\n"
			if tc.from != "" {
				raw = "From: " + tc.from + "\r\n" + raw
			}
			m, ok, err := SentMail("alice", "alice@example.com", []byte(raw+"\r\nx"), TrackPolicy{}, now)
			if err != nil || !ok {
				t.Fatalf("SentMail() = %v, %v; want tracked", ok, err)
			}
			if m.Sender != "alice@example.com" || m.SenderName != tc.wantName {
				t.Errorf("SentMail(From: %q) sender = %q %q, want alice@example.com %q", tc.from, m.Sender, m.SenderName, tc.wantName)
			}
			if len(m.Recipients) != 1 || m.Recipients[0].Address != "carol@example.org" {
				t.Errorf("recipients = %+v, want carol only (the owner is left out)", m.Recipients)
			}
		})
	}
}

// A copy of a colleague's mail (the owner of another watched mailbox) in
// the Sent folder is not tracked: their own mailbox tracks it.
func TestSentMailSkipsColleaguesMail(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	p := TrackPolicy{All: true, Colleagues: []string{"bob@example.com", "Alice@example.com"}}
	tests := []struct {
		name, from string
		tracked    bool
	}{
		{"a colleague's mail", "Bob <BOB@example.com>", false},
		{"the owner's mail, though listed among colleagues", "alice@example.com", true},
		{"someone else's mail", "carol@example.org", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := "From: " + tc.from + "\r\nTo: dave@example.org\r\nMessage-ID: <b1@example.com>\r\n\r\nx"
			m, ok, err := SentMail("alice", "alice@example.com", []byte(raw), p, now)
			if err != nil || ok != tc.tracked {
				t.Fatalf("SentMail(From: %s) = tracked %v, %v; want %v", tc.from, ok, err, tc.tracked)
			}
			if ok && m.Sender != "alice@example.com" {
				t.Errorf("sender = %q, want the owner", m.Sender)
			}
		})
	}
}

func TestWithColleagues(t *testing.T) {
	in := []Account{{Name: "a", Owner: "alice@example.com"}, {Name: "b", Username: "bob@example.com"}, {Name: "a2", Owner: "ALICE@example.com"}}
	out := withColleagues(in)
	want := map[string]string{"a": "bob@example.com", "b": "alice@example.com,ALICE@example.com", "a2": "bob@example.com"}
	for _, a := range out {
		if got := strings.Join(a.Policy.Colleagues, ","); got != want[a.Name] {
			t.Errorf("colleagues of %s = %s, want %s", a.Name, got, want[a.Name])
		}
	}
	if in[0].Policy.Colleagues != nil {
		t.Error("withColleagues changed its argument")
	}
}
