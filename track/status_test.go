package track

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

const bob = "bob@example.org"

func TestApplyOrders(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name    string
		req     Requested
		events  []Evidence
		want    Status
		notices []Status
	}{
		{"delivered then delayed", receipts,
			[]Evidence{dsn(report.ActionDelivered, bob, at(1)), dsn(report.ActionDelayed, bob, at(2))},
			StatusDelivered, []Status{StatusDelivered}},
		{"delayed then delivered", receipts,
			[]Evidence{dsn(report.ActionDelayed, bob, at(1)), dsn(report.ActionDelivered, bob, at(2))},
			StatusDelivered, []Status{StatusDelayed, StatusDelivered}},
		{"relayed then delivered", receipts,
			[]Evidence{dsn(report.ActionRelayed, bob, at(1)), dsn(report.ActionDelivered, bob, at(2))},
			StatusDelivered, []Status{StatusRelayed, StatusDelivered}},
		{"delivered then relayed", receipts,
			[]Evidence{dsn(report.ActionDelivered, bob, at(1)), dsn(report.ActionRelayed, bob, at(2))},
			StatusDelivered, []Status{StatusDelivered}},
		{"expanded is relayed", receipts,
			[]Evidence{dsn(report.ActionExpanded, bob, at(1))},
			StatusRelayed, []Status{StatusRelayed}},
		{"relayed then failed downstream", receipts,
			[]Evidence{dsn(report.ActionRelayed, bob, at(1)), dsn(report.ActionFailed, bob, at(2))},
			StatusFailed, []Status{StatusRelayed, StatusFailed}},
		{"delayed then failed", receipts,
			[]Evidence{dsn(report.ActionDelayed, bob, at(1)), dsn(report.ActionFailed, bob, at(2))},
			StatusFailed, []Status{StatusDelayed, StatusFailed}},
		{"failed then delayed", receipts,
			[]Evidence{dsn(report.ActionFailed, bob, at(1)), dsn(report.ActionDelayed, bob, at(2))},
			StatusFailed, []Status{StatusFailed}},
		{"delivered then late failure", receipts,
			[]Evidence{dsn(report.ActionDelivered, bob, at(1)), dsn(report.ActionFailed, bob, at(2))},
			StatusDelivered, []Status{StatusDelivered}},
		{"failed then delivered by retry", receipts,
			[]Evidence{dsn(report.ActionFailed, bob, at(1)), dsn(report.ActionDelivered, bob, at(2))},
			StatusDelivered, []Status{StatusFailed, StatusDelivered}},
		{"failed then read", receipts,
			[]Evidence{dsn(report.ActionFailed, bob, at(1)), mdn(report.DispositionDisplayed, bob, at(2))},
			StatusRead, []Status{StatusFailed, StatusRead}},
		{"read then failed", receipts,
			[]Evidence{mdn(report.DispositionDisplayed, bob, at(1)), dsn(report.ActionFailed, bob, at(2))},
			StatusRead, []Status{StatusRead}},
		{"deleted then displayed", receipts,
			[]Evidence{mdn(report.DispositionDeleted, bob, at(1)), mdn(report.DispositionDisplayed, bob, at(2))},
			StatusRead, []Status{StatusDeletedUnread, StatusRead}},
		{"displayed then deleted", receipts,
			[]Evidence{mdn(report.DispositionDisplayed, bob, at(1)), mdn(report.DispositionDeleted, bob, at(2))},
			StatusRead, []Status{StatusRead}},
		{"denied", receipts,
			[]Evidence{mdn(report.DispositionDenied, bob, at(1))},
			StatusDeclined, []Status{StatusDeclined}},
		{"read then denied", receipts,
			[]Evidence{mdn(report.DispositionDisplayed, bob, at(1)), mdn(report.DispositionDenied, bob, at(2))},
			StatusDeclined, []Status{StatusRead, StatusDeclined}},
		{"processed proves delivery", receipts,
			[]Evidence{mdn(report.DispositionProcessed, bob, at(1))},
			StatusDelivered, []Status{StatusDelivered}},
		{"pixel by machine", Requested{Pixel: true},
			[]Evidence{pixel("h1", bob, at(1), true)},
			StatusOpenedMachine, []Status{StatusOpenedMachine}},
		{"pixel by machine then person", Requested{Pixel: true},
			[]Evidence{pixel("h1", bob, at(1), true), pixel("h2", bob, at(2), false)},
			StatusOpened, []Status{StatusOpenedMachine, StatusOpened}},
		{"pixel by person then machine", Requested{Pixel: true},
			[]Evidence{pixel("h1", bob, at(1), false), pixel("h2", bob, at(2), true)},
			StatusOpened, []Status{StatusOpened}},
		{"pixel then read", Requested{Pixel: true, ReadReceipt: true},
			[]Evidence{pixel("h1", bob, at(1), false), mdn(report.DispositionDisplayed, bob, at(2))},
			StatusRead, []Status{StatusOpened, StatusRead}},
		{"pixel then deleted", Requested{Pixel: true, ReadReceipt: true},
			[]Evidence{pixel("h1", bob, at(1), false), mdn(report.DispositionDeleted, bob, at(2))},
			StatusDeletedUnread, []Status{StatusOpened, StatusDeletedUnread}},
		{"read then chat acknowledgement", receipts,
			[]Evidence{mdn(report.DispositionDisplayed, bob, at(1)), ChatEvidence("orig-1@example.com", bob, "a1", at(2))},
			StatusAcknowledged, []Status{StatusRead, StatusAcknowledged}},
		{"chat acknowledgement then read", receipts,
			[]Evidence{ChatEvidence("orig-1@example.com", bob, "a1", at(1)), mdn(report.DispositionDisplayed, bob, at(2))},
			StatusAcknowledged, []Status{StatusAcknowledged}},
		{"duplicate report twice", receipts,
			[]Evidence{mdn(report.DispositionDisplayed, bob, at(1)), mdn(report.DispositionDisplayed, bob, at(1))},
			StatusRead, []Status{StatusRead}},
		{"duplicate pixel hit twice", Requested{Pixel: true},
			[]Evidence{pixel("h1", bob, at(1), false), pixel("h1", bob, at(1), false)},
			StatusOpened, []Status{StatusOpened}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMail(t, tt.req, bob, "carol@example.org")
			var notices []Notice
			for _, ev := range tt.events {
				res, err := Apply(m, ev, ev.At)
				if err != nil {
					t.Fatalf("Apply(%s) error = %v", ev.Signal, err)
				}
				m = res.Mail
				notices = append(notices, res.Notices...)
			}
			if got := recipient(t, m, bob).Status; got != tt.want {
				t.Errorf("Apply(...) status = %v, want %v", got, tt.want)
			}
			if got := noticeTos(notices); !slices.Equal(got, tt.notices) {
				t.Errorf("Apply(...) notices = %v, want %v", got, tt.notices)
			}
			if got := recipient(t, m, "carol@example.org").Status; got != StatusPending {
				t.Errorf("Apply(...) other recipient = %v, want %v", got, StatusPending)
			}
		})
	}
}

