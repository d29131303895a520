package report

import "testing"

func TestImpliedStatus(t *testing.T) {
	tests := []struct {
		r    Report
		want string
	}{
		{Report{Kind: KindDSN, Status: "5.7.1", Reason: ReasonUserUnknown}, "5.7.1"},
		{Report{Kind: KindDSN, Action: ActionFailed, Reason: ReasonUserUnknown}, "5.1.1"},
		{Report{Kind: KindDSN, Action: ActionFailed, ReplyCode: "452", Reason: ReasonMailboxFull}, "4.2.2"},
		{Report{Kind: KindDSN, Action: ActionDelayed, Reason: ReasonMailboxFull}, "4.2.2"},
		{Report{Kind: KindDSN, Action: ActionFailed, Reason: ReasonExpired}, "4.4.7"},
		{Report{Kind: KindDSN, Action: ActionFailed, ReplyCode: "550", Reason: ReasonFiltered}, "5.0.0"},
		{Report{Kind: KindDSN, Action: ActionFailed, Reason: ReasonFiltered}, ""},
		{Report{Kind: KindDSN, Action: ActionFailed}, ""},
		{Report{Kind: KindMDN, Disposition: DispositionDisplayed}, ""},
	}
	for _, tt := range tests {
		if got := tt.r.ImpliedStatus(); got != tt.want {
			t.Errorf("ImpliedStatus(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}
