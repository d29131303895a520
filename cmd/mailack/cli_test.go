package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/store"
)

// Every command: a bad flag is a usage error (exit 2) printed once, extra
// arguments are a usage error caught before anything runs, and --help
// succeeds.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	db, dest := filepath.Join(dir, "mailack.db"), filepath.Join(dir, "backup.db")
	cfg := filepath.Join(dir, "mailack.yaml")
	valid := map[string]struct {
		args     []string
		variadic bool // takes any number of arguments
	}{
		"scan":         {args: []string{dir}, variadic: true},
		"demo":         {},
		"run":          {args: []string{cfg}},
		"backup":       {args: []string{"--db", db, dest}},
		"export":       {args: []string{"--json", "--db", db}},
		"check-config": {args: []string{cfg}},
		"migrate":      {args: []string{"--to-etcd", "--config", cfg}},
		"pixel":        {args: []string{"--message-id", "m@example.com"}},
		"version":      {},
	}
	for _, c := range commands {
		v, ok := valid[c.name]
		if !ok {
			t.Errorf("command %s is not covered by this test", c.name)
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, c.name, "--no-such-flag")
			if code != exitUsage || strings.Count(errOut, "flag provided but not defined") != 1 || out != "" {
				t.Errorf("mailack %s --no-such-flag = %d, stdout %q, stderr %q; want 2 and the error printed once", c.name, code, out, errOut)
			}
			if !strings.Contains(errOut, "Usage: mailack "+c.name) {
				t.Errorf("mailack %s --no-such-flag printed no usage: %q", c.name, errOut)
			}
			if code, _, errOut := runCmd(t, c.name, "--help"); code != exitOK || !strings.Contains(errOut, "Usage: mailack "+c.name) {
				t.Errorf("mailack %s --help = %d, %q; want 0 and the usage", c.name, code, errOut)
			}
			if v.variadic {
				return
			}
			args := append(append([]string{c.name}, v.args...), "extra")
			code, out, errOut = runCmd(t, args...)
			if code != exitUsage || !strings.Contains(errOut, `unexpected argument "extra"`) || out != "" {
				t.Errorf("mailack %s = %d, stdout %q, stderr %q; want 2 and an unexpected argument", strings.Join(args, " "), code, out, errOut)
			}
		})
	}
	for _, p := range []string{db, dest, cfg} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a usage error created %s", p)
		}
	}
	if code, _, errOut := runCmd(t); code != exitUsage || !strings.Contains(errOut, "Commands:") {
		t.Errorf("mailack = %d, %q; want 2 and the help on stderr", code, errOut)
	}
	if code, out, _ := runCmd(t, "--help"); code != exitOK || !strings.Contains(out, "Exit status: 0") {
		t.Errorf("mailack --help = %d, %q; want 0 and the exit statuses", code, out)
	}
}

// run takes its configuration file as check-config does, or with --config.
func TestRunConfigArgument(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"none", []string{"run"}, exitUsage, "no configuration FILE given"},
		{"twice", []string{"run", "--config", missing, missing}, exitUsage, "give the configuration file once"},
		{"as FILE", []string{"run", missing}, exitFailure, "read config: open " + missing},
		{"with --config", []string{"run", "--config", missing}, exitFailure, "read config: open " + missing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("mailack %s = %d, %q; want %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := runCmd(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "mailack ") || !strings.Contains(out, "\ncommit: ") ||
			!strings.Contains(out, "\ngo: "+runtime.Version()+" ") {
			t.Errorf("mailack %s = %d, %q, %q; want 0, the version, commit and Go version", args[0], code, out, errOut)
		}
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			[]string{"mailack v1.4.0\n", "commit: 0123456789abcdef\n", "commit time: 2026-11-30T10:00:00Z\n", "go: go1.99.1 "}},
		{"modified checkout", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "fedcba"}, {Key: "vcs.modified", Value: "true"}}},
			[]string{"mailack (devel)\n", "commit: fedcba (modified: uncommitted changes)\n"}},
		{"no build information", nil, []string{"mailack unknown\n", "commit: unknown\n", "go: " + runtime.Version()}},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		printVersion(&b, tc.bi)
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: printVersion() = %q, want %q", tc.name, b.String(), w)
			}
		}
	}
}

// export and backup read an existing database only: a path that does not
// exist fails and creates nothing, an old database is not migrated, and a
// good one is read.
func TestStoreCommandsReadOnly(t *testing.T) {
	dir := t.TempDir()
	missing, dest := filepath.Join(dir, "typo.db"), filepath.Join(dir, "backup.db")
	for _, args := range [][]string{{"export", "--json", "--db", missing}, {"backup", "--db", missing, dest}} {
		code, out, errOut := runCmd(t, args...)
		if code != exitFailure || !strings.Contains(errOut, "no database at "+missing) || strings.Contains(out, "wrote") {
			t.Errorf("mailack %s = %d, %q, %q; want 1 and no database", strings.Join(args, " "), code, out, errOut)
		}
	}
	for _, p := range []string{missing, dest} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created", p)
		}
	}
	if code, _, errOut := runCmd(t, "export", "--json", "--db", missing, "--config", missing); code != exitUsage || !strings.Contains(errOut, "not both") {
		t.Errorf("export with --db and --config = %d, %q; want 2", code, errOut)
	}

	old := filepath.Join(dir, "v3.db")
	fixture, err := os.ReadFile(filepath.Join("..", "..", "store", "testdata", "v3.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "export", "--json", "--db", old)
	if after, _ := os.ReadFile(old); code != exitFailure || !strings.Contains(errOut, "start the daemon (mailack run) once to upgrade it") || !bytes.Equal(after, fixture) {
		t.Errorf("export of an old database = %d, %q, changed %v; want 1, upgrade advice and the file unchanged", code, errOut, !bytes.Equal(after, fixture))
	}

	good := filepath.Join(dir, "mailack.db")
	st, err := store.Open(good, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "export", "--json", "--db", good)
	var ex struct{ Schema int }
	if code != exitOK || json.Unmarshal([]byte(out), &ex) != nil || ex.Schema == 0 {
		t.Errorf("export = %d, %q, %q; want 0 and JSON", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "backup", "--db", good, dest)
	if code != exitOK || !strings.Contains(out, "wrote "+dest) {
		t.Fatalf("backup = %d, %q, %q; want 0", code, out, errOut)
	}
	copied, err := store.OpenReadOnly(dest, store.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	copied.Close()
}

// check-config passes the example as shipped, given the environment
// variables its header documents.
func TestCheckConfigExample(t *testing.T) {
	path := filepath.Join("..", "..", "configs", "mailack.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#   ([A-Z][A-Z0-9_]+) `).FindAllStringSubmatch(string(data), -1) {
		vars[m[1]] = "value-of-" + m[1] // long enough for a token
	}
	code, out, errOut := runCmdEnv(t, vars, "check-config", path)
	if code != exitOK || !strings.Contains(out, "ok (3 account(s); slack on; pixel off; relay off)") {
		t.Errorf("check-config %s with %v = %d, %q, %q; want 0 problems", path, vars, code, out, errOut)
	}
	code, _, errOut = runCmd(t, "check-config", path)
	if code != exitFailure || !strings.Contains(errOut, "SLACK_BOT_TOKEN is not set") {
		t.Errorf("check-config %s without the environment = %d, %q; want 1 and the variables missing", path, code, errOut)
	}
}
