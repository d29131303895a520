package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestExampleConfig loads the commented example shipped in configs/, so it
// stays correct.
func TestExampleConfig(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "pixelkey")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("o", 40)), 0o600); err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.ReplaceAll(string(data), "/run/secrets/mailack-pixel-key-1", keyFile))
	data = []byte(strings.ReplaceAll(string(data), "/run/secrets/mailack-relay-connector", keyFile))
	cfg, err := Parse("mailack.yaml", data, env(map[string]string{
		"MAILACK_M365_CLIENT_SECRET": "m365-secret", "MAILACK_GOOGLE_CLIENT_SECRET": "g-secret",
		"MAILACK_TANAKA_REFRESH_TOKEN": "1//refresh-token", "MAILACK_SUPPORT_PASSWORD": "imap-password",
		"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "MAILACK_PIXEL_KEY": strings.Repeat("k", 32),
		"MAILACK_RELAY_SALES_PASSWORD": "p", "MAILACK_UPSTREAM_PASSWORD": "u",
		"MAILACK_ADMIN_TOKEN": strings.Repeat("a", 32), "MAILACK_METRICS_TOKEN": strings.Repeat("m", 32),
	}))
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	a := cfg.Accounts[1]
	if a.Port != 993 || a.TLS != "implicit" || a.Owner != "tanaka@example.com" || a.Track != "receipts" {
		t.Errorf("account defaults = port %d tls %q owner %q track %q", a.Port, a.TLS, a.Owner, a.Track)
	}
	if rf := cfg.Accounts[0].ReportsFor; len(rf) != 1 || rf[0] != "@example.co.jp" || len(a.ReportsFor) != 0 {
		t.Errorf("reports_for = %v and %v, want [@example.co.jp] and none", rf, a.ReportsFor)
	}
	if got := a.OAuth2.RefreshToken.Value(); got != "1//refresh-token" {
		t.Errorf("refresh token from the environment = %q", got)
	}
	if cfg.Accounts[0].OAuth2.ClientSecret.Value() != "m365-secret" || cfg.Slack.BotToken.Value() != "xoxb-1" {
		t.Error("secrets from the environment were not resolved")
	}
	if u := cfg.Relay.Users[1]; u.Name != "m365-connector" || u.Senders[0] != "@example.co.jp" || !u.Password.IsSet() {
		t.Errorf("relay connector user = %+v", u)
	}
	if sp := cfg.Accounts[2]; sp.Port != 143 || sp.Owner != "support@example.co.jp" || sp.Password.Value() != "imap-password" ||
		sp.TrackingAddress != "track@example.co.jp" || !sp.FlagReports || sp.PollInterval != 0 {
		t.Errorf("password account = port %d owner %q tracking_address %q flag_reports %v poll_interval %v",
			sp.Port, sp.Owner, sp.TrackingAddress, sp.FlagReports, sp.PollInterval)
	}
	if cfg.Tracking.BusinessHours.Timezone != "Asia/Tokyo" || cfg.Slack.Digests[0].After != 24*time.Hour {
		t.Errorf("values not read: %+v", cfg.Tracking.BusinessHours)
	}
}

// examplePath is the example configuration shipped in configs/.
var examplePath = filepath.Join("..", "..", "..", "configs", "mailack.yaml")

// documentedEnv returns the environment variables the example's header
// says it reads: the "#   NAME   what" lines after "reads these
// environment variables".
func documentedEnv(t *testing.T, data []byte) []string {
	t.Helper()
	var names []string
	in := false
	for line := range strings.Lines(string(data)) {
		if !strings.HasPrefix(line, "#") {
			break
		}
		if strings.Contains(line, "reads these environment variables") {
			in = true
			continue
		}
		if f := strings.Fields(strings.TrimPrefix(line, "#")); in && strings.HasPrefix(line, "#   ") && len(f) > 1 {
			names = append(names, f[0])
		} else if in && len(names) > 0 {
			break
		}
	}
	if len(names) == 0 {
		t.Fatal("the example's header documents no environment variables")
	}
	return names
}

