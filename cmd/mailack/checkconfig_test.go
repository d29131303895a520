package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailack/mailack/bot/slackfake"
)

// TestCheckConfigSlack: check-config --slack asks the (strict, fake) Slack
// whether the token is valid and whether the bot can post to each channel,
// names every channel it cannot post to with how to fix it, and changes
// nothing in the workspace.
func TestCheckConfigSlack(t *testing.T) {
	fake := slackfake.New()
	fake.RequireToken("xoxb-right")
	fake.AddChannel(slackfake.Channel{ID: "CIN", Name: "sales", Member: true})
	fake.AddChannel(slackfake.Channel{ID: "CPUB", Name: "ops"})
	fake.AddChannel(slackfake.Channel{ID: "CPRIV", Name: "secret", Private: true})
	fake.AddChannel(slackfake.Channel{ID: "COLD", Name: "old", Archived: true, Member: true})
	srv := fake.Serve(t)
	dir := t.TempDir()
	write := func(name string, channels ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "store:\n  path: %s\nslack:\n  enabled: true\n  mode: http\n  bot_token: ${TOKEN}\n  signing_secret: ${SECRET}\n  api_url: %s/\n  digests:\n",
			filepath.Join(dir, "m.db"), srv.URL)
		for _, c := range channels {
			fmt.Fprintf(&b, "    - channel: %s\n      schedule: \"0 9 * * 1-5\"\n      after: 24h\n", c)
		}
		b.WriteString("  bounce_alerts:\n    - channel: " + channels[0] + "\n      senders: [\"@example.com\"]\n")
		b.WriteString("accounts:\n  - name: a\n    host: h\n    username: a@example.com\n    password: ${P}\n")
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vars := map[string]string{"TOKEN": "xoxb-right", "SECRET": strings.Repeat("s", 32), "P": "pw"}

	good := write("good.yaml", "CIN", "CPUB")
	code, out, errOut := runCmdEnv(t, vars, "check-config", "--slack", good)
	if code != exitOK || !strings.Contains(out, "@mailack") || !strings.Contains(out, "CPUB (#ops): the bot is not in it yet and joins it when it starts") {
		t.Errorf("check-config --slack, bot in or able to join every channel = %d\n%s%s", code, out, errOut)
	}

	bad := write("bad.yaml", "CIN", "CPRIV", "COLD", "CNONE")
	code, out, errOut = runCmdEnv(t, vars, "check-config", "--slack", bad)
	for _, want := range []string{"3 problem(s)", "CPRIV: not found, or private and the bot is not in it: invite it with /invite @mailack",
		"COLD (#old): archived", "CNONE: not found"} {
		if code != exitFailure || !strings.Contains(errOut, want) {
			t.Errorf("check-config --slack with unreachable channels = %d, stderr lacks %q:\n%s%s", code, want, out, errOut)
		}
	}
	if strings.Contains(errOut, "CIN") {
		t.Errorf("a channel the bot is in was reported:\n%s", errOut)
	}

	vars["TOKEN"] = "xoxb-revoked"
	code, _, errOut = runCmdEnv(t, vars, "check-config", "--slack", good)
	if code != exitFailure || !strings.Contains(errOut, "invalid_auth") || strings.Contains(errOut, "xoxb-revoked") {
		t.Errorf("check-config --slack with a wrong token = %d, %q; want invalid_auth and the token never printed", code, errOut)
	}

	for _, c := range fake.All(nil) {
		if c.Method != "auth.test" && c.Method != "conversations.info" {
			t.Errorf("check-config called %s; it must only read", c.Method)
		}
	}
	if ch, _ := fake.ChannelState("CPUB"); ch.Member {
		t.Error("check-config joined a channel")
	}

	// Without --slack nothing is asked.
	before := len(fake.All(nil))
	if code, _, _ := runCmdEnv(t, vars, "check-config", good); code != exitOK || len(fake.All(nil)) != before {
		t.Errorf("check-config without --slack = %d and called Slack %d times", code, len(fake.All(nil))-before)
	}
}
