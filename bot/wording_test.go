package bot

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
	"github.com/mailack/mailack/track/report"
)

// Japanese reads as Japanese Outlook users know it: one term per thing,
// 「」 quotes, full-width parentheses, no half-width space before a
// counter.
func TestJapaneseWording(t *testing.T) {
	banned := map[string]string{
		"配送": "配信", "転送済み": "中継済み", "既読": "開封済み", "本人が開封": "開封あり",
		"返答を待って": "確認待ち", `"`: "「」", "“": "「」", "(": "（", ")": "）",
		"あなた": "（主語を省く）", "再送中": "再試行中", "既定の期限": "既定",
		// 返信 is a person's answer; an automatic one is a 自動応答.
		"自動受付": "受付の自動応答", "自動返信": "自動応答", "：": ": か（）",
		// Outlook's options are [配信確認の要求] and [開封確認の要求]
		// (support.office.com, ja-JP article 69cd1b39-2300-482d-96c6-22e2f4a96848).
		"配信通知": "配信確認",
	}
	spaced := regexp.MustCompile(`%\[\d\][sd] (件|名|以上|時間|日)`)
	var all []string
	for k, s := range catalogs[Japanese] {
		all = append(all, string(k)+": "+s)
	}
	for st, s := range statusWords[Japanese] {
		all = append(all, string(st)+": "+s)
	}
	for r, a := range reasonAdvice[Japanese] {
		all = append(all, string(r)+": "+a.Plain, string(r)+": "+a.Do)
	}
	for _, s := range all {
		for bad, good := range banned {
			if strings.Contains(s, bad) {
				t.Errorf("%s: has %q, want %q", s, bad, good)
			}
		}
		if spaced.MatchString(s) {
			t.Errorf("%s: half-width space before a counter", s)
		}
	}
	for _, w := range []string{"配信済み", "配信遅延", "中継済み", "開封済み", "開封あり"} {
		found := false
		for _, s := range statusWords[Japanese] {
			found = found || strings.Contains(s, w)
		}
		if !found {
			t.Errorf("no status says %s", w)
		}
	}
	if got := (locale{lang: Japanese, tz: time.UTC}).t(msgDue, "11月30日(月) 17:00"); got != "11月30日(月) 17:00 まで確認待ち" {
		t.Errorf("deadline = %q", got)
	}
	// A snooze sits where the deadline does on the card, and reads alike.
	if got := (locale{lang: Japanese, tz: time.UTC}).t(msgSnoozedUntil, "12月1日(火) 09:00"); got != "12月1日(火) 09:00 までスヌーズ中" {
		t.Errorf("snooze = %q", got)
	}
}