// The example as shipped, with the environment variables its header
// documents set and nothing else, has no problem: the pixel and the relay
// it turns off need none of their secrets. Turned on, they do.
func TestExampleConfigAsShipped(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, name := range documentedEnv(t, data) {
		if !strings.Contains(string(data), "${"+name+"}") {
			t.Errorf("the header documents %s, which the file does not use", name)
		}
		vars[name] = "value-of-" + name
	}
	cfg, err := Parse("mailack.yaml", data, env(vars))
	if err != nil {
		t.Fatalf("example config with %v set: %v", vars, err)
	}
	if len(cfg.Accounts) != 3 || !cfg.Slack.Enabled || cfg.Pixel.Enabled || cfg.Relay.Enabled {
		t.Errorf("example: %d accounts, slack %v, pixel %v, relay %v; want 3 accounts and only slack on",
			len(cfg.Accounts), cfg.Slack.Enabled, cfg.Pixel.Enabled, cfg.Relay.Enabled)
	}
	for feature, want := range map[string]string{
		"pixel": "MAILACK_PIXEL_KEY is not set",
		"relay": "MAILACK_RELAY_SALES_PASSWORD is not set",
	} {
		on := strings.Replace(string(data), feature+":\n  enabled: false", feature+":\n  enabled: true", 1)
		if on == string(data) {
			t.Fatalf("the example has no %q section turned off", feature)
		}
		_, err := Parse("mailack.yaml", []byte(on), env(vars))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("example with the %s on = %v, want %q", feature, err, want)
		}
	}
}

// A feature turned off never requires its secrets, but a literal secret is
// refused wherever it is written.
func TestDisabledFeatureSecrets(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // "" for no problem
	}{
		{"pixel off", "pixel:\n  enabled: false\n  keys:\n    - id: 1\n      secret: ${UNSET}\n    - id: 2\n      secret_file: /nonexistent/key\n", ""},
		{"relay off", "relay:\n  enabled: false\n  users:\n    - name: u\n      password_file: /nonexistent/pw\n  upstream:\n    password: ${UNSET}\n", ""},
		{"slack off", "slack:\n  enabled: false\n  bot_token: ${UNSET}\n  app_token_file: /nonexistent/app\n", ""},
		{"slack http mode needs no app token", "slack:\n  enabled: true\n  mode: http\n  bot_token: ${SET}\n  signing_secret: ${SET}\n  app_token: ${UNSET}\n", ""},
		{"pixel on", "pixel:\n  enabled: true\n  keys:\n    - id: 1\n      secret: ${UNSET}\nhttp:\n  public_url: https://t.example\n", "pixel.keys[0]: secret: environment variable UNSET is not set"},
		{"literal secret in a feature turned off", "relay:\n  enabled: false\n  upstream:\n    password: hunter2\n", ":9: relay.upstream: password: a literal secret is not accepted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(oneAccount+tc.yaml), env(map[string]string{"P": "x", "SET": "s"}))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Parse() = %v, want no problem", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Parse() = %v, want %q", err, tc.want)
			}
		})
	}
}

// oneAccount is a valid account section, five lines long, for tests about
// the rest of a file.
const oneAccount = "accounts:\n  - name: a\n    host: h\n    username: u@example.com\n    password: ${P}\n"

func TestEmptyFile(t *testing.T) {
	for name, data := range map[string]string{"empty": "", "comments only": "# nothing yet\n", "no accounts": "store:\n  path: x.db\n"} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(data), env(nil))
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.Contains(err.Error(), "no accounts") {
				t.Errorf("Parse(%q) = %v, want one problem: no accounts", data, err)
			}
		})
	}
	for name, data := range map[string]string{"relay alone": "relay:\n  enabled: true\n", "pixel alone": "pixel:\n  enabled: true\n"} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("f.yaml", []byte(data), env(nil)); err != nil && strings.Contains(err.Error(), "no accounts") {
				t.Errorf("Parse(%q) = %v, want no accounts allowed with the %s on", data, err, name)
			}
		})
	}
}

func TestDefaultsAlone(t *testing.T) {
	cfg, err := Parse("one-account.yaml", []byte(oneAccount), env(map[string]string{"P": "x"}))
	if err != nil {
		t.Fatalf("one account: %v", err)
	}
	if cfg.Store.Path != "mailack.db" || cfg.Tracking.DefaultDeadline != 48*time.Hour || cfg.Slack.Enabled || cfg.Pixel.Enabled {
		t.Errorf("defaults = %+v", cfg)
	}
}

