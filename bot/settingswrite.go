package bot

import (
	"context"
	"fmt"
)

// editSettings changes a user's settings: change is applied to the
// settings as stored, read just before they are written, and never to
// settings read earlier (when a button was pressed, or when a failed
// Slack lookup left them unread), so that it changes only what it means
// to and a change made meanwhile stays. Every change goes through here,
// one at a time. It returns the settings as written.
func (b *Bot) editSettings(ctx context.Context, user string, change func(*UserSettings)) (UserSettings, error) {
	b.settingsMu.Lock()
	defer b.settingsMu.Unlock()
	set, err := b.deps.Settings.Settings(ctx, user)
	if err != nil {
		return UserSettings{}, fmt.Errorf("settings of %s: %w", user, err)
	}
	change(&set)
	if err := b.deps.Settings.PutSettings(ctx, user, set); err != nil {
		return UserSettings{}, fmt.Errorf("store settings of %s: %w", user, err)
	}
	return set, nil
}
