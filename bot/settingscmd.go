package bot

import (
	"context"
	"fmt"
	"strings"
)

// settingKeys are the /track settings keys, each parsing its value into
// the settings.
var settingKeys = map[string]func(s *UserSettings, v string) bool{
	"lang": func(s *UserSettings, v string) bool {
		switch l := Lang(v); {
		case v == "auto":
			s.Language = ""
		case l.valid():
			s.Language = l
		default:
			return false
		}
		return true
	},
	"notify": func(s *UserSettings, v string) bool {
		if l := Level(v); l == LevelAll || l == LevelProblems {
			s.Level = l
			return true
		}
		return false
	},
	"deadline": func(s *UserSettings, v string) bool {
		d, err := ParseDeadline(v)
		if err == nil {
			s.Deadline = d
		}
		return err == nil
	},
	"summary": func(s *UserSettings, v string) bool {
		if v == "off" {
			s.Summary = Summary{}
			return true
		}
		at, err := parseClock(v)
		if err == nil {
			s.Summary = Summary{On: true, At: at}
		}
		return err == nil
	},
	"quiet": func(s *UserSettings, v string) bool {
		q, err := ParseQuietHours(v)
		if err == nil {
			s.Quiet = q
		}
		return err == nil
	},
}

// cmdSettings shows the author's settings, or changes them from
// key-value pairs ("lang ja notify problems").
func (b *Bot) cmdSettings(ctx context.Context, r *request, args []string) {
	if len(args) == 0 {
		b.respond(ctx, r, settingsText(r.set, r.loc))
		return
	}
	if len(args)%2 != 0 {
		b.usage(ctx, r, "settings")
		return
	}
	// Every pair is checked before anything is written, then applied to
	// the settings as stored (editSettings).
	for i := 0; i < len(args); i += 2 {
		parse, ok := settingKeys[strings.ToLower(args[i])]
		if !ok || !parse(&UserSettings{}, strings.ToLower(args[i+1])) {
			b.respond(ctx, r, r.loc.t(msgSettingsBad, escClip(args[i]+" "+args[i+1], maxSubjectShown)))
			return
		}
	}
	set, err := b.editSettings(ctx, r.user, func(set *UserSettings) {
		for i := 0; i < len(args); i += 2 {
			settingKeys[strings.ToLower(args[i])](set, strings.ToLower(args[i+1]))
		}
	})
	if err != nil {
		b.trouble(ctx, r, "settings", err)
		return
	}
	l, _ := b.localeOf(ctx, r.user) // the language may have changed
	sep := " "
	if l.lang == Japanese {
		sep = "" // Japanese runs sentences on without a space
	}
	b.refreshHome(ctx, r.user) // in the language now chosen
	b.respond(ctx, r, l.t(msgSettingsSaved)+sep+settingsText(set, l))
}

// settingsText says a user's settings in l's language, in words.
func settingsText(s UserSettings, l locale) string {
	lang := l.t(msgLangAuto)
	switch s.Language {
	case English:
		lang = l.t(msgLangEnglish)
	case Japanese:
		lang = l.t(msgLangJapanese)
	}
	level := l.t(msgLevelAll)
	if s.level() == LevelProblems {
		level = l.t(msgLevelProblems)
	}
	deadline := l.t(msgDeadlineDefault)
	switch {
	case s.Deadline < 0:
		deadline = l.t(msgDeadlineOff)
	case s.Deadline > 0:
		deadline = l.duration(s.Deadline)
	}
	quiet := l.t(msgQuietOff)
	if !s.Quiet.Off() {
		quiet = fmt.Sprintf("%02d:%02d–%02d:%02d", s.Quiet.Start/60, s.Quiet.Start%60, s.Quiet.End/60, s.Quiet.End%60)
	}
	return l.t(msgSettingsNow, lang, level, deadline, quiet)
}
