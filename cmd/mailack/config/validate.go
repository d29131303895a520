package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// validator collects problems with their lines.
type validator struct {
	lines    map[string]int
	problems []Problem
	// meant holds the known keys that unknown keys were likely meant to
	// be, so that a misspelt section is reported once, not again as
	// missing.
	meant map[string]bool
}

// add records a problem at path, placed at the line of path or of its
// nearest parent present in the file.
func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: v.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) line(path string) int {
	for p := path; p != ""; {
		if l, ok := v.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (v *validator) oneOf(path, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.add(path, "%q is not one of %s", got, strings.Join(allowed, ", "))
	}
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be a positive duration such as 48h")
	}
}

// secret resolves the secret at path. A secret of a feature turned off
// (needed false) is resolved when it can be, and only a literal value or
// a double reference is reported: a disabled feature never requires its
// secrets.
func (v *validator) secret(path string, s *Secret, file string, getenv func(string) string, needed bool) {
	key := path[strings.LastIndexAny(path, ".")+1:]
	p, bad := s.resolve(key, file, getenv)
	if !bad || p.missing && !needed {
		return
	}
	line := v.line(path)
	if p.inFile {
		line = v.line(path + "_file")
	}
	v.problems = append(v.problems, Problem{Line: line, Path: path[:max(0, strings.LastIndex(path, "."))], Msg: p.msg})
}

// resolveSecrets fills every secret of cfg.
func (v *validator) resolveSecrets(c *Config, getenv func(string) string) {
	for i := range c.Accounts {
		a := &c.Accounts[i]
		p := fmt.Sprintf("accounts[%d]", i)
		v.secret(p+".password", &a.Password, a.PasswordFile, getenv, true)
		if o := a.OAuth2; o != nil {
			v.secret(p+".oauth2.client_secret", &o.ClientSecret, o.ClientSecretFile, getenv, true)
			v.secret(p+".oauth2.refresh_token", &o.RefreshToken, o.RefreshTokenFile, getenv, true)
		}
	}
	slack := c.Slack.Enabled
	v.secret("slack.bot_token", &c.Slack.BotToken, c.Slack.BotTokenFile, getenv, slack)
	v.secret("slack.app_token", &c.Slack.AppToken, c.Slack.AppTokenFile, getenv, slack && c.Slack.Mode == "socket")
	v.secret("slack.signing_secret", &c.Slack.SigningSecret, c.Slack.SigningSecretFile, getenv, slack && c.Slack.Mode == "http")
	for i := range c.Pixel.Keys {
		k := &c.Pixel.Keys[i]
		v.secret(fmt.Sprintf("pixel.keys[%d].secret", i), &k.Secret, k.SecretFile, getenv, c.Pixel.Enabled)
	}
	for i := range c.Relay.Users {
		u := &c.Relay.Users[i]
		v.secret(fmt.Sprintf("relay.users[%d].password", i), &u.Password, u.PasswordFile, getenv, c.Relay.Enabled)
	}
	v.secret("relay.upstream.password", &c.Relay.Upstream.Password, c.Relay.Upstream.PasswordFile, getenv, c.Relay.Enabled)
	v.secret("http.admin_token", &c.HTTP.AdminToken, c.HTTP.AdminTokenFile, getenv, false)
	v.secret("http.metrics_token", &c.HTTP.MetricsToken, c.HTTP.MetricsTokenFile, getenv, false)
	if e := c.Store.Etcd; e != nil {
		v.secret("store.etcd.password", &e.Password, e.PasswordFile, getenv, e.Username != "")
	}
}

