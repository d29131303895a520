package track

import (
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

func TestOwnedBy(t *testing.T) {
	m := Mail{MessageID: "m@example.com", Sender: "bob@example.com"}
	tests := []struct {
		name   string
		sender string
		want   bool
	}{
		{"the sender", "bob@example.com", true},
		{"case and brackets do not matter", "Bob <BOB@Example.com>", true},
		{"another sender", "alice@example.com", false},
		{"same local part elsewhere", "bob@example.org", false},
		{"nobody", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := OwnedBy(m, tc.sender); got != tc.want {
				t.Errorf("OwnedBy(bob's mail, %q) = %v, want %v", tc.sender, got, tc.want)
			}
		})
	}
	if OwnedBy(Mail{}, "") {
		t.Error("OwnedBy(mail without sender, \"\") = true, want false")
	}
}

func TestReportScopeCovers(t *testing.T) {
	alice := ReportScope{Account: "alice", Senders: []string{"alice@example.co.jp"}}
	shared := ReportScope{Account: "receipts", Senders: []string{"receipts@example.co.jp", "@Example.co.jp", "partner@other.example"}}
	tests := []struct {
		name   string
		scope  ReportScope
		sender string
		want   bool
	}{
		{"own mailbox", alice, "alice@example.co.jp", true},
		{"own mailbox, other case", alice, "Alice@Example.CO.JP", true},
		{"another sender's mail in alice's inbox", alice, "bob@example.co.jp", false},
		{"shared mailbox, its domain", shared, "bob@example.co.jp", true},
		{"shared mailbox, listed address", shared, "partner@other.example", true},
		{"shared mailbox, another address of that domain", shared, "someone@other.example", false},
		{"a domain does not cover its subdomains", shared, "bob@tokyo.example.co.jp", false},
		{"a domain is not a suffix match", shared, "bob@badexample.co.jp", false},
		{"empty scope covers nobody", ReportScope{}, "alice@example.co.jp", false},
		{"a bare @ covers nobody", ReportScope{Senders: []string{"@"}}, "alice@example.co.jp", false},
		{"no sender", shared, "", false},
		{"sender without domain", shared, "bob@", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.scope.Covers(tc.sender); got != tc.want {
				t.Errorf("%v.Covers(%q) = %v, want %v", tc.scope.Senders, tc.sender, got, tc.want)
			}
		})
	}
}

func TestReportScopeUnion(t *testing.T) {
	a := ReportScope{Account: "alice", Senders: []string{"alice@example.com"}}
	b := ReportScope{Account: "receipts", Senders: []string{"ALICE@example.com", "@example.org"}}
	u := a.Union(b)
	if u.Account != "alice" || len(u.Senders) != 2 || !u.Covers("alice@example.com") || !u.Covers("x@example.org") {
		t.Errorf("Union = %+v, want alice's scope plus @example.org", u)
	}
	if len(a.Senders) != 1 {
		t.Errorf("Union changed its receiver: %v", a.Senders)
	}
}

// Orphans read from a mailbox are adopted only by mail that mailbox may
// report on; evidence from no mailbox by any mail.
func TestAdoptOrphansRespectsScope(t *testing.T) {
	m := newMail(t, receipts, bob) // sent by alice@example.com
	receipt := report.Report{Kind: report.KindMDN, Disposition: report.DispositionDisplayed, Recipient: bob,
		OriginalMessageID: "orig-1@example.com", ReportMessageID: "mdn@mua", Date: t0.Add(time.Hour)}
	tests := []struct {
		name  string
		scope *ReportScope
		want  bool
	}{
		{"from the sender's own mailbox", &ReportScope{Account: "alice", Senders: []string{"alice@example.com"}}, true},
		{"from a shared mailbox for the domain", &ReportScope{Account: "shared", Senders: []string{"@example.com"}}, true},
		{"from another person's mailbox", &ReportScope{Account: "mallory", Senders: []string{"mallory@example.com"}}, false},
		{"from a mailbox with no senders", &ReportScope{Account: "x"}, false},
		{"from no mailbox", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := OrphanFrom(receipt, t0.Add(time.Hour))
			o.Scope = tc.scope
			res, adopted := AdoptOrphans(m, []Orphan{o}, t0.Add(2*time.Hour), 0)
			got := len(adopted) == 1 && res.Changed && recipient(t, res.Mail, bob).Status == StatusRead
			if got != tc.want {
				t.Errorf("AdoptOrphans(scope %v) adopted %v changed %v, want adopted and read: %v", tc.scope, adopted, res.Changed, tc.want)
			}
			if !tc.want && (len(adopted) != 0 || res.Changed) {
				t.Errorf("an orphan out of scope changed the mail or was consumed: %v", adopted)
			}
		})
	}
}
