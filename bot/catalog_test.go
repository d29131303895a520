package bot

import (
	"regexp"
	"slices"
	"testing"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

var verbIndex = regexp.MustCompile(`%\[(\d)\]`)

// Both catalogues say every sentence, with the same arguments.
func TestCatalogsComplete(t *testing.T) {
	for k, en := range catalogs[English] {
		ja, ok := catalogs[Japanese][k]
		if !ok {
			t.Errorf("Japanese lacks %q", k)
			continue
		}
		if a, b := args(en), args(ja); !slices.Equal(a, b) {
			t.Errorf("%q: English uses arguments %v, Japanese %v", k, a, b)
		}
	}
	for k := range catalogs[Japanese] {
		if _, ok := catalogs[English][k]; !ok {
			t.Errorf("English lacks %q", k)
		}
	}
}

func args(s string) []string {
	var out []string
	for _, m := range verbIndex.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

func TestStatusWordsComplete(t *testing.T) {
	all := []track.Status{track.StatusPending, track.StatusDelayed, track.StatusRelayed, track.StatusFailed,
		track.StatusDelivered, track.StatusOpenedMachine, track.StatusOpened, track.StatusDeletedUnread,
		track.StatusRead, track.StatusDeclined, track.StatusAcknowledged, track.StatusNoResponse,
		track.StatusReplied, track.StatusAway, track.StatusAutoAck}
	for _, lang := range []Lang{English, Japanese} {
		for _, s := range all {
			if statusWords[lang][s] == "" {
				t.Errorf("%s: no words for status %s", lang, s)
			}
			if statusIcons[s] == "" {
				t.Errorf("no icon for status %s", s)
			}
		}
	}
}

// Every bounce reason the classifier gives has plain words and advice in
// both languages.
func TestReasonCatalogueComplete(t *testing.T) {
	all := []report.Reason{report.ReasonUndefined, report.ReasonAuthFailure, report.ReasonBadReputation,
		report.ReasonBlocked, report.ReasonContentError, report.ReasonExceedLimit, report.ReasonExpired,
		report.ReasonFailedSTARTTLS, report.ReasonFiltered, report.ReasonHasMoved, report.ReasonHostUnknown,
		report.ReasonMailboxFull, report.ReasonMailerError, report.ReasonMesgTooBig, report.ReasonNetworkError,
		report.ReasonNoRelaying, report.ReasonNotAccept, report.ReasonNotCompliantRFC, report.ReasonPolicyViolation,
		report.ReasonRejected, report.ReasonRequirePTR, report.ReasonSecurityError, report.ReasonSpamDetected,
		report.ReasonSpeeding, report.ReasonSuspend, report.ReasonSyntaxError, report.ReasonSystemError,
		report.ReasonSystemFull, report.ReasonTooManyConn, report.ReasonUserUnknown, report.ReasonVacation,
		report.ReasonVirusDetected}
	for _, lang := range []Lang{English, Japanese} {
		for _, r := range all {
			a, ok := reasonAdvice[lang][r]
			if !ok || a.Plain == "" || a.Do == "" {
				t.Errorf("%s: reason %q has no words or advice", lang, r)
			}
		}
	}
}

func TestReasonAdviceSamples(t *testing.T) {
	en, ja := locale{lang: English}, locale{lang: Japanese}
	tests := []struct {
		reason   report.Reason
		l        locale
		plain    string
		adviceIn string
	}{
		{report.ReasonMailboxFull, en, "mailbox full", "call them"},
		{report.ReasonUserUnknown, en, "no such address", "Check the address"},
		{report.ReasonHostUnknown, en, "no such domain", "Check the domain"},
		{report.ReasonSpamDetected, en, "rejected as spam", "another way"},
		{report.ReasonPolicyViolation, en, "refused by their policy", "another way"},
		{report.ReasonExpired, en, "their server could not be reached", "try again later"},
		{report.ReasonMesgTooBig, en, "message too big", "link"},
		{report.ReasonSuspend, en, "mailbox disabled", "another way"},
		{report.ReasonMailboxFull, ja, "メールボックスが満杯", "電話"},
		{report.ReasonUserUnknown, ja, "宛先アドレスが存在しない", "アドレス"},
		{"unheard-of", en, "reason not given", "Check the address"},
	}
	for _, tc := range tests {
		a := tc.l.reason(tc.reason)
		if a.Plain != tc.plain || !contains(a.Do, tc.adviceIn) {
			t.Errorf("%s reason(%q) = %+v, want %q with advice mentioning %q", tc.l.lang, tc.reason, a, tc.plain, tc.adviceIn)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || regexp.MustCompile(regexp.QuoteMeta(sub)).MatchString(s)
}
