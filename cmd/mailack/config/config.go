// Package config reads mailack's configuration: one YAML file laid over the
// defaults in Defaults. Load reports every problem at once — unknown keys,
// bad values, missing secrets — each with the file, the line and what is
// expected. Secrets are never written in the file: they come from
// environment variables (*_env) or files (*_file) and are held as Secret,
// which never prints its value.
package config

import (
	"time"
)

// Config is the whole configuration.
type Config struct {
	Log      Log       `yaml:"log"`
	Store    Store     `yaml:"store"`
	Tracking Tracking  `yaml:"tracking"`
	Watch    Watch     `yaml:"watch"`
	Accounts []Account `yaml:"accounts"`
	Slack    Slack     `yaml:"slack"`
	HTTP     HTTP      `yaml:"http"`
	Pixel    Pixel     `yaml:"pixel"`
	Relay    Relay     `yaml:"relay"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Store configures the bbolt database.
type Store struct {
	Path string `yaml:"path"`
	// Retention purges done and stopped mails closed longer ago than this;
	// 0 keeps them forever.
	Retention time.Duration `yaml:"retention"`
	// OrphanMaxAge drops reports for mail never seen after this long.
	OrphanMaxAge time.Duration `yaml:"orphan_max_age"`
	// Etcd, when set, keeps the store in an etcd cluster instead of the
	// file at Path (cluster mode).
	Etcd *Etcd `yaml:"etcd"`
}

// Etcd configures the store on an etcd cluster.
type Etcd struct {
	// Endpoints are the client URLs of the members, such as
	// https://etcd1:2379.
	Endpoints []string `yaml:"endpoints"`
	TLS       EtcdTLS  `yaml:"tls"`
	Username  string   `yaml:"username"`
	Password  Secret   `yaml:"password"`
	// PasswordFile holds the password; use it or password, not both.
	PasswordFile string `yaml:"password_file"`
	// Prefix starts every key of the store; default "mailack/".
	Prefix string `yaml:"prefix"`
	// DialTimeout bounds the connection to the cluster; default 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Node names this daemon among those sharing the prefix; default the
	// host name. Each must be unique.
	Node string `yaml:"node"`
	// LeaseTTL is how long after a daemon stopped, or lost the cluster,
	// the other nodes take its mailboxes and its lead over; default 10s,
	// at least 2s, whole seconds.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// EtcdTLS configures TLS to the etcd members: the CA that signed their
// certificates and, for client certificate authentication, the client's
// certificate and key.
type EtcdTLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Tracking configures the deadlines and the language.
type Tracking struct {
	// DefaultDeadline is "no response after" when a mail sets none.
	DefaultDeadline time.Duration `yaml:"default_deadline"`
	// Locale is the default language of messages: en or ja.
	Locale        string        `yaml:"locale"`
	BusinessHours BusinessHours `yaml:"business_hours"`
	// SweepInterval is how often deadlines are checked.
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// BusinessHours makes deadlines count working time only.
type BusinessHours struct {
	Enabled  bool     `yaml:"enabled"`
	Timezone string   `yaml:"timezone"`
	Days     []string `yaml:"days"`     // mon ... sun
	Start    string   `yaml:"start"`    // HH:MM
	End      string   `yaml:"end"`      // HH:MM
	Holidays string   `yaml:"holidays"` // jp, us or none
	Closed   []string `yaml:"closed"`   // extra closed days, YYYY-MM-DD
}

// Watch tunes the IMAP watcher.
type Watch struct {
	CommandTimeout  time.Duration `yaml:"command_timeout"`
	IdleRestart     time.Duration `yaml:"idle_restart"`
	MaxMessageBytes int64         `yaml:"max_message_bytes"`
	// MaxConcurrentLogins caps the connections being opened and logged in
	// at once, over all accounts.
	MaxConcurrentLogins int `yaml:"max_concurrent_logins"`
	// MaxConnectionsPerAccount caps the connections open to one mailbox;
	// 0 sets no cap. An account's max_connections overrides it.
	MaxConnectionsPerAccount int `yaml:"max_connections_per_account"`
	// Since bounds the first read of each folder to mail this recent; 0
	// reads everything. An account's since overrides it.
	Since Age `yaml:"since"`
}

// Account is one mailbox to watch.
type Account struct {
	Name     string `yaml:"name"`
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	TLS      string `yaml:"tls"` // implicit, starttls, insecure
	Username string `yaml:"username"`
	Owner    string `yaml:"owner"`
	// Password authenticates with LOGIN; OAuth2 with XOAUTH2 instead.
	Password     Secret  `yaml:"password"`
	PasswordFile string  `yaml:"password_file"`
	OAuth2       *OAuth2 `yaml:"oauth2"`

	SentFolder      string        `yaml:"sent_folder"`
	ReportFolders   []string      `yaml:"report_folders"`
	Track           string        `yaml:"track"` // receipts or all
	TrackingAddress string        `yaml:"tracking_address"`
	PollInterval    time.Duration `yaml:"poll_interval"`
	MoveReportsTo   string        `yaml:"move_reports_to"`
	FlagReports     bool          `yaml:"flag_reports"`
	// ReportsFor makes the mailbox a shared report mailbox: the reports
	// found in it may also update mail sent by these addresses, or by any
	// address of an "@domain". A mailbox's reports always count for its
	// owner's mail, and for no one else's unless listed here.
	ReportsFor []string `yaml:"reports_for"`
	// MaxConnections overrides watch.max_connections_per_account.
	MaxConnections int `yaml:"max_connections"`
	// Since overrides watch.since for this account.
	Since *Age `yaml:"since"`
}

// OAuth2 configures XOAUTH2 for Microsoft 365 or Gmail.
type OAuth2 struct {
	Provider         string `yaml:"provider"` // microsoft or google
	Flow             string `yaml:"flow"`     // client_credentials or refresh_token
	Tenant           string `yaml:"tenant"`
	ClientID         string `yaml:"client_id"`
	ClientSecret     Secret `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	RefreshToken     Secret `yaml:"refresh_token"`
	RefreshTokenFile string `yaml:"refresh_token_file"`
	// TokenURL overrides the provider's token endpoint.
	TokenURL string `yaml:"token_url"`
}