// validate checks the values of cfg.
func (v *validator) validate(c *Config) {
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	if c.Store.Etcd != nil {
		v.etcd(c.Store.Etcd)
	} else if c.Store.Path == "" {
		v.add("store.path", "must name the database file")
	}
	v.positive("tracking.default_deadline", c.Tracking.DefaultDeadline)
	v.positive("tracking.sweep_interval", c.Tracking.SweepInterval)
	v.oneOf("tracking.locale", c.Tracking.Locale, "en", "ja")
	v.businessHours(c.Tracking.BusinessHours)
	v.positive("watch.command_timeout", c.Watch.CommandTimeout)
	v.positive("watch.idle_restart", c.Watch.IdleRestart)
	if c.Watch.IdleRestart > 29*time.Minute {
		v.add("watch.idle_restart", "must be at most 29m: servers may drop a client idle for 30 minutes")
	}
	if c.Watch.MaxMessageBytes < 64<<10 {
		v.add("watch.max_message_bytes", "must be at least 65536")
	}
	if c.Watch.MaxConcurrentLogins < 1 {
		v.add("watch.max_concurrent_logins", "must be at least 1")
	}
	if c.Watch.MaxConnectionsPerAccount < 0 {
		v.add("watch.max_connections_per_account", "must not be negative (0 sets no cap)")
	}
	if c.Watch.Since < 0 {
		v.add("watch.since", "must not be negative (0 reads all mail)")
	}
	if len(c.Accounts) == 0 && !c.Relay.Enabled && !c.Pixel.Enabled && !v.meant["accounts"] {
		v.problems = append(v.problems, Problem{Line: v.line("accounts"),
			Msg: "no accounts: list at least one mailbox to watch (or enable the relay or the pixel); configs/mailack.yaml shows how"})
	}
	names := map[string]bool{}
	for i := range c.Accounts {
		v.account(fmt.Sprintf("accounts[%d]", i), &c.Accounts[i], names)
	}
	v.connections(c)
	v.slack(&c.Slack)
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		v.add("http.listen", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.add("http.public_url", "must be an http(s) URL")
		}
	}
	for _, tok := range []struct {
		path string
		s    Secret
	}{{"http.admin_token", c.HTTP.AdminToken}, {"http.metrics_token", c.HTTP.MetricsToken}} {
		if tok.s.IsSet() && len(tok.s.Value()) < MinTokenLen {
			v.add(tok.path, "must be at least %d characters (e.g. openssl rand -base64 32)", MinTokenLen)
		}
	}
	v.pixel(c)
	v.relay(&c.Relay)
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (v *validator) businessHours(b BusinessHours) {
	const p = "tracking.business_hours"
	if _, err := time.LoadLocation(b.Timezone); err != nil {
		v.add(p+".timezone", "unknown time zone %q (use an IANA name such as Asia/Tokyo)", b.Timezone)
	}
	for i, d := range b.Days {
		if !slices.Contains(weekdays, strings.ToLower(d)) {
			v.add(fmt.Sprintf("%s.days[%d]", p, i), "%q is not a weekday (mon ... sun)", d)
		}
	}
	start, err1 := time.Parse("15:04", b.Start)
	end, err2 := time.Parse("15:04", b.End)
	switch {
	case err1 != nil:
		v.add(p+".start", "must be a time of day as HH:MM")
	case err2 != nil:
		v.add(p+".end", "must be a time of day as HH:MM")
	case !end.After(start):
		v.add(p+".end", "must be after start")
	}
	v.oneOf(p+".holidays", b.Holidays, "jp", "us", "none")
	for i, d := range b.Closed {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			v.add(fmt.Sprintf("%s.closed[%d]", p, i), "%q is not a date as YYYY-MM-DD", d)
		}
	}
}

func (v *validator) account(p string, a *Account, names map[string]bool) {
	switch {
	case a.Name == "":
		v.add(p+".name", "every account needs a name")
	case names[a.Name]:
		v.add(p+".name", "%q names two accounts", a.Name)
	}
	names[a.Name] = true
	if a.Host == "" {
		v.add(p+".host", "the IMAP server's host name is required")
	}
	if a.Port < 1 || a.Port > 65535 {
		v.add(p+".port", "%d is not a TCP port", a.Port)
	}
	v.oneOf(p+".tls", a.TLS, "implicit", "starttls", "insecure")
	if a.Username == "" {
		v.add(p+".username", "the login name is required")
	}
	if _, err := mail.ParseAddress(a.Owner); err != nil {
		v.add(p+".owner", "%q is not an e-mail address (it defaults to the username)", a.Owner)
	}
	hasPassword := a.Password.ref != "" || a.PasswordFile != "" || a.Password.literal
	switch {
	case hasPassword && a.OAuth2 != nil:
		v.add(p, "give either password or oauth2, not both")
	case !hasPassword && a.OAuth2 == nil:
		v.add(p, "needs password (${ENV_VAR} or password_file) or oauth2")
	case a.OAuth2 != nil:
		v.oauth2(p+".oauth2", a.OAuth2)
	}
	v.oneOf(p+".track", a.Track, "receipts", "all")
	if a.PollInterval < 0 {
		v.add(p+".poll_interval", "must not be negative")
	}
	if a.MoveReportsTo != "" && a.FlagReports {
		v.add(p+".flag_reports", "give either move_reports_to or flag_reports, not both")
	}
	for i, s := range a.ReportsFor {
		if !senderPattern(s) {
			v.add(fmt.Sprintf("%s.reports_for[%d]", p, i), "%q is neither an e-mail address nor @domain (such as @example.co.jp)", s)
		}
	}
	if a.Since != nil && *a.Since < 0 {
		v.add(p+".since", "must not be negative (0 reads all mail)")
	}
	if a.MaxConnections < 0 {
		v.add(p+".max_connections", "must not be negative (0 takes watch.max_connections_per_account)")
	}
}

