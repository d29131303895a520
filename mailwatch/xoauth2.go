package mailwatch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
)

// XOAuth2 is the SASL mechanism Microsoft 365 and Gmail use for OAuth 2.0
// bearer tokens over IMAP and SMTP. go-sasl implements only the standard
// OAUTHBEARER (RFC 7628), which neither provider offers for IMAP.
const XOAuth2 = "XOAUTH2"

// ErrXOAuth2Rejected is returned when the server rejects the token; the
// error text carries the server's JSON status.
var ErrXOAuth2Rejected = errors.New("xoauth2: token rejected")

// xoauth2Client is a sasl.Client for XOAUTH2. The initial response is
// "user=" user "\x01auth=Bearer " token "\x01\x01". A server that rejects
// the token sends a JSON challenge describing the error; the client answers
// it with an empty response, as the protocol requires, and the server then
// fails the command.
type xoauth2Client struct {
	user, token string
	failure     string // the server's error challenge, once received
}

// NewXOAuth2Client returns a SASL client that authenticates user with an
// OAuth 2.0 access token.
func NewXOAuth2Client(user, token string) sasl.Client {
	return &xoauth2Client{user: user, token: token}
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	if c.user == "" || c.token == "" {
		return "", nil, errors.New("xoauth2: user and token are required")
	}
	if strings.ContainsAny(c.user, "\x01") || strings.ContainsAny(c.token, "\x01") {
		return "", nil, errors.New("xoauth2: user or token contains a control character")
	}
	return XOAuth2, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	if c.failure != "" {
		return nil, fmt.Errorf("%w: %s", ErrXOAuth2Rejected, c.failure)
	}
	c.failure = string(challenge)
	if c.failure == "" {
		c.failure = "no details"
	}
	return []byte{}, nil
}

// TokenSource yields OAuth 2.0 access tokens for a mailbox. It is satisfied
// by golang.org/x/oauth2 token sources, which cache and refresh the token.
type TokenSource = oauth2.TokenSource

// xoauth2For fetches a fresh token from ts and returns the SASL client for
// it. The token source refreshes an expired token itself.
func xoauth2For(ctx context.Context, user string, ts TokenSource) (sasl.Client, error) {
	if ts == nil {
		return nil, errors.New("xoauth2: no token source")
	}
	done := make(chan struct{})
	var (
		tok *oauth2.Token
		err error
	)
	go func() {
		defer close(done)
		tok, err = ts.Token()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("fetch oauth2 token: %w", ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("fetch oauth2 token: %w", err)
	}
	return NewXOAuth2Client(user, tok.AccessToken), nil
}