// Slack configures the bot.
type Slack struct {
	Enabled           bool              `yaml:"enabled"`
	Mode              string            `yaml:"mode"` // socket or http
	BotToken          Secret            `yaml:"bot_token"`
	BotTokenFile      string            `yaml:"bot_token_file"`
	AppToken          Secret            `yaml:"app_token"`
	AppTokenFile      string            `yaml:"app_token_file"`
	SigningSecret     Secret            `yaml:"signing_secret"`
	SigningSecretFile string            `yaml:"signing_secret_file"`
	Admins            []string          `yaml:"admins"`
	Users             map[string]string `yaml:"users"` // e-mail → Slack user ID overrides
	Digests           []Digest          `yaml:"digests"`
	// BounceAlerts post the bounces of a team's senders to its channel.
	BounceAlerts []BounceAlert `yaml:"bounce_alerts"`
	// APIURL overrides the Web API base URL (a proxy, or a local endpoint
	// in tests); Slack's own by default.
	APIURL string `yaml:"api_url"`
}

// Digest is a scheduled channel digest of unconfirmed mail.
type Digest struct {
	Channel        string        `yaml:"channel"`
	Schedule       string        `yaml:"schedule"` // cron expression
	Timezone       string        `yaml:"timezone"`
	After          time.Duration `yaml:"after"`
	RedactSubjects bool          `yaml:"redact_subjects"`
}

// BounceAlert posts every bounce of mail from Senders (addresses, or
// "@domain" for a whole domain) to Channel, the reason in plain words and
// what to do, naming the sender without mentioning them.
type BounceAlert struct {
	Channel        string   `yaml:"channel"`
	Senders        []string `yaml:"senders"`
	RedactSubjects bool     `yaml:"redact_subjects"`
}

// HTTP configures the listener for the pixel, health, metrics and Slack's
// HTTP mode.
type HTTP struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	// AdminToken is the bearer token for /backup and /export (used by
	// `mailack backup` and `mailack export` while the daemon runs) and for
	// the details of /readyz. Without it those endpoints are refused.
	AdminToken     Secret `yaml:"admin_token"`
	AdminTokenFile string `yaml:"admin_token_file"`
	// MetricsToken is the bearer token (or basic-auth password) for
	// /metrics; the admin token works there too. Without either, /metrics
	// is refused.
	MetricsToken     Secret `yaml:"metrics_token"`
	MetricsTokenFile string `yaml:"metrics_token_file"`
}

