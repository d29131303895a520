package main

import (
	"strings"
	"testing"
)

// TestDemo runs `mailack demo` straight through and checks that each step
// of the story reached Slack as the bot renders it, that Slack (the strict
// fake) refused nothing, and that the Japanese demo tells its story in
// Japanese.
func TestDemo(t *testing.T) {
	tests := []struct {
		lang    string
		want    []string
		notWant []string
		home    string // in the App Home shown last: the deadline the last step passed
	}{
		{"en", []string{
			"nosuch@partner.example.jp — bounced (no such address)", "Check the address for a typo.",
			"Bob Jones <bob@fabrikam.example> — delivered at Tue 24 Nov 09:30",
			"山田 太郎 <yamada@slow.example.co.jp> — delivery delayed, still being retried",
			"佐藤 花子 <sato@partner.example.jp> — read at Tue 24 Nov 10:15",
			"鈴木 次郎 <suzuki@partner.example.jp> — declined",
			"Bob Jones <bob@fabrikam.example> — opened by a person at Tue 24 Nov 11:05",
			"山田 太郎 <yamada@slow.example.co.jp> — no response by the deadline (Tue 24 Nov 17:20)",
			"2 recipient(s) without an answer",
			"#sales · new message", "• 契約書のご確認のお願い — sent Tue 24 Nov 09:20 — waiting for yamada@slow.example.co.jp",
			// /track by subject words, list and show
			"Ichiro Tanaka: /track 議事録", "Which mail shall I track?", "Now tracking “定例会議の議事録”",
			"Ichiro Tanaka: /track list", "Your tracked mail (open)", "/track show contract-review@demo.example",
			// the nudge, "Seen it" and the card updated at once
			"DM to Yuki Sasaki · new message", "press “Seen it”", "Yuki Sasaki presses [Seen it]",
			"confirmed in Slack at Wed 25 Nov 09:50", "I let @Ichiro Tanaka know that you have seen “来期予算案のご確認”",
			// the follow-up wording for a partner
			"window · Follow-up text", "I am writing to follow up on my email “契約書のご確認のお願い” of 24 November.",
			// a reply ends a wait, an out-of-office notice moves a deadline
			"伊藤 恵 <ito@shoji.example.co.jp> — away until Fri 27 Nov (automatic reply)",
			"加藤 誠 <kato@shoji.example.co.jp> — replied at Tue 24 Nov 14:10",
			"App Home of Ichiro Tanaka",
		}, []string{"Slack refused"}, "山田 太郎 <yamada@slow.example.co.jp> — no response by the deadline (Tue 24 Nov 17:20)"},
		{"ja", []string{
			"不達（宛先アドレスが存在しない）", "開封済み（11月24日(火) 10:15）", "開封確認の送信を拒否",
			"期限（11月24日(火) 17:20）までに確認なし", "[フォローアップ文面]",
			"田中さんが追跡中のメールを確認します。", "メール一覧（追跡中）", "「定例会議の議事録」の追跡を開始しました。",
			"佐々木 由紀 さんへのDM · 新しいメッセージ", "「確認しました」ボタンを押していただけると助かります。",
			"佐々木 由紀 さんが［確認しました］を押します", "Slackで確認済み（11月25日(水) 09:50）",
			"お世話になっております。", "先日（11月24日）お送りいたしました「契約書のご確認のお願い」につきまして、その後ご確認いただけましたでしょうか。",
			"なお、本メールと行き違いでご対応いただいている場合は、何卒ご容赦ください。", "田中 一郎 さんのホームタブ",
			"「【再送】」は不要でした。", "不在（11月27日まで・自動応答）", "返信あり（11月24日(火) 14:10）",
			"配信遅延・再試行中（相手のサーバーに接続できない）", "ありがとうございます！「来期予算案のご確認」のメールをご覧いただいたことを",
		}, []string{"Slack refused", "Slackが", "presses", "new message", "Tanaka sends", "thread reply",
			"）（", "再送中", " Outlook ", "あなた"}, "山田 太郎 <yamada@slow.example.co.jp> — 期限（11月24日(火) 17:20）までに確認なし"},
	}
	for _, tc := range tests {
		t.Run(tc.lang, func(t *testing.T) {
			code, out, errOut := runCmd(t, "demo", "--pace", "0", "--lang", tc.lang)
			if code != 0 {
				t.Fatalf("demo exited %d: %s\n%s", code, errOut, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("demo output lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("demo output has %q", w)
				}
			}
			// Ito is away: her deadline waits until she is back.
			if strings.Contains(out, "<ito@shoji.example.co.jp> — no response") || strings.Contains(out, "<ito@shoji.example.co.jp> — 期限") {
				t.Errorf("demo reminded Tanaka about Ito, who is away")
			}
			if _, home, ok := strings.Cut(out, map[string]string{"en": "App Home of Ichiro Tanaka", "ja": "田中 一郎 さんのホームタブ"}[tc.lang]); !ok || !strings.Contains(home, tc.home) {
				t.Errorf("demo's App Home lacks %q", tc.home)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