// connections checks that every account may open a connection for each
// folder it watches: one per report folder and one for Sent.
func (v *validator) connections(c *Config) {
	for i, a := range c.Accounts {
		n := a.ConnectionCap(c.Watch)
		if need := 1 + len(a.ReportFolders); n > 0 && n < need {
			path := fmt.Sprintf("accounts[%d].max_connections", i)
			if a.MaxConnections == 0 {
				path = "watch.max_connections_per_account"
			}
			v.add(path, "account %q watches %d folders, one connection each, but may open only %d (allow one more for searches from Slack)", a.Name, need, n)
		}
	}
}

// senderPattern reports whether s is a bare e-mail address or "@domain".
func senderPattern(s string) bool {
	if domain, ok := strings.CutPrefix(s, "@"); ok {
		return validDomain(domain)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || !strings.EqualFold(a.Address, s) {
		return false
	}
	return validDomain(s[strings.LastIndexByte(s, '@')+1:])
}

// validDomain reports whether d is a DNS name: dot-separated labels of
// letters, digits and inner hyphens (RFC 1035 section 2.3.1).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func (v *validator) oauth2(p string, o *OAuth2) {
	v.oneOf(p+".provider", o.Provider, "microsoft", "google")
	v.oneOf(p+".flow", o.Flow, "client_credentials", "refresh_token")
	if o.ClientID == "" {
		v.add(p+".client_id", "the application (client) ID is required")
	}
	switch o.Flow {
	case "client_credentials":
		if o.Provider == "google" {
			v.add(p+".flow", "Gmail has no app-only IMAP access: use refresh_token")
		}
		if o.Tenant == "" && o.TokenURL == "" {
			v.add(p+".tenant", "the Microsoft 365 tenant ID or domain is required")
		}
		if !o.ClientSecret.IsSet() && o.ClientSecretFile == "" && !o.ClientSecret.literal {
			v.add(p+".client_secret", "required for client_credentials")
		}
	case "refresh_token":
		if !o.RefreshToken.IsSet() && o.RefreshTokenFile == "" && !o.RefreshToken.literal {
			v.add(p+".refresh_token", "required for the refresh_token flow")
		}
	}
}

func (v *validator) slack(s *Slack) {
	v.oneOf("slack.mode", s.Mode, "socket", "http")
	if !s.Enabled {
		return
	}
	if !s.BotToken.IsSet() && s.BotTokenFile == "" {
		v.add("slack.bot_token", "required when slack is enabled (xoxb-...)")
	}
	if s.Mode == "socket" && !s.AppToken.IsSet() && s.AppTokenFile == "" {
		v.add("slack.app_token", "socket mode needs an app-level token (xapp-...) with connections:write")
	}
	if s.Mode == "http" && !s.SigningSecret.IsSet() && s.SigningSecretFile == "" {
		v.add("slack.signing_secret", "http mode needs the app's signing secret")
	}
	if s.APIURL != "" {
		if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.HasSuffix(s.APIURL, "/") {
			v.add("slack.api_url", "must be an http(s) URL ending in /")
		}
	}
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for i, d := range s.Digests {
		p := fmt.Sprintf("slack.digests[%d]", i)
		if d.Channel == "" {
			v.add(p+".channel", "the channel ID is required")
		}
		if _, err := parser.Parse(d.Schedule); err != nil {
			v.add(p+".schedule", "%q is not a cron expression (minute hour day month weekday): %v", d.Schedule, err)
		}
		if d.Timezone != "" {
			if _, err := time.LoadLocation(d.Timezone); err != nil {
				v.add(p+".timezone", "unknown time zone %q", d.Timezone)
			}
		}
		v.positive(p+".after", d.After)
	}
}