func TestSpanAndSettingsInWords(t *testing.T) {
	en, ja := locale{lang: English, tz: time.UTC}, locale{lang: Japanese, tz: time.UTC}
	tests := []struct {
		got, want string
	}{
		{en.span(time.Hour), "1 hour"},
		{en.span(2 * time.Hour), "2 hours"},
		{en.span(72 * time.Hour), "3 days"},
		{ja.span(time.Hour), "1時間"},
		{settingsText(UserSettings{}, en), "Language: as in Slack · Notifications: every change · Deadline of mail you track with /track: the default · Quiet hours: none"},
		{settingsText(UserSettings{Language: Japanese, Level: LevelProblems, Deadline: 48 * time.Hour, Quiet: QuietHours{Start: 22 * 60, End: 7 * 60}}, ja),
			"言語: 日本語 ／ 通知: 問題と期限切れのみ ／ /trackで追跡するメールの期限: 2日 ／ 通知しない時間帯: 22:00–07:00"},
		{settingsText(UserSettings{Deadline: -1}, en), "Language: as in Slack · Notifications: every change · Deadline of mail you track with /track: none · Quiet hours: none"},
		{en.t(msgListTitle, en.t(listFilters[""].title)), "Your tracked mail (open)"},
		{en.t(msgListTitle, en.t(listFilters["all"].title)), "Your tracked mail (all, including closed)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// A Japanese status reads as one phrase: a qualifier, a reason or a time
// never makes two pairs of parentheses in a row or one inside another, and
// a thread reply runs its advice on without a half-width space.
func TestJapaneseStatusPhrases(t *testing.T) {
	ja := locale{lang: Japanese, tz: time.UTC, now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for st := range statusWords[Japanese] {
		for _, reason := range []report.Reason{report.ReasonUndefined, report.ReasonAuthFailure, report.ReasonVacation, report.ReasonMailboxFull} {
			got := statusText(track.Recipient{Address: "a@x.example", Status: st, StatusAt: at, Reason: reason}, ja)
			if strings.Contains(got, "）（") || strings.Count(got, "（") > 1 {
				t.Errorf("%s/%s: %q has nested or doubled parentheses", st, reason, got)
			}
		}
	}
	m := track.Mail{MessageID: "m@x.example", Subject: "見積書の件", Recipients: []track.Recipient{{Address: "a@x.example", Name: "佐藤"}}}
	n := track.Notice{Recipient: "a@x.example", To: track.StatusFailed, Reason: report.ReasonMailboxFull, At: at}
	if got, want := replyText(m, n, ja), "不達（メールボックスが満杯）。時間をおいて再送するか"; !strings.Contains(got, want) {
		t.Errorf("reply = %q, want it to hold %q", got, want)
	}
}

// The follow-up for an outside partner opens with the usual greeting and
// names the mail once: a subject ending in の件 gets no second の件.
func TestJapaneseFollowUpCourteous(t *testing.T) {
	ja := locale{lang: Japanese, tz: time.UTC}
	got := ja.t(msgFollowUpBody, "【ご確認】お見積書送付の件", "11月30日")
	for _, w := range []string{"お世話になっております。\n", "先日（11月30日）お送りいたしました「【ご確認】お見積書送付の件」につきまして", "何卒ご容赦ください。"} {
		if !strings.Contains(got, w) {
			t.Errorf("follow-up lacks %q:\n%s", w, got)
		}
	}
	for _, bad := range []string{"」の件", "ご連絡いたしました", "ご一報ください"} {
		if strings.Contains(got, bad) {
			t.Errorf("follow-up has %q:\n%s", bad, got)
		}
	}
}

// Answers are said with one term each, in both languages: a person's
// reply (返信), an automatic reply (自動応答) with the absence it tells of
// (不在), and the welcome names both among what mailack reads and the
// same settings as the tab list. A recipient named by address is
// addressed as さん in every nudge answer.
func TestAnswerTerms(t *testing.T) {
	en, ja := catalogs[English], catalogs[Japanese]
	away := []msg{msgAwayUntil, msgAwayNoDate, msgAwayAlso, msgNudgeAwayUntil, msgNudgeAway}
	for _, k := range away {
		if !strings.Contains(en[k], "automatic reply") {
			t.Errorf("English %s = %q, want it to say “automatic reply”", k, en[k])
		}
		if !strings.Contains(ja[k], "自動応答") || !strings.Contains(ja[k], "不在") {
			t.Errorf("Japanese %s = %q, want 不在 and 自動応答", k, ja[k])
		}
	}
	for _, st := range []track.Status{track.StatusAway, track.StatusAutoAck} {
		if w := statusWords[Japanese][st]; !strings.Contains(w, "自動応答") {
			t.Errorf("Japanese status %s = %q, want 自動応答", st, w)
		}
	}
	if w := statusWords[English][track.StatusAway]; !strings.Contains(w, "automatic reply") {
		t.Errorf("English status away = %q, want “automatic reply”", w)
	}
	if a := reasonAdvice[Japanese][report.ReasonVacation]; !strings.Contains(a.Plain, "自動応答") {
		t.Errorf("Japanese vacation reason = %q, want 自動応答", a.Plain)
	}
	for _, k := range []msg{msgWelcome, msgWelcomeIntro} {
		if !strings.Contains(en[k], "replies and automatic replies") || !strings.Contains(ja[k], "返信・自動応答") {
			t.Errorf("welcome %s does not name both replies and automatic replies:\n%s\n%s", k, en[k], ja[k])
		}
	}
	if !strings.Contains(en[msgWelcome], "language, notifications, deadline") || !strings.Contains(ja[msgWelcome], "言語、通知、期限") {
		t.Errorf("welcome lists other settings than the tabs do:\n%s\n%s", en[msgWelcome], ja[msgWelcome])
	}
	for _, k := range []msg{msgNudged, msgNudgeNoUser, msgNudgeTooSoon, msgNudgeAnswered, msgNudgeAwayUntil, msgNudgeAway} {
		if !strings.HasPrefix(ja[k], "%[1]s さん") {
			t.Errorf("Japanese %s = %q, want the recipient as “%%[1]s さん”", k, ja[k])
		}
	}
}