// TestApplyOrderIndependent checks that every order of the same evidence
// ends at the same status.
func TestApplyOrderIndependent(t *testing.T) {
	evs := []Evidence{
		dsn(report.ActionDelayed, bob, t0),
		dsn(report.ActionRelayed, bob, t0),
		dsn(report.ActionFailed, bob, t0),
		dsn(report.ActionDelivered, bob, t0),
		pixel("m", bob, t0, true),
		mdn(report.DispositionDeleted, bob, t0),
	}
	var want Status
	for i, perm := range permutations(len(evs)) {
		m := newMail(t, receipts, bob)
		for _, j := range perm {
			res, err := Apply(m, evs[j], t0)
			if err != nil {
				t.Fatalf("Apply(%s) error = %v", evs[j].Signal, err)
			}
			m = res.Mail
		}
		got := recipient(t, m, bob).Status
		if i == 0 {
			want = got
		}
		if got != want || got != StatusDeletedUnread {
			t.Fatalf("Apply(order %v) = %v, want %v", perm, got, StatusDeletedUnread)
		}
	}
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

func TestApplyIdempotent(t *testing.T) {
	m := newMail(t, receipts, bob)
	ev := dsn(report.ActionFailed, bob, t0)
	first, err := Apply(m, ev, t0)
	if err != nil || !first.Changed || len(first.Notices) != 1 {
		t.Fatalf("Apply(first) = %+v, %v, want one notice", first, err)
	}
	second, err := Apply(first.Mail, ev, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Apply(second) error = %v", err)
	}
	if second.Changed || len(second.Notices) != 0 {
		t.Errorf("Apply(second) = changed %v, %d notices, want unchanged and none", second.Changed, len(second.Notices))
	}
	if !second.Mail.UpdatedAt.Equal(first.Mail.UpdatedAt) {
		t.Errorf("Apply(second) UpdatedAt = %v, want %v", second.Mail.UpdatedAt, first.Mail.UpdatedAt)
	}
}

func TestApplyLeavesInputAlone(t *testing.T) {
	m := newMail(t, receipts, bob)
	if _, err := Apply(m, mdn(report.DispositionDisplayed, bob, t0), t0); err != nil {
		t.Fatalf("Apply() error = %v", err)
	}
	if r := recipient(t, m, bob); r.Status != StatusPending || len(r.Notified) != 0 {
		t.Errorf("Apply() changed its input: %+v", r)
	}
}

func TestApplyNotice(t *testing.T) {
	m := newMail(t, receipts, bob)
	ev := dsn(report.ActionFailed, bob, t0.Add(time.Hour))
	ev.Reason = report.ReasonUserUnknown
	res, err := Apply(m, ev, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("Apply() error = %v", err)
	}
	want := Notice{
		Key:        "orig-1@example.com bob@example.org failed",
		Kind:       NoticeBounced,
		MessageID:  "orig-1@example.com",
		Sender:     "alice@example.com",
		Recipient:  bob,
		From:       StatusPending,
		To:         StatusFailed,
		Reason:     report.ReasonUserUnknown,
		Detail:     "smtp; 550 5.1.1 user unknown",
		Confidence: ConfidenceExact,
		At:         t0.Add(time.Hour),
	}
	if len(res.Notices) != 1 || res.Notices[0] != want {
		t.Errorf("Apply() notices = %+v, want %+v", res.Notices, want)
	}
	if got := res.Mail.UpdatedAt; !got.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("Apply() UpdatedAt = %v, want %v", got, t0.Add(2*time.Hour))
	}
}