// TestProblems checks every message, with its line, and that all problems
// of a file are reported at once.
func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // "LINE: path: message" fragments, all required
	}{
		{"unknown key", "log:\n  level: info\n  colour: red\n", nil, []string{`:3: unknown key "colour"`}},
		{"misspelt key", "relay:\n  read_reciepts: always\n", nil, []string{`:2: unknown key "read_reciepts" (did you mean "read_receipts"?)`}},
		{"misspelt key in a list", "accounts:\n  - name: a\n    hots: h\n", nil, []string{`:3: unknown key "hots" (did you mean "host"?)`}},
		{"misspelt key in a digest", "slack:\n  digests:\n    - chanel: C1\n", nil, []string{`:3: unknown key "chanel" (did you mean "channel"?)`}},
		{"secret file on its own line", "pixel:\n  enabled: true\n  keys:\n    - id: 1\n      until: \"2027-01-01\"\n      secret_file: /nonexistent/key\n", nil, []string{
			":6: pixel.keys[0]: secret_file: open /nonexistent/key"}},
		{"bad enums", "log:\n  level: loud\n  format: xml\n", nil, []string{
			`:2: log.level: "loud" is not one of debug, info, warn, error`, `:3: log.format: "xml" is not one of text, json`}},
		{"bad duration", "tracking:\n  default_deadline: soon\n", nil, []string{":2: ", "a duration such as 48h"}},
		{"negative deadline", "tracking:\n  default_deadline: -1h\n", nil, []string{":2: tracking.default_deadline: must be a positive duration"}},
		{"business hours", "tracking:\n  business_hours:\n    timezone: Mars/Base\n    days: [mon, funday]\n    start: \"18:00\"\n    end: \"09:00\"\n    holidays: fr\n    closed: [tomorrow]\n", nil, []string{
			`:3: tracking.business_hours.timezone: unknown time zone "Mars/Base"`,
			`:4: tracking.business_hours.days[1]: "funday" is not a weekday`,
			`:6: tracking.business_hours.end: must be after start`,
			`:7: tracking.business_hours.holidays: "fr" is not one of jp, us, none`,
			`:8: tracking.business_hours.closed[0]: "tomorrow" is not a date`}},
		{"idle restart too long", "watch:\n  idle_restart: 30m\n", nil, []string{":2: watch.idle_restart: must be at most 29m"}},
		{"scale limits", "watch:\n  max_concurrent_logins: 0\n  max_connections_per_account: -1\n  since: soon\n", nil, []string{
			":2: watch.max_concurrent_logins: must be at least 1", ":3: watch.max_connections_per_account: must not be negative",
			`:4: "soon" is not a span of time such as 30d or 720h`}},
		{"too few connections", "watch:\n  max_connections_per_account: 2\naccounts:\n  - name: a\n    host: h\n    username: u@example.com\n    password: ${P}\n    report_folders: [INBOX, Receipts]\n    since: -3d\n", map[string]string{"P": "x"}, []string{
			`:2: watch.max_connections_per_account: account "a" watches 3 folders, one connection each, but may open only 2`,
			":9: accounts[0].since: must not be negative"}},
		{"account basics", "accounts:\n  - name: a\n    port: 99999\n    tls: ssl\n  - name: a\n    host: h\n    username: u\n    password: ${P}\n", map[string]string{"P": "x"}, []string{
			":2: accounts[0]: needs password", ":2: accounts[0].host: the IMAP server's host name is required",
			`:3: accounts[0].port: 99999 is not a TCP port`, `:4: accounts[0].tls: "ssl" is not one of implicit, starttls, insecure`,
			":2: accounts[0].username: the login name is required", `:5: accounts[1].name: "a" names two accounts`}},
		{"literal secret", "accounts:\n  - name: a\n    host: h\n    username: u@example.com\n    password: hunter2\n", nil, []string{
			":5: accounts[0]: password: a literal secret is not accepted; write ${ENV_VAR} or use password_file"}},
		{"missing env", "accounts:\n  - name: a\n    host: h\n    username: u@example.com\n    password: ${NOPE}\n", nil, []string{
			":5: accounts[0]: password: environment variable NOPE is not set"}},
		{"missing file", "accounts:\n  - name: a\n    host: h\n    username: u@example.com\n    password_file: /nonexistent/pw\n", nil, []string{
			":5: accounts[0]: password_file: open /nonexistent/pw"}},
		{"both password and oauth2", "accounts:\n  - name: a\n    host: h\n    username: u@example.com\n    password: ${P}\n    oauth2:\n      provider: microsoft\n      flow: client_credentials\n", map[string]string{"P": "x"}, []string{
			":2: accounts[0]: give either password or oauth2, not both"}},
		{"oauth2 fields", "accounts:\n  - name: a\n    host: h\n    username: u@example.com\n    oauth2:\n      provider: google\n      flow: client_credentials\n", nil, []string{
			":5: accounts[0].oauth2.client_id: the application (client) ID is required", "Gmail has no app-only IMAP access", "client_secret: required for client_credentials"}},
		{"slack", "slack:\n  enabled: true\n  mode: http\n  digests:\n    - schedule: every day\n      after: 0s\n", nil, []string{
			":1: slack.bot_token: required when slack is enabled", ":1: slack.signing_secret: http mode needs",
			`:5: slack.digests[0].schedule: "every day" is not a cron expression`, ":5: slack.digests[0].channel: the channel ID is required",
			":6: slack.digests[0].after: must be a positive duration"}},
		{"pixel ranges", "pixel:\n  apple_ranges: [17.0.0.0/8, apple]\n", nil, []string{`:2: pixel.apple_ranges[1]: "apple" is not an address range`}},
		{"pixel", "pixel:\n  enabled: true\n  keys:\n    - id: 300\n      secret: ${K}\n    - id: 1\n      until: someday\n", map[string]string{"K": "short"}, []string{
			"http.public_url: an enabled pixel needs the public URL", ":4: pixel.keys[0].id: 300 is not a key id from 0 to 255",
			":5: pixel.keys[0].secret: must be at least 32 characters", `:7: pixel.keys[1].until: "someday" is not a date`}},
		{"relay", "relay:\n  enabled: true\n  listen: nowhere\n  read_receipts: internal\n", nil, []string{
			":3: relay.listen: must be host:port", "relay.users: the relay requires AUTH", "relay.upstream.addr: the smarthost", "relay.internal_domains: read_receipts: internal needs", "relay.cert_file: TLS needs"}},
		{"relay in clear off loopback", "relay:\n  enabled: true\n  listen: 0.0.0.0:587\n  tls: none\n", nil, []string{
			":4: relay.tls: none sends AUTH PLAIN passwords in clear"}},
		{"short http tokens", "http:\n  admin_token: ${A}\n  metrics_token_file: " + "%s" + "\n", map[string]string{"A": "short"}, []string{
			":2: http.admin_token: must be at least 22 characters", "http.metrics_token: must be at least 22"}},
		{"reports_for", "accounts:\n  - name: a\n    host: h\n    username: u@example.com\n    password: ${P}\n    reports_for: [\"@example.co.jp\", bob@example.co.jp, \"*\", \"@\", example.com, \"Bob <bob@example.com>\", \"@-bad.example\", \"bob@bad_domain\"]\n", map[string]string{"P": "x"}, []string{
			`:6: accounts[0].reports_for[2]: "*" is neither an e-mail address nor @domain`, `accounts[0].reports_for[3]: "@" is neither`,
			`accounts[0].reports_for[4]: "example.com" is neither`, `accounts[0].reports_for[5]: "Bob <bob@example.com>" is neither`,
			`accounts[0].reports_for[6]: "@-bad.example" is neither`, `accounts[0].reports_for[7]: "bob@bad_domain" is neither`}},
		{"not yaml", "log: [unclosed\n", nil, []string{"did not find expected"}},
		{"etcd", "store:\n  etcd:\n    endpoints: [\"etcd1:2379\", \"http://etcd2:2379\"]\n    tls:\n      ca_file: /etc/ca.pem\n      cert_file: /etc/c.pem\n    password: ${P}\n    dial_timeout: -1s\n    lease_ttl: 1500ms\n    node: a/b\n", map[string]string{"P": "x"}, []string{
			`:3: store.etcd.endpoints[0]: "etcd1:2379" is not a URL`, `store.etcd.endpoints[1]: "http://etcd2:2379" is plain http but store.etcd.tls is set`,
			":4: store.etcd.tls: cert_file and key_file go together", "store.etcd.username: must be set with a password",
			"store.etcd.dial_timeout: must not be negative", "store.etcd.lease_ttl: must be whole seconds, at least 2s", "store.etcd.node: must hold no slash"}},
		{"etcd without endpoints", "store:\n  etcd:\n    prefix: m/\n", nil, []string{":2: store.etcd.endpoints: must list the client URLs"}},
		{"etcd password missing", "store:\n  etcd:\n    endpoints: [https://etcd1:2379]\n    username: mailack\n    password_file: /nonexistent/pw\n", nil, []string{
			"store.etcd: password_file: open /nonexistent/pw"}},
	}
	tokenFile := filepath.Join(t.TempDir(), "metrics-token")
	if err := os.WriteFile(tokenFile, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.yaml = strings.ReplaceAll(tc.yaml, "%s", tokenFile)
			_, err := Parse("f.yaml", []byte(tc.yaml), env(tc.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse() = %v, want a *config.Error", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

// TestScaleSettings reads the first-read bound in days or as a duration,
// and the connection caps, with an account's own values over the global.
func TestScaleSettings(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte("watch:\n  since: 30d\n  max_connections_per_account: 3\n  max_concurrent_logins: 4\n"+
		"accounts:\n  - name: a\n    host: h\n    username: a@example.com\n    password: ${P}\n"+
		"  - name: b\n    host: h\n    username: b@example.com\n    password: ${P}\n    since: 36h\n    max_connections: 5\n"+
		"  - name: c\n    host: h\n    username: c@example.com\n    password: ${P}\n    since: 0\n"), env(map[string]string{"P": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Watch.MaxConcurrentLogins != 4 {
		t.Errorf("max_concurrent_logins = %d, want 4", cfg.Watch.MaxConcurrentLogins)
	}
	for i, want := range []struct {
		since time.Duration
		conns int
	}{{30 * 24 * time.Hour, 3}, {36 * time.Hour, 5}, {0, 3}} {
		a := cfg.Accounts[i]
		if got := a.SinceAge(cfg.Watch); got != want.since {
			t.Errorf("account %s: since = %v, want %v", a.Name, got, want.since)
		}
		if got := a.ConnectionCap(cfg.Watch); got != want.conns {
			t.Errorf("account %s: connection cap = %d, want %d", a.Name, got, want.conns)
		}
	}
	if d := Defaults(); d.Watch.Since != 0 || d.Watch.MaxConnectionsPerAccount != 0 || d.Watch.MaxConcurrentLogins != 16 {
		t.Errorf("defaults = %+v, want everything read, no per-account cap and 16 concurrent logins", d.Watch)
	}
}

// A misspelt section is one problem, naming the section it is likely meant
// to be; what it holds is not reported again, nor is it reported missing.
func TestMisspeltSection(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{oneAccount + "stor:\n  path: x.db\n  colour: red\n", `f.yaml:6: unknown key "stor" (did you mean "store"?)`},
		{oneAccount + "rellay:\n  enabled: true\n  listen: nowhere\n", `f.yaml:6: unknown key "rellay" (did you mean "relay"?)`},
		{oneAccount + "colour: red\n", `f.yaml:6: unknown key "colour"`},
		{"a" + strings.Replace(oneAccount, "accounts", "counts", 1), `f.yaml:1: unknown key "acounts" (did you mean "accounts"?)`},
	} {
		_, err := Parse("f.yaml", []byte(tc.yaml), env(map[string]string{"P": "x"}))
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want exactly one problem: %s", tc.yaml, err, tc.want)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(oneAccount+"slack:\n  bot_token: ${T}\n"), env(map[string]string{"P": "x", "T": "xoxb-very-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("cfg", "token", cfg.Slack.BotToken, "slack", cfg.Slack)
	out := b.String() + fmt.Sprintf("%v %+v %s", cfg.Slack.BotToken, cfg.Slack, cfg.Slack.BotToken)
	if strings.Contains(out, "very-secret") {
		t.Errorf("secret printed: %s", out)
	}
	if cfg.Slack.BotToken.Value() != "xoxb-very-secret" {
		t.Error("secret value lost")
	}
}

// TestEtcdStore reads the cluster store's settings, with the password
// from a file, and keeps the bbolt file the default when they are absent.
func TestEtcdStore(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "store:\n  etcd:\n    endpoints: [https://etcd1:2379, https://etcd2:2379]\n    tls: {ca_file: /etc/mailack/ca.pem, cert_file: /etc/mailack/c.pem, key_file: /etc/mailack/c.key}\n" +
		"    username: mailack\n    password_file: " + pw + "\n    prefix: acme/\n" +
		"accounts:\n  - name: a\n    host: imap.example.com\n    username: u@example.com\n    password: ${P}\n"
	cfg, err := Parse("f.yaml", []byte(yaml), env(map[string]string{"P": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Store.Etcd
	if e == nil || len(e.Endpoints) != 2 || e.TLS.KeyFile != "/etc/mailack/c.key" || e.Password.Value() != "s3cret" || e.Prefix != "acme/" {
		t.Errorf("store.etcd = %+v", e)
	}
	if d := Defaults(); d.Store.Etcd != nil || d.Store.Path == "" {
		t.Errorf("default store = %+v, want the bbolt file", d.Store)
	}
}