func (v *validator) pixel(c *Config) {
	for i, r := range c.Pixel.AppleRanges {
		if _, err := netip.ParsePrefix(r); err != nil {
			v.add(fmt.Sprintf("pixel.apple_ranges[%d]", i), "%q is not an address range such as 17.0.0.0/8", r)
		}
	}
	if !c.Pixel.Enabled {
		return
	}
	if len(c.Pixel.Keys) == 0 {
		v.add("pixel.keys", "an enabled pixel needs at least one key")
	}
	if c.HTTP.PublicURL == "" {
		v.add("http.public_url", "an enabled pixel needs the public URL recipients' mail clients fetch it from")
	}
	ids := map[int]bool{}
	for i, k := range c.Pixel.Keys {
		p := fmt.Sprintf("pixel.keys[%d]", i)
		switch {
		case k.ID < 0 || k.ID > 255:
			v.add(p+".id", "%d is not a key id from 0 to 255", k.ID)
		case ids[k.ID]:
			v.add(p+".id", "%d is used by two keys", k.ID)
		}
		ids[k.ID] = true
		if k.Secret.IsSet() && len(k.Secret.Value()) < 32 {
			v.add(p+".secret", "must be at least 32 characters")
		}
		if k.Until != "" {
			if _, err := time.Parse("2006-01-02", k.Until); err != nil {
				v.add(p+".until", "%q is not a date as YYYY-MM-DD", k.Until)
			}
		}
	}
}

func (v *validator) relay(r *Relay) {
	if !r.Enabled {
		return
	}
	if _, _, err := net.SplitHostPort(r.Listen); err != nil {
		v.add("relay.listen", "must be host:port, e.g. 0.0.0.0:587")
	}
	v.oneOf("relay.tls", r.TLS, "starttls", "implicit", "none")
	if r.TLS == "none" && !loopbackListen(r.Listen) {
		v.add("relay.tls", "none sends AUTH PLAIN passwords in clear: allowed only on a loopback listen address (127.0.0.1, ::1, localhost)")
	}
	if r.TLS != "none" && (r.CertFile == "" || r.KeyFile == "") {
		v.add("relay.cert_file", "TLS needs cert_file and key_file")
	}
	if len(r.Users) == 0 {
		v.add("relay.users", "the relay requires AUTH: give at least one user")
	}
	if r.Upstream.Addr == "" {
		v.add("relay.upstream.addr", "the smarthost host:port is required")
	}
	v.oneOf("relay.upstream.tls", r.Upstream.TLS, "starttls", "implicit", "none")
	v.oneOf("relay.read_receipts", r.ReadReceipts, "never", "always", "internal")
	if r.ReadReceipts == "internal" && len(r.InternalDomains) == 0 {
		v.add("relay.internal_domains", "read_receipts: internal needs the list of internal domains")
	}
}

// loopbackListen reports whether a host:port listens on loopback only.
func loopbackListen(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// etcd checks the store's etcd cluster settings.
func (v *validator) etcd(e *Etcd) {
	if len(e.Endpoints) == 0 {
		v.add("store.etcd.endpoints", "must list the client URLs of the etcd members, such as https://etcd1:2379")
	}
	tls := e.TLS.CAFile != "" || e.TLS.CertFile != ""
	for i, ep := range e.Endpoints {
		path := fmt.Sprintf("store.etcd.endpoints[%d]", i)
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" || u.Path != "" && u.Path != "/" {
			v.add(path, "%q is not a URL such as https://etcd1:2379", ep)
			continue
		}
		if u.Scheme == "http" && tls {
			v.add(path, "%q is plain http but store.etcd.tls is set: use https", ep)
		}
	}
	if (e.TLS.CertFile == "") != (e.TLS.KeyFile == "") {
		v.add("store.etcd.tls", "cert_file and key_file go together")
	}
	if e.Username == "" && (e.Password.IsSet() || e.PasswordFile != "") {
		v.add("store.etcd.username", "must be set with a password")
	}
	if strings.ContainsRune(e.Prefix, 0) {
		v.add("store.etcd.prefix", "must not hold a NUL byte")
	}
	if e.DialTimeout < 0 {
		v.add("store.etcd.dial_timeout", "must not be negative")
	}
	if e.LeaseTTL != 0 && (e.LeaseTTL < 2*time.Second || e.LeaseTTL%time.Second != 0) {
		v.add("store.etcd.lease_ttl", "must be whole seconds, at least 2s (etcd's shortest lease)")
	}
	if strings.ContainsAny(e.Node, "/\x00") {
		v.add("store.etcd.node", "must hold no slash")
	}
}
