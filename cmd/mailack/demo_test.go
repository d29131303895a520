package main

import (
	"strings"
	"testing"
)

// TestDemo runs `mailack demo` straight through and checks that each step
// of the scenario reached Slack as the bot renders it.
func TestDemo(t *testing.T) {
	tests := []struct {
		lang string
		want []string
		home string // in the App Home shown last: the deadline the last step passed
	}{
		{"en", []string{
			"nosuch@partner.example.jp — bounced — no such address", "Check the address for a typo.",
			"Bob Jones <bob@fabrikam.example> — delivered at Tue 24 Nov 09:30",
			"山田 太郎 <yamada@slow.example.co.jp> — delayed",
			"佐藤 花子 <sato@partner.example.jp> — read at Tue 24 Nov 10:15",
			"鈴木 次郎 <suzuki@partner.example.jp> — declined",
			"Bob Jones <bob@fabrikam.example> — opened by a person at Tue 24 Nov 11:05",
			"山田 太郎 <yamada@slow.example.co.jp> — no response",
			"1 recipient(s) without an answer",
			"#sales · new message", "• 契約書のご確認のお願い — sent Tue 24 Nov 09:20 — waiting for yamada@slow.example.co.jp",
			"App Home of Ichiro Tanaka",
		}, "山田 太郎 <yamada@slow.example.co.jp> — no response at Tue 24 Nov 17:20"},
		{"ja", []string{"宛先アドレスが存在しない", "既読(11月24日(火) 10:15)", "開封確認の送信を拒否", "返答なし", "[フォローアップ文面]"},
			"山田 太郎 <yamada@slow.example.co.jp> — 返答なし(11月24日(火) 17:20)"},
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
			if _, home, ok := strings.Cut(out, "App Home of Ichiro Tanaka"); !ok || !strings.Contains(home, tc.home) {
				t.Errorf("demo's App Home lacks %q", tc.home)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
