package pixel

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef")
	secretB = []byte("fedcba9876543210fedcba9876543210")
	sent    = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
)

func mustKeys(t testing.TB, current Key, previous ...Key) *Keys {
	t.Helper()
	ks, err := NewKeys(current, previous...)
	if err != nil {
		t.Fatalf("NewKeys: %v", err)
	}
	return ks
}

func mustMint(t testing.TB, ks *Keys, c Claims) string {
	t.Helper()
	tok, err := Mint(ks, c)
	if err != nil {
		t.Fatalf("Mint(%+v): %v", c, err)
	}
	return tok
}

func TestMintVerifyRoundTrip(t *testing.T) {
	ks := mustKeys(t, Key{ID: 7, Secret: secretA})
	tests := []struct {
		name string
		in   Claims
		want Claims
	}{
		{
			name: "per recipient",
			in:   Claims{MessageID: "<Abc.123@Mail.Example.COM>", Recipient: "Bob <Bob@Example.org>", Sender: "alice@example.com", Sent: sent.Add(400 * time.Millisecond)},
			want: Claims{MessageID: "Abc.123@mail.example.com", Recipient: "bob@example.org", Sender: "alice@example.com", Sent: sent, KeyID: 7},
		},
		{
			name: "per mail, no sender, no time",
			in:   Claims{MessageID: "x@y"},
			want: Claims{MessageID: "x@y", KeyID: 7},
		},
		{
			name: "japanese local part",
			in:   Claims{MessageID: "id@example.jp", Recipient: "山田@example.jp", Sent: sent},
			want: Claims{MessageID: "id@example.jp", Recipient: "山田@example.jp", Sent: sent, KeyID: 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mustMint(t, ks, tt.in)
			if strings.ContainsAny(tok, "+/=") {
				t.Errorf("Mint(%+v) = %q, want unpadded base64url", tt.in, tok)
			}
			got, err := Verify(ks, tok, sent)
			if err != nil {
				t.Fatalf("Verify(Mint(%+v)): %v", tt.in, err)
			}
			if !got.Sent.Equal(tt.want.Sent) {
				t.Errorf("Verify(Mint(%+v)).Sent = %v, want %v", tt.in, got.Sent, tt.want.Sent)
			}
			got.Sent, tt.want.Sent = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("Verify(Mint(%+v)) = %+v, want %+v", tt.in, got, tt.want)
			}
			if again := mustMint(t, ks, tt.in); again != tok {
				t.Errorf("Mint is not deterministic: %q then %q", tok, again)
			}
		})
	}
}

func TestTokenOpaque(t *testing.T) {
	ks := mustKeys(t, Key{ID: 1, Secret: secretA})
	c := Claims{MessageID: "secret-project@example.com", Recipient: "bob@example.org", Sender: "alice@example.com", Sent: sent}
	raw, err := base64.RawURLEncoding.DecodeString(mustMint(t, ks, c))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.MessageID, c.Recipient, c.Sender, "secret", "example"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("token bytes contain %q in clear", s)
		}
	}
	other := mustMint(t, ks, Claims{MessageID: c.MessageID, Recipient: "carol@example.org", Sent: sent})
	if other == mustMint(t, ks, c) {
		t.Errorf("tokens for two recipients are equal")
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	ks := mustKeys(t, Key{ID: 1, Secret: secretA})
	tok := mustMint(t, ks, Claims{MessageID: "m@example.com", Recipient: "bob@example.org", Sent: sent})
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	if tagBits := 8 * tagSize; tagBits < 128 {
		t.Fatalf("tag is %d bits, want at least 128", tagBits)
	}
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			mod := bytes.Clone(raw)
			mod[i] ^= bit
			if _, err := Verify(ks, base64.RawURLEncoding.EncodeToString(mod), sent); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify(token with byte %d ^ %#x) error = %v, want ErrInvalidToken", i, bit, err)
			}
		}
	}
	for _, mod := range [][]byte{raw[:len(raw)-1], append(bytes.Clone(raw), 0), raw[:headerSize+tagSize]} {
		if _, err := Verify(ks, base64.RawURLEncoding.EncodeToString(mod), sent); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(token of %d bytes, from %d) error = %v, want ErrInvalidToken", len(mod), len(raw), err)
		}
	}
}

