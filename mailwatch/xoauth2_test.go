package mailwatch

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2/clientcredentials"
)

func TestXOAuth2ClientMessages(t *testing.T) {
	c := NewXOAuth2Client("alice@example.com", "ya29.token")
	mech, ir, err := c.Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=alice@example.com\x01auth=Bearer ya29.token\x01\x01" {
		t.Fatalf("Start() = %q, %q, %v", mech, ir, err)
	}
	resp, err := c.Next([]byte(`{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`))
	if err != nil || resp == nil || len(resp) != 0 {
		t.Fatalf("Next(error challenge) = %q, %v; want an empty response", resp, err)
	}
	if _, err := c.Next(nil); !errors.Is(err, ErrXOAuth2Rejected) || !strings.Contains(err.Error(), `"status":"400"`) {
		t.Fatalf("second Next = %v; want ErrXOAuth2Rejected with the server's status", err)
	}
	for _, bad := range []sasl.Client{NewXOAuth2Client("", "t"), NewXOAuth2Client("u", ""), NewXOAuth2Client("u\x01", "t")} {
		if _, _, err := bad.Start(); err == nil {
			t.Errorf("Start() with bad input succeeded")
		}
	}
}

// oauthServer is an OAuth 2.0 token endpoint (client credentials grant) that
// issues one access token per request and remembers which are valid.
type oauthServer struct {
	mu     sync.Mutex
	issued map[string]bool
	n      int
}

func (o *oauthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	if id != "app" || secret != "s3cret" || r.Form.Get("scope") != "https://outlook.office365.com/.default" {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	o.mu.Lock()
	o.n++
	tok := "tok-" + strings.Repeat("x", o.n)
	o.issued[tok] = true
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func (o *oauthServer) valid(tok string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.issued[tok]
}

// xoauthSession adds XOAUTH2 to an in-memory IMAP session, checking tokens
// against the token endpoint's list.
type xoauthSession struct {
	imapserver.Session
	user   *imapmemserver.User
	oauth  *oauthServer
	sawAck *bool // the client answered the error challenge
}

func (s *xoauthSession) AuthenticateMechanisms() []string { return []string{XOAuth2} }

func (s *xoauthSession) Authenticate(mech string) (sasl.Server, error) {
	step := 0
	return serverFunc(func(resp []byte) ([]byte, bool, error) {
		step++
		if step == 2 {
			*s.sawAck = len(resp) == 0
			return nil, false, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "invalid token"}
		}
		parts := strings.Split(string(resp), "\x01")
		if len(parts) == 4 && parts[0] == "user=alice@example.com" && strings.HasPrefix(parts[1], "auth=Bearer ") && s.oauth.valid(strings.TrimPrefix(parts[1], "auth=Bearer ")) {
			return nil, true, s.Session.Login("alice@example.com", "pass")
		}
		return []byte(`{"status":"401","schemes":"bearer"}`), false, nil
	}), nil
}

type serverFunc func([]byte) ([]byte, bool, error)

func (f serverFunc) Next(resp []byte) ([]byte, bool, error) { return f(resp) }

func TestXOAuth2AgainstIMAPServer(t *testing.T) {
	oauth := &oauthServer{issued: map[string]bool{}}
	tokenSrv := httptest.NewServer(oauth)
	defer tokenSrv.Close()

	mem := imapmemserver.New()
	u := imapmemserver.NewUser("alice@example.com", "pass")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	var sawAck bool
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &xoauthSession{Session: mem.NewSession(), user: u, oauth: oauth, sawAck: &sawAck}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	dial := func() *imapclient.Client {
		c, err := imapclient.DialInsecure(ln.Addr().String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// The client credentials flow Microsoft 365 app-only access uses.
	cc := clientcredentials.Config{ClientID: "app", ClientSecret: "s3cret", TokenURL: tokenSrv.URL, Scopes: []string{"https://outlook.office365.com/.default"}}
	ctx := context.Background()
	sc, err := xoauth2For(ctx, "alice@example.com", cc.TokenSource(ctx))
	if err != nil {
		t.Fatalf("xoauth2For: %v", err)
	}
	c := dial()
	if !c.Caps().Has(imap.AuthCap(XOAuth2)) {
		t.Fatalf("server caps %v lack AUTH=XOAUTH2", c.Caps())
	}
	if err := c.Authenticate(sc); err != nil {
		t.Fatalf("Authenticate with a valid token: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("SELECT after XOAUTH2: %v", err)
	}

	c2 := dial()
	err = c2.Authenticate(NewXOAuth2Client("alice@example.com", "forged"))
	if err == nil {
		t.Fatal("Authenticate with a forged token succeeded")
	}
	if !sawAck {
		t.Error("client did not answer the error challenge with an empty response")
	}

	bad := clientcredentials.Config{ClientID: "app", ClientSecret: "wrong", TokenURL: tokenSrv.URL, Scopes: []string{"https://outlook.office365.com/.default"}}
	if _, err := xoauth2For(ctx, "alice@example.com", bad.TokenSource(ctx)); err == nil || !strings.Contains(err.Error(), "fetch oauth2 token") {
		t.Errorf("xoauth2For with a bad client secret = %v, want a token fetch error", err)
	}
}
