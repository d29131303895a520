package bot

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// Japanese reads as Japanese Outlook users know it: one term per thing,
// 「」 quotes, full-width parentheses, no half-width space before a
// counter.
func TestJapaneseWording(t *testing.T) {
	banned := map[string]string{
		"配送": "配信", "転送済み": "中継済み", "既読": "開封済み", "本人が開封": "開封あり",
		"返答を待って": "確認待ち", `"`: "「」", "“": "「」", "(": "（", ")": "）",
	}
	spaced := regexp.MustCompile(`%\[\d\][sd] (件|名|以上|時間|日)`)
	var all []string
	for k, s := range catalogs[Japanese] {
		all = append(all, string(k)+": "+s)
	}
	for st, s := range statusWords[Japanese] {
		all = append(all, string(st)+": "+s)
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
			"言語: 日本語 ／ 通知: 問題と期限のみ ／ /trackで追跡するメールの期限: 2日 ／ 通知しない時間帯: 22:00–07:00"},
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