func TestVerifyRejectsGarbage(t *testing.T) {
	ks := mustKeys(t, Key{ID: 1, Secret: secretA})
	valid := mustMint(t, ks, Claims{MessageID: "m@example.com"})
	for _, tok := range []string{
		"",
		"x",
		"!!!!",
		valid + "=",
		strings.ReplaceAll(strings.ReplaceAll(valid, "-", "+"), "_", "/") + "+/",
		strings.Repeat("A", MaxTokenLen+1),
		base64.RawURLEncoding.EncodeToString(make([]byte, 40)),
		base64.RawURLEncoding.EncodeToString(append([]byte{2, 1}, make([]byte, 30)...)),
	} {
		if c, err := Verify(ks, tok, sent); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(%.40q) = %+v, %v; want ErrInvalidToken", tok, c, err)
		}
	}
	if _, err := Verify(nil, valid, sent); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(nil keys) error = %v, want ErrInvalidToken", err)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	a := mustKeys(t, Key{ID: 1, Secret: secretA})
	sameIDOtherSecret := mustKeys(t, Key{ID: 1, Secret: secretB})
	otherID := mustKeys(t, Key{ID: 2, Secret: secretA})
	tok := mustMint(t, a, Claims{MessageID: "m@example.com"})
	for name, ks := range map[string]*Keys{"other secret": sameIDOtherSecret, "unknown id": otherID} {
		if _, err := Verify(ks, tok, sent); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Verify error = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old := Key{ID: 1, Secret: secretA}
	oldTok := mustMint(t, mustKeys(t, old), Claims{MessageID: "m@example.com", Recipient: "bob@example.org"})

	until := sent.Add(30 * 24 * time.Hour)
	old.Until = until
	rotated := mustKeys(t, Key{ID: 2, Secret: secretB}, old)
	newTok := mustMint(t, rotated, Claims{MessageID: "m@example.com", Recipient: "bob@example.org"})
	if newTok == oldTok {
		t.Fatalf("rotation did not change the token")
	}
	if c, err := Verify(rotated, newTok, until.Add(time.Hour)); err != nil || c.KeyID != 2 {
		t.Errorf("Verify(new token) = %+v, %v; want key 2", c, err)
	}
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"during grace period", until.Add(-time.Second), true},
		{"at the end", until, true},
		{"after grace period", until.Add(time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Verify(rotated, oldTok, tt.now)
			if tt.ok && (err != nil || c.KeyID != 1 || c.Recipient != "bob@example.org") {
				t.Errorf("Verify(old token, %v) = %+v, %v; want claims of key 1", tt.now, c, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify(old token, %v) error = %v, want ErrInvalidToken", tt.now, err)
			}
		})
	}
	forever := mustKeys(t, Key{ID: 2, Secret: secretB}, Key{ID: 1, Secret: secretA})
	if _, err := Verify(forever, oldTok, sent.AddDate(10, 0, 0)); err != nil {
		t.Errorf("Verify(old token, previous key without Until) error = %v, want nil", err)
	}
}

func TestNewKeysErrors(t *testing.T) {
	_, err := NewKeys(Key{ID: 1, Secret: []byte("short")}, Key{ID: 1, Secret: secretA}, Key{ID: 3, Secret: nil})
	if !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("NewKeys error = %v, want ErrInvalidKey", err)
	}
	for _, want := range []string{"key 1: secret is 5 bytes", "duplicate key id 1", "key 3: secret is 0 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("NewKeys error %q lacks %q", err, want)
		}
	}
}

func TestMintErrors(t *testing.T) {
	ks := mustKeys(t, Key{ID: 1, Secret: secretA})
	long := strings.Repeat("a", MaxFieldLen) + "@example.com"
	tests := []struct {
		name string
		c    Claims
		want error
	}{
		{"no message-id", Claims{Recipient: "bob@example.org"}, nil},
		{"message-id too long", Claims{MessageID: long}, ErrClaimsTooLong},
		{"recipient too long", Claims{MessageID: "m@x", Recipient: long}, ErrClaimsTooLong},
		{"sender too long", Claims{MessageID: "m@x", Sender: long}, ErrClaimsTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Mint(ks, tt.c)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Mint(%+v) = %q, %v; want error %v", tt.c, tok, err, tt.want)
			}
		})
	}
	if _, err := Mint(nil, Claims{MessageID: "m@x"}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Mint(nil keys) error = %v, want ErrInvalidKey", err)
	}
	// The longest claims still fit MaxTokenLen.
	max := strings.Repeat("a", MaxFieldLen)
	tok, err := Mint(ks, Claims{MessageID: max, Recipient: max, Sender: max, Sent: sent})
	if err != nil {
		t.Fatalf("Mint(longest claims): %v", err)
	}
	if _, err := Verify(ks, tok, sent); err != nil || len(tok) > MaxTokenLen {
		t.Errorf("Verify(longest token, %d chars) error = %v", len(tok), err)
	}
}

func TestKeysLogValueRedacts(t *testing.T) {
	ks := mustKeys(t, Key{ID: 4, Secret: secretA}, Key{ID: 3, Secret: secretB})
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("keys", "keys", ks, "key", Key{ID: 4, Secret: secretA})
	out := buf.String()
	if strings.Contains(out, string(secretA)) || strings.Contains(out, string(secretB)) || strings.Contains(out, fmt.Sprint(secretA)) {
		t.Errorf("log output %q contains a secret", out)
	}
	if !strings.Contains(out, "current=4") {
		t.Errorf("log output %q lacks the current key id", out)
	}
}

func FuzzVerify(f *testing.F) {
	ks := mustKeys(f, Key{ID: 1, Secret: secretA})
	f.Add(mustMint(f, ks, Claims{MessageID: "m@example.com", Recipient: "b@example.org", Sent: sent}))
	f.Add("")
	f.Add("AQE")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Verify(ks, tok, sent)
		if err == nil && c.MessageID == "" {
			t.Errorf("Verify(%q) accepted claims without a Message-ID", tok)
		}
	})
}