func TestApplyNoticeKinds(t *testing.T) {
	tests := []struct {
		ev   Evidence
		want NoticeKind
	}{
		{dsn(report.ActionFailed, bob, t0), NoticeBounced},
		{dsn(report.ActionDelayed, bob, t0), NoticeDelayed},
		{dsn(report.ActionDelivered, bob, t0), NoticeStatus},
		{mdn(report.DispositionDisplayed, bob, t0), NoticeRead},
		{mdn(report.DispositionDeleted, bob, t0), NoticeStatus},
		{pixel("h", bob, t0, false), NoticeRead},
		{pixel("h", bob, t0, true), NoticeStatus},
		{ChatEvidence("orig-1@example.com", bob, "a", t0), NoticeRead},
	}
	for _, tt := range tests {
		t.Run(string(tt.ev.Signal), func(t *testing.T) {
			res, err := Apply(newMail(t, receipts, bob), tt.ev, t0)
			if err != nil || len(res.Notices) != 1 {
				t.Fatalf("Apply(%s) = %+v, %v, want one notice", tt.ev.Signal, res.Notices, err)
			}
			if got := res.Notices[0].Kind; got != tt.want {
				t.Errorf("Apply(%s) kind = %v, want %v", tt.ev.Signal, got, tt.want)
			}
		})
	}
}

