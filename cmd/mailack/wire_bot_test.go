package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/store"
)

// TestSentSearch: /track's search finds a mail in the sender's Sent folder
// on the real IMAP server and starts tracking it with the deadline asked
// for; another person's address finds nothing.
func TestSentSearch(t *testing.T) {
	s := mailstack.Start(t)
	c := s.Login(t, "alice")
	raw := "From: alice@test.example\r\nTo: Bob <bob@test.example>\r\nSubject: Signed contract\r\nDate: Tue, 24 Nov 2026 10:00:00 +0900\r\nMessage-ID: <contract-1@test.example>\r\n\r\nx\r\n"
	cmd := c.Append("Sent Items", int64(len(raw)), &imap.AppendOptions{})
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host := s.IMAPAddr()
	w, err := mailwatch.New([]mailwatch.Account{{Name: "alice", Addr: host, TLS: mailwatch.TLSInsecure, Username: "alice",
		Password: s.Password("alice"), Owner: "alice@test.example"}}, mailwatch.Options{Sink: &storeSink{registrar: &registrar{st: st}}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	ss := sentSearch{w: w, reg: &registrar{st: st, defaultAfter: 48 * time.Hour, now: func() time.Time { return now }}}
	ctx := context.Background()

	found, err := ss.FindSent(ctx, "alice@test.example", "signed contract", 5)
	if err != nil || len(found) != 1 || found[0].MessageID != "contract-1@test.example" || found[0].To[0] != "bob@test.example" {
		t.Fatalf("FindSent = %+v, %v", found, err)
	}
	if none, err := ss.FindSent(ctx, "mallory@test.example", "signed contract", 5); err != nil || len(none) != 0 {
		t.Errorf("FindSent for another person = %v, %v; want nothing", none, err)
	}
	m, err := ss.TrackSent(ctx, "alice@test.example", "contract-1@test.example", 24*time.Hour)
	if err != nil {
		t.Fatalf("TrackSent: %v", err)
	}
	stored, err := st.Mail(ctx, "contract-1@test.example")
	if err != nil || stored.Deadline != 24*time.Hour || m.MessageID != stored.MessageID || stored.DueAt.IsZero() {
		t.Errorf("stored mail = %+v, %v; want it tracked with a 24h deadline", stored, err)
	}
	if _, err := ss.TrackSent(ctx, "alice@test.example", "nope@test.example", 0); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("TrackSent of an unknown mail = %v, want bot.ErrNotFound", err)
	}
}

// The cards link to Outlook on the web or Gmail for the mailboxes whose
// provider the configuration shows, and to nothing for the others.
func TestWebmailOf(t *testing.T) {
	got := webmailOf([]config.Account{
		{Username: "Taro@Example.JP", Host: "outlook.office365.com"},
		{Username: "svc", Owner: "hanako@example.jp", Host: "imap.example.jp", OAuth2: &config.OAuth2{Provider: "google"}},
		{Username: "ichiro@example.jp", Host: "imap.example.jp"},
	})
	want := map[string]bot.Webmail{"taro@example.jp": bot.WebmailOutlook, "hanako@example.jp": bot.WebmailGmail}
	if len(got) != len(want) || got["taro@example.jp"] != want["taro@example.jp"] || got["hanako@example.jp"] != want["hanako@example.jp"] {
		t.Errorf("webmailOf = %v, want %v", got, want)
	}
	if err := (func() error {
		c := bot.Defaults()
		c.Webmail = got
		c.Mode = bot.ModeHTTP
		c.SigningSecret = "s"
		c.BotToken = "xoxb-1"
		return c.Validate()
	})(); err != nil {
		t.Errorf("bot config with the webmail map: %v", err)
	}
}

// App Home's welcome learns from the configuration how mail gets tracked:
// the mailboxes and their policy, who may use the relay, and whether it
// adds the pixel.
func TestSetupOf(t *testing.T) {
	c := config.Config{
		Accounts: []config.Account{
			{Username: "Taro@Example.JP", Track: "all"},
			{Username: "svc", Owner: "hanako@example.jp", Track: "receipts", TrackingAddress: "track@example.jp"},
		},
		Relay: config.Relay{Enabled: true, Users: []config.RelayUser{
			{Name: "ichiro@example.jp"},
			{Name: "m365-connector", Senders: []string{"@example.co.jp", "boss@example.com"}},
		}},
		Pixel: config.Pixel{Enabled: true, OptOut: []string{"boss@example.com"}},
	}
	got := setupOf(c)
	want := &bot.Setup{
		Mailboxes: []bot.Mailbox{{Owner: "taro@example.jp", All: true}, {Owner: "hanako@example.jp", TrackingAddress: "track@example.jp"}},
		Relay:     true, RelaySenders: []string{"ichiro@example.jp", "@example.co.jp", "boss@example.com"},
		Pixel: true, PixelOptOut: []string{"boss@example.com"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("setupOf = %+v, want %+v", got, want)
	}
	c.Relay.Enabled = false
	if got := setupOf(c); got.Relay || got.Pixel || len(got.RelaySenders) != 0 {
		t.Errorf("setupOf without the relay = %+v, want no relay and no pixel (only the relay adds it)", got)
	}
}

// The daemon keeps each user's settings in the store, App Home's tab and
// page among them, so a restart opens App Home where the user left it.
func TestSettingsStoreKeepsHomeAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailack.db")
	want := bot.UserSettings{Language: bot.Japanese, Welcomed: true, Home: bot.HomeView{Tab: "closed", Page: 2}}
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := (settingsStore{st}).PutSettings(t.Context(), "U1", want); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := settingsStore{st}.Settings(t.Context(), "U1")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("settings after reopening the store = %+v, %v; want %+v", got, err, want)
	}
}
