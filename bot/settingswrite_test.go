package bot_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
)

// gatedSettings holds the first write of settings until released, and
// tells of every read.
type gatedSettings struct {
	next    bot.Settings
	reads   chan struct{} // a value per read
	held    chan struct{} // closed when the first write waits
	release chan struct{} // closed to let it go on

	mu     sync.Mutex // guards writes
	writes int
}

func (g *gatedSettings) Settings(ctx context.Context, user string) (bot.UserSettings, error) {
	select {
	case g.reads <- struct{}{}:
	default: // nobody counts the reads now
	}
	return g.next.Settings(ctx, user)
}

func (g *gatedSettings) PutSettings(ctx context.Context, user string, s bot.UserSettings) error {
	g.mu.Lock()
	g.writes++
	first := g.writes == 1
	g.mu.Unlock()
	if first {
		close(g.held)
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.next.PutSettings(ctx, user, s)
}

// Two settings changed at once both stay: each change is made to the
// settings as stored just before they are written, not to those read when
// its control was used.
func TestConcurrentSettingsChanges(t *testing.T) {
	g := &gatedSettings{reads: make(chan struct{}, 64), held: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, envOptions{settings: func(s bot.Settings) bot.Settings { g.next = s; return g }})
	defer e.run(t)()

	first := e.press(t, alice, blockAction{ActionID: "set_lang", Type: "static_select", SelectedOption: picked("ja")})
	select {
	case <-g.held:
	case <-time.After(20 * time.Second):
		t.Fatal("the language change never wrote")
	}
	for len(g.reads) > 0 { // forget the reads so far
		<-g.reads
	}
	// The second change reads the settings while the first is being
	// written.
	second := e.press(t, alice, blockAction{ActionID: "set_summary", Type: "static_select", SelectedOption: picked("08:00")})
	select {
	case <-g.reads:
	case <-time.After(20 * time.Second):
		t.Fatal("the summary change never read the settings")
	}
	close(g.release)
	e.answer(t, first)
	e.answer(t, second)
	set, err := e.settings.Settings(t.Context(), alice.ID)
	if err != nil || set.Language != bot.Japanese || set.Summary != (bot.Summary{On: true, At: 8 * 60}) {
		t.Errorf("settings = %+v, %v; want both the language and the summary", set, err)
	}
}

// A Slack profile lookup that fails leaves the settings as they were but
// for the change asked for: they are not read as empty and written back.
func TestSettingsKeptWhenProfileLookupFails(t *testing.T) {
	e := newEnv(t, envOptions{})
	defer e.run(t)()
	before := bot.UserSettings{Language: bot.Japanese, Level: bot.LevelProblems, Quiet: bot.QuietHours{Start: 22 * 60, End: 7 * 60},
		Summary: bot.Summary{On: true, At: 8 * 60}, Welcomed: true}
	if err := e.settings.PutSettings(t.Context(), hanako.ID, before); err != nil {
		t.Fatal(err)
	}
	e.fake.FailNext("users.info", failure{Status: http.StatusInternalServerError}, failure{Status: http.StatusInternalServerError},
		failure{Status: http.StatusInternalServerError}, failure{Status: http.StatusInternalServerError})
	resp := e.press(t, hanako, blockAction{ActionID: "set_deadline", Type: "static_select", SelectedOption: picked("2d")})
	if got := e.answer(t, resp); !strings.Contains(got, "保存しました。") {
		t.Errorf("answer = %q, want it saved, in the language chosen", got)
	}
	want := before
	want.Deadline = 48 * time.Hour
	got, err := e.settings.Settings(t.Context(), hanako.ID)
	if err != nil || got.Language != want.Language || got.Level != want.Level || got.Quiet != want.Quiet ||
		got.Summary != want.Summary || got.Welcomed != want.Welcomed || got.Deadline != want.Deadline {
		t.Errorf("settings after the change = %+v, %v; want %+v", got, err, want)
	}
	if failed := e.fake.All(func(c call) bool { return c.Method == "users.info" && !c.OK() }); len(failed) == 0 {
		t.Error("no users.info lookup failed: the test did not test it")
	}
}