func TestApplyIgnoresSender(t *testing.T) {
	tests := []struct {
		name string
		to   []string
	}{
		{"sender not a recipient", []string{bob}},
		{"sender copied", []string{bob, "alice@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMail(t, Requested{Pixel: true}, tt.to...)
			res, err := Apply(m, pixel("own", "ALICE@example.com", t0, false), t0)
			if err != nil {
				t.Fatalf("Apply(sender's open) error = %v", err)
			}
			if res.Changed || len(res.Notices) != 0 {
				t.Errorf("Apply(sender's open) = changed %v, notices %v, want nothing", res.Changed, res.Notices)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	m := newMail(t, receipts, bob, "carol@example.org")
	other := mdn(report.DispositionDisplayed, bob, t0)
	other.MessageID = "other@example.com"
	noResp := mdn(report.DispositionDisplayed, bob, t0)
	noResp.Signal = StatusNoResponse
	unknownAction := EvidenceFrom(report.Report{Kind: report.KindDSN, Action: "bogus", Recipient: bob},
		Match{Mail: m, Recipient: bob}, t0)
	tests := []struct {
		name string
		ev   Evidence
		want error
	}{
		{"another mail", other, ErrWrongMail},
		{"no-response signal", noResp, ErrInvalidEvidence},
		{"unknown action", unknownAction, ErrInvalidEvidence},
		{"stranger on multi-recipient mail", mdn(report.DispositionDisplayed, "dave@example.org", t0), ErrUnknownRecipient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Apply(m, tt.ev, t0)
			if !errors.Is(err, tt.want) {
				t.Errorf("Apply(%s) error = %v, want %v", tt.name, err, tt.want)
			}
			if res.Changed || res.Mail.MessageID != m.MessageID {
				t.Errorf("Apply(%s) = %+v, want the mail unchanged", tt.name, res)
			}
		})
	}
}

func TestApplyAliasSingleRecipient(t *testing.T) {
	m := newMail(t, Requested{Pixel: true}, bob)
	res, err := Apply(m, pixel("h", "robert@example.org", t0, false), t0)
	if err != nil {
		t.Fatalf("Apply(alias) error = %v", err)
	}
	if got := recipient(t, res.Mail, bob).Status; got != StatusOpened {
		t.Errorf("Apply(alias) = %v, want %v", got, StatusOpened)
	}
}

func TestApplyClosedMail(t *testing.T) {
	m := newMail(t, receipts, bob)
	m, err := Close(m, StateDone, t0)
	if err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	res, err := Apply(m, mdn(report.DispositionDisplayed, bob, t0), t0)
	if err != nil {
		t.Fatalf("Apply() error = %v", err)
	}
	if !res.Changed || len(res.Notices) != 0 {
		t.Errorf("Apply(closed) = changed %v, %d notices, want changed and none", res.Changed, len(res.Notices))
	}
	if r := recipient(t, res.Mail, bob); r.Status != StatusRead || len(r.Notified) != 0 {
		t.Errorf("Apply(closed) recipient = %v notified %v, want %v and none", r.Status, r.Notified, StatusRead)
	}
}

func TestApplyConfidenceUpgrade(t *testing.T) {
	m := newMail(t, receipts, bob)
	low := mdn(report.DispositionDisplayed, bob, t0)
	low.Confidence = ConfidenceLow
	first, err := Apply(m, low, t0)
	if err != nil {
		t.Fatalf("Apply(low) error = %v", err)
	}
	if got := first.Notices; len(got) != 1 || got[0].Confidence != ConfidenceLow {
		t.Fatalf("Apply(low) notices = %+v, want one of low confidence", got)
	}
	exact := mdn(report.DispositionDisplayed, bob, t0)
	exact.ID = "mdn-other"
	second, err := Apply(first.Mail, exact, t0)
	if err != nil {
		t.Fatalf("Apply(exact) error = %v", err)
	}
	if !second.Changed || len(second.Notices) != 0 {
		t.Errorf("Apply(exact) = changed %v, %d notices, want changed and none", second.Changed, len(second.Notices))
	}
	if got := recipient(t, second.Mail, bob).Confidence; got != ConfidenceExact {
		t.Errorf("Apply(exact) confidence = %v, want %v", got, ConfidenceExact)
	}
	third, _ := Apply(second.Mail, low, t0)
	if third.Changed {
		t.Errorf("Apply(low after exact) changed = true, want false")
	}
}

func TestNoResponseOverlay(t *testing.T) {
	m := newMail(t, receipts, bob)
	m, ns := Sweep(m, m.DueAt)
	if len(ns) != 1 {
		t.Fatalf("Sweep() notices = %v, want one", ns)
	}
	steps := []struct {
		name       string
		ev         Evidence
		wantStatus Status
		wantBest   Status
		notices    []Status
	}{
		{"late delivery keeps overlay", dsn(report.ActionDelivered, bob, t0.Add(30*time.Hour)), StatusNoResponse, StatusDelivered, nil},
		{"late delay changes nothing", dsn(report.ActionDelayed, bob, t0.Add(31*time.Hour)), StatusNoResponse, StatusDelivered, nil},
		{"read lifts overlay", mdn(report.DispositionDisplayed, bob, t0.Add(32*time.Hour)), StatusRead, StatusRead, []Status{StatusRead}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res, err := Apply(m, s.ev, s.ev.At)
			if err != nil {
				t.Fatalf("Apply() error = %v", err)
			}
			m = res.Mail
			r := recipient(t, m, bob)
			if r.Status != s.wantStatus || r.Best != s.wantBest {
				t.Errorf("Apply(%s) = %v (best %v), want %v (best %v)", s.ev.Signal, r.Status, r.Best, s.wantStatus, s.wantBest)
			}
			if got := noticeTos(res.Notices); !slices.Equal(got, s.notices) {
				t.Errorf("Apply(%s) notices = %v, want %v", s.ev.Signal, got, s.notices)
			}
		})
	}
}

func TestRankOrder(t *testing.T) {
	order := []Status{
		StatusPending, StatusDelayed, StatusRelayed, StatusFailed, StatusDelivered, StatusOpenedMachine,
		StatusOpened, StatusDeletedUnread, StatusRead, StatusDeclined, StatusAcknowledged,
	}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Errorf("Rank(%s) = %d, want below Rank(%s) = %d", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	for _, s := range []Status{StatusNoResponse, "", "bogus"} {
		if got := s.Rank(); got != -1 {
			t.Errorf("Rank(%q) = %d, want -1", s, got)
		}
	}
}

func TestEvidenceID(t *testing.T) {
	base := report.Report{
		Kind:            report.KindDSN,
		ReportMessageID: "r1@mx.example.net",
		Recipient:       bob,
		Action:          report.ActionFailed,
	}
	same := base
	same.ReportMessageID = "<r1@MX.example.net>"
	same.Recipient = "Bob@Example.org"
	otherRcpt := base
	otherRcpt.Recipient = "carol@example.org"
	otherAction := base
	otherAction.Action = report.ActionDelayed
	noID := base
	noID.ReportMessageID = ""
	noID.Diagnostic = "550 no such user"
	noIDOther := noID
	noIDOther.Diagnostic = "552 mailbox full"

	if EvidenceID(base) != EvidenceID(same) {
		t.Errorf("EvidenceID(%+v) != EvidenceID(%+v), want equal", base, same)
	}
	for _, r := range []report.Report{otherRcpt, otherAction, noID} {
		if EvidenceID(r) == EvidenceID(base) {
			t.Errorf("EvidenceID(%+v) = EvidenceID(base), want different", r)
		}
	}
	if EvidenceID(noID) == EvidenceID(noIDOther) {
		t.Errorf("EvidenceID of two different reports without a Message-ID are equal")
	}
	// An equal report built separately has the same ID: the ID is derived
	// from the content only.
	noIDAgain := base
	noIDAgain.ReportMessageID = ""
	noIDAgain.Diagnostic = "550 " + "no such user"
	if EvidenceID(noID) != EvidenceID(noIDAgain) {
		t.Errorf("EvidenceID(%+v) is not deterministic", noID)
	}
	hit, hitAgain := "h1", string([]byte("h1"))
	if PixelEvidenceID(hit) == PixelEvidenceID("h2") || PixelEvidenceID(hit) != PixelEvidenceID(hitAgain) {
		t.Errorf("PixelEvidenceID does not identify hits")
	}
}

func TestEvidenceFrom(t *testing.T) {
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	r := report.Report{
		Kind:              report.KindDSN,
		OriginalMessageID: "orig-1@example.com",
		Recipient:         "bob+news@example.org",
		Action:            report.ActionDelayed,
		Status:            "4.2.2",
		Diagnostic:        "smtp;  452 4.2.2\n   mailbox full",
		Reason:            report.ReasonMailboxFull,
		RemoteMTA:         "mx.example.org",
		LastAttempt:       at,
		Date:              at.Add(time.Minute),
	}
	mt := Match{Mail: Mail{MessageID: "orig-1@example.com"}, Recipient: bob, Via: ViaMessageID, Confidence: ConfidenceExact}
	got := EvidenceFrom(r, mt, at.Add(time.Hour))
	want := Evidence{
		ID: EvidenceID(r), MessageID: "orig-1@example.com", Recipient: bob,
		Source: SourceDSN, Signal: StatusDelayed, At: at, Seen: at.Add(time.Hour),
		Action: report.ActionDelayed, StatusCode: "4.2.2", Reason: report.ReasonMailboxFull,
		Diagnostic: r.Diagnostic, RemoteMTA: "mx.example.org", Reported: "bob+news@example.org",
		Confidence: ConfidenceExact, Via: ViaMessageID,
	}
	if got != want {
		t.Errorf("EvidenceFrom() = %+v, want %+v", got, want)
	}
	if d := got.detail(); d != "smtp; 452 4.2.2 mailbox full" {
		t.Errorf("detail() = %q, want %q", d, "smtp; 452 4.2.2 mailbox full")
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc"},
		{"開封済み", 4, "開"},
		{"開封済み", 2, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// TestApplyAnnouncedBefore replays evidence into a recipient whose notices
// were already issued, as when the store rebuilds statuses from its log.
func TestApplyAnnouncedBefore(t *testing.T) {
	m := newMail(t, receipts, bob)
	m.Recipients[0].Notified = []Status{StatusDelivered}
	res, err := Apply(m, dsn(report.ActionDelivered, bob, t0), t0)
	if err != nil {
		t.Fatalf("Apply() error = %v", err)
	}
	if !res.Changed || len(res.Notices) != 0 {
		t.Errorf("Apply(announced before) = changed %v, notices %v, want changed and none", res.Changed, res.Notices)
	}
}
