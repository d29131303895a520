package bot_test

import (
	"os"
	"slices"
	"testing"

	"github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"

	"github.com/mailack/mailack/bot"
)

// The app manifest creates the app the bot expects.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile("../configs/slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m slack.Manifest
	dec := yaml.NewDecoder(bytesReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode manifest: %v", err)
	}
	if n := len(m.Features.SlashCommands); n != 1 || m.Features.SlashCommands[0].Command != "/track" {
		t.Errorf("slash commands = %+v, want /track", m.Features.SlashCommands)
	}
	if !m.Features.AppHome.HomeTabEnabled || !m.Features.AppHome.MessagesTabEnabled {
		t.Errorf("app home = %+v, want the home and messages tabs", m.Features.AppHome)
	}
	if !m.Settings.SocketModeEnabled {
		t.Error("socket mode is not enabled")
	}
	if m.Settings.Interactivity == nil || !m.Settings.Interactivity.IsEnabled {
		t.Error("interactivity is not enabled")
	}
	if es := m.Settings.EventSubscriptions; es == nil || !slices.Contains(es.BotEvents, "app_home_opened") {
		t.Errorf("event subscriptions = %+v, want app_home_opened", es)
	}
	for _, scope := range []string{"chat:write", "im:write", "commands", "users:read", "users:read.email", "channels:read", "channels:join", "groups:read", "im:history"} {
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, scope) {
			t.Errorf("bot scopes %v lack %s", m.OAuthConfig.Scopes.Bot, scope)
		}
	}
	shortcuts := map[string]slack.ShortcutType{}
	for _, sc := range m.Features.Shortcuts {
		shortcuts[sc.CallbackID] = sc.Type
	}
	if shortcuts[bot.ShortcutTrackSent] != slack.GlobalShortcut || shortcuts[bot.ShortcutTrackFromMsg] != slack.MessageShortcut {
		t.Errorf("shortcuts = %v, want the global %s and the message %s", shortcuts, bot.ShortcutTrackSent, bot.ShortcutTrackFromMsg)
	}
	if u := m.Settings.Interactivity.MessageMenuOptionsUrl; !endsWith(u, bot.PathInteractivity) {
		t.Errorf("options load URL %q does not end in %s, where block_suggestion is answered", u, bot.PathInteractivity)
	}
	urls := map[string]string{
		bot.PathCommands:      m.Features.SlashCommands[0].Url,
		bot.PathEvents:        m.Settings.EventSubscriptions.RequestUrl,
		bot.PathInteractivity: m.Settings.Interactivity.RequestUrl,
	}
	for path, url := range urls {
		if !endsWith(url, path) {
			t.Errorf("manifest URL %q does not end in the handler's %s", url, path)
		}
	}
}

func endsWith(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
