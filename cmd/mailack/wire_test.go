package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

// TestTokenSources checks the OAuth 2.0 flows against a token endpoint:
// Microsoft 365 app-only access (client credentials with the .default
// scope) and a refresh token (Gmail), each sending what the provider
// expects and yielding the access token.
func TestTokenSources(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, _ := r.BasicAuth()
		mu.Lock()
		got = append(got, map[string]string{"grant": r.Form.Get("grant_type"), "scope": r.Form.Get("scope"),
			"refresh": r.Form.Get("refresh_token"), "id": id + r.Form.Get("client_id"), "secret": secret + r.Form.Get("client_secret")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + r.Form.Get("grant_type"), "token_type": "Bearer", "expires_in": 3600})
	}))
	defer srv.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		o    config.OAuth2
		want map[string]string
	}{
		{"microsoft app-only", config.OAuth2{Provider: "microsoft", Flow: "client_credentials", Tenant: "example.co.jp", ClientID: "app",
			ClientSecret: config.NewSecret("s3cret"), TokenURL: srv.URL},
			map[string]string{"grant": "client_credentials", "scope": "https://outlook.office365.com/.default", "id": "app", "secret": "s3cret"}},
		{"gmail refresh token", config.OAuth2{Provider: "google", Flow: "refresh_token", ClientID: "gid", ClientSecret: config.NewSecret("gsecret"),
			RefreshToken: config.NewSecret("1//rt"), TokenURL: srv.URL},
			map[string]string{"grant": "refresh_token", "refresh": "1//rt", "id": "gid", "secret": "gsecret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tokenSource(ctx, tc.o).Token()
			if err != nil || tok.AccessToken != "at-"+tc.want["grant"] {
				t.Fatalf("Token() = %v, %v", tok, err)
			}
			mu.Lock()
			last := got[len(got)-1]
			mu.Unlock()
			for k, v := range tc.want {
				if last[k] != v {
					t.Errorf("token request %s = %q, want %q", k, last[k], v)
				}
			}
		})
	}
}

// TestSinkUsesSendersDeadline: a mail registered from the Sent folder
// takes the deadline its sender chose in Slack.
func TestSinkUsesSendersDeadline(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	settings := settingsStore{st}
	if err := st.PutSlackUser(ctx, "alice@example.com", store.SlackUser{ID: "UALICE", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := settings.PutSettings(ctx, "UALICE", bot.UserSettings{Deadline: 4 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sink := &storeSink{registrar: &registrar{st: st, defaultAfter: 48 * time.Hour, now: func() time.Time { return now }, metrics: newMetrics(), deadlineOf: settings.deadlineOf}}
	for _, sender := range []string{"alice@example.com", "bob@example.com"} {
		m := track.Mail{MessageID: sender + "-1", Sender: sender, SentAt: now, State: track.StateOpen,
			Recipients: []track.Recipient{{Address: "x@example.org", Status: track.StatusPending, Best: track.StatusPending}}}
		if err := sink.Apply(ctx, mailwatch.Item{Checkpoint: mailwatch.Checkpoint{Account: "a", Folder: "Sent", UIDValidity: 1, LastUID: 1}, Sent: &m}); err != nil {
			t.Fatal(err)
		}
	}
	for sender, want := range map[string]time.Duration{"alice@example.com": 4 * time.Hour, "bob@example.com": 48 * time.Hour} {
		m, err := st.Mail(ctx, sender+"-1")
		if err != nil || !m.DueAt.Equal(now.Add(want)) {
			t.Errorf("%s's mail due %v (%v), want %v", sender, m.DueAt, err, now.Add(want))
		}
	}
}

func TestPixelRules(t *testing.T) {
	rules := pixelRules([]string{"192.0.2.0/24"})
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	hit := trackpixel.Hit{UserAgent: "Mozilla/5.0", Method: "GET", Addr: netip.MustParseAddr("192.0.2.7"), Sent: at.Add(-time.Hour), At: at}
	if v := trackpixel.Classify(hit, rules); v != trackpixel.VerdictMachine {
		t.Errorf("fetch from a configured Apple range = %v, want machine", v)
	}
	hit.Addr = netip.MustParseAddr("198.51.100.7")
	if v := trackpixel.Classify(hit, rules); v == trackpixel.VerdictMachine {
		t.Errorf("fetch from elsewhere = %v, want not machine", v)
	}
}

func TestAccountsTrackPixelMail(t *testing.T) {
	as := accounts(context.Background(), []config.Account{{Name: "a", Host: "imap.example.com", Port: 993, TLS: "implicit", Track: "receipts"}}, config.Watch{}, "https://t.example/o/")
	m, ok, err := mailwatch.SentMail("a", "me@example.com", []byte("From: me@example.com\r\nTo: you@example.org\r\nMessage-ID: <p@example.com>\r\nContent-Type: text/html\r\n\r\n<img src=\"https://t.example/o/tok.gif\">"), as[0].Policy, time.Now())
	if err != nil || !ok || !m.Requested.Pixel {
		t.Errorf("sent mail with mailack's pixel: tracked %v, %+v, %v; want tracked with a pixel", ok, m.Requested, err)
	}
}