// MinTokenLen is the shortest admin or metrics token accepted: 128 bits
// of base64 or hex.
const MinTokenLen = 22

// Pixel configures open tracking. It is off unless enabled.
type Pixel struct {
	Enabled         bool       `yaml:"enabled"`
	Keys            []PixelKey `yaml:"keys"`
	StoreClientAddr bool       `yaml:"store_client_addr"`
	OptOut          []string   `yaml:"opt_out"`
	// AppleRanges are the address ranges Apple Mail Privacy Protection
	// prefetches images from (Apple publishes them); fetches from there
	// with its bare user agent count as machine opens. A small example
	// list by default.
	AppleRanges []string `yaml:"apple_ranges"`
}

// PixelKey is one token key. The first key mints; the others still
// verify tokens minted before a rotation, until their Until date.
type PixelKey struct {
	ID         int    `yaml:"id"` // 0-255, carried in every token
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	Until      string `yaml:"until"` // YYYY-MM-DD; for previous keys
}

// Relay configures the tracking SMTP submission relay.
type Relay struct {
	Enabled         bool        `yaml:"enabled"`
	Listen          string      `yaml:"listen"`
	TLS             string      `yaml:"tls"` // starttls, implicit, none
	CertFile        string      `yaml:"cert_file"`
	KeyFile         string      `yaml:"key_file"`
	Users           []RelayUser `yaml:"users"`
	Upstream        Upstream    `yaml:"upstream"`
	ReadReceipts    string      `yaml:"read_receipts"` // never, always, internal
	InternalDomains []string    `yaml:"internal_domains"`
	// Hostname is the relay's name in its SMTP greeting and in the
	// Message-IDs it adds; the host name by default.
	Hostname string `yaml:"hostname"`
	// PixelPerRecipient sends one copy per recipient, each with its own
	// pixel, so an open names its reader; one shared pixel by default.
	PixelPerRecipient bool `yaml:"pixel_per_recipient"`
}

// RelayUser is a login of the relay.
type RelayUser struct {
	Name         string `yaml:"name"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// Senders are the addresses the user may send as: addresses, or
	// "@domain" for a whole domain (an outbound connector); the user
	// name itself when left out.
	Senders []string `yaml:"senders"`
}

// Upstream is the smarthost the relay hands mail to.
type Upstream struct {
	Addr         string `yaml:"addr"`
	TLS          string `yaml:"tls"` // starttls, implicit, none
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// Defaults returns the configuration used where the file says nothing.
func Defaults() Config {
	return Config{
		Log:   Log{Level: "info", Format: "text"},
		Store: Store{Path: "mailack.db", Retention: 90 * 24 * time.Hour, OrphanMaxAge: 30 * 24 * time.Hour},
		Tracking: Tracking{
			DefaultDeadline: 48 * time.Hour,
			Locale:          "en",
			SweepInterval:   time.Minute,
			BusinessHours: BusinessHours{
				Timezone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri"},
				Start: "09:00", End: "18:00", Holidays: "none",
			},
		},
		Watch: Watch{CommandTimeout: time.Minute, IdleRestart: 10 * time.Minute, MaxMessageBytes: 10 << 20,
			MaxConcurrentLogins: 16},
		Slack: Slack{Mode: "socket"},
		HTTP:  HTTP{Listen: "127.0.0.1:8080"},
		Relay: Relay{TLS: "starttls", ReadReceipts: "internal", Upstream: Upstream{TLS: "starttls"}},
	}
}

// accountDefaults fills the per-account defaults.
func (a *Account) setDefaults() {
	if a.TLS == "" {
		a.TLS = "implicit"
	}
	if a.Port == 0 {
		a.Port = map[string]int{"implicit": 993, "starttls": 143, "insecure": 143}[a.TLS]
	}
	if a.Owner == "" {
		a.Owner = a.Username
	}
	if a.Track == "" {
		a.Track = "receipts"
	}
	if len(a.ReportFolders) == 0 {
		a.ReportFolders = []string{"INBOX"}
	}
}
