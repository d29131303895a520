package pixel

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/mailack/mailack/track"
)

const (
	// version is the first byte of every token; a new layout gets a new one.
	version = 1
	// tagSize is the length of the truncated HMAC: 128 bits.
	tagSize = 16
	// headerSize is version and key ID.
	headerSize = 2
	// MinSecretLen is the shortest secret a Key accepts: 256 bits.
	MinSecretLen = 32
	// MaxFieldLen caps each of Message-ID, recipient and sender in a token.
	MaxFieldLen = 512
	// MaxTokenLen is the longest token Verify decodes; longer input is
	// rejected before any work is done.
	MaxTokenLen = 2200
)

// Errors callers branch on.
var (
	// ErrInvalidToken means a token is malformed, names an unknown or
	// retired key, or fails authentication. Callers treat all of these
	// alike: the fetch is not recorded.
	ErrInvalidToken = errors.New("pixel: invalid token")
	// ErrClaimsTooLong means a claim exceeds MaxFieldLen.
	ErrClaimsTooLong = errors.New("pixel: claim too long")
	// ErrInvalidKey means a key set cannot be built from the given keys.
	ErrInvalidKey = errors.New("pixel: invalid key")
)

// Claims are what a token names.
type Claims struct {
	// MessageID is the tracked mail's Message-ID, normalised by
	// track.NormalizeMessageID.
	MessageID string
	// Recipient is the recipient whose copy carries the pixel, normalised
	// by track.NormalizeAddress; empty for a token shared by every
	// recipient of the mail.
	Recipient string
	// Sender is the mail's sender, normalised like Recipient; may be empty.
	// It lets the pixel server honour a sender's opt-out without a lookup.
	Sender string
	// Sent is when the token was minted, to the second; the zero time when
	// unknown. Rules that look at time since sending measure from it.
	Sent time.Time
	// KeyID is the key that minted the token; set by Verify, ignored by
	// Mint.
	KeyID uint8
}

// Key is one secret for minting and verifying tokens.
type Key struct {
	// ID is carried in each token so that Verify picks the key directly.
	ID uint8
	// Secret is at least MinSecretLen bytes of key material.
	Secret []byte
	// Until ends the grace period of a previous key: tokens it minted stop
	// verifying after Until. Zero means no end. Ignored for the current key.
	Until time.Time
}

// LogValue redacts the secret.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", int(k.ID)), slog.Time("until", k.Until))
}

// Keys is a key set: one current key that mints and verifies, and previous
// keys that only verify, each until its grace period ends. It is safe for
// concurrent use. Build it with NewKeys.
type Keys struct {
	current uint8
	keys    map[uint8]derived
}

// derived is one key's subkeys, computed once.
type derived struct {
	mac   []byte
	enc   cipher.Block
	until time.Time
}

// NewKeys builds a key set from the current key and any previous keys.
// Every secret must be at least MinSecretLen bytes and every ID distinct;
// all problems are reported together, wrapping ErrInvalidKey.
func NewKeys(current Key, previous ...Key) (*Keys, error) {
	ks := &Keys{current: current.ID, keys: make(map[uint8]derived, 1+len(previous))}
	current.Until = time.Time{}
	var errs []error
	seen := map[uint8]bool{}
	for _, k := range append([]Key{current}, previous...) {
		if seen[k.ID] {
			errs = append(errs, fmt.Errorf("%w: duplicate key id %d", ErrInvalidKey, k.ID))
			continue
		}
		seen[k.ID] = true
		d, err := derive(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ks.keys[k.ID] = d
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ks, nil
}

// derive computes a key's MAC and encryption subkeys, so that the two uses
// never share key material.
func derive(k Key) (derived, error) {
	if len(k.Secret) < MinSecretLen {
		return derived{}, fmt.Errorf("%w: key %d: secret is %d bytes, want at least %d", ErrInvalidKey, k.ID, len(k.Secret), MinSecretLen)
	}
	sub := func(label string) []byte {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(sub("mailack pixel token v1 enc"))
	if err != nil {
		return derived{}, fmt.Errorf("%w: key %d: %w", ErrInvalidKey, k.ID, err)
	}
	return derived{mac: sub("mailack pixel token v1 mac"), enc: block, until: k.Until}, nil
}

// CurrentID returns the ID of the key that mints.
func (ks *Keys) CurrentID() uint8 { return ks.current }

// LogValue shows the key IDs only.
func (ks *Keys) LogValue() slog.Value {
	ids := make([]string, 0, len(ks.keys))
	for id := range ks.keys {
		ids = append(ids, strconv.Itoa(int(id)))
	}
	return slog.GroupValue(slog.Int("current", int(ks.current)), slog.String("ids", strings.Join(ids, ",")))
}

// Mint returns the token for c, minted with the current key. MessageID,
// Recipient and Sender are normalised first; Sent is kept to the second.
// A Message-ID is required.
func Mint(keys *Keys, c Claims) (string, error) {
	if keys == nil {
		return "", fmt.Errorf("%w: no keys", ErrInvalidKey)
	}
	c.MessageID = track.NormalizeMessageID(c.MessageID)
	c.Recipient = track.NormalizeAddress(c.Recipient)
	c.Sender = track.NormalizeAddress(c.Sender)
	if c.MessageID == "" {
		return "", fmt.Errorf("mint: %w", track.ErrInvalidMail)
	}
	for _, f := range []string{c.MessageID, c.Recipient, c.Sender} {
		if len(f) > MaxFieldLen {
			return "", fmt.Errorf("mint: %w: %d bytes", ErrClaimsTooLong, len(f))
		}
	}
	k := keys.keys[keys.current]
	hdr := [headerSize]byte{version, keys.current}
	plain := encodeClaims(c)
	out := make([]byte, headerSize+tagSize+len(plain))
	copy(out, hdr[:])
	tag := k.tag(hdr[:], plain)
	copy(out[headerSize:], tag)
	cipher.NewCTR(k.enc, tag).XORKeyStream(out[headerSize+tagSize:], plain)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Verify authenticates token with keys and returns its claims. A previous
// key verifies only until its Until, compared with now. Any failure wraps
// ErrInvalidToken.
func Verify(keys *Keys, token string, now time.Time) (Claims, error) {
	if keys == nil {
		return Claims{}, fmt.Errorf("%w: no keys", ErrInvalidToken)
	}
	if len(token) > MaxTokenLen {
		return Claims{}, fmt.Errorf("%w: %d characters", ErrInvalidToken, len(token))
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if len(raw) < headerSize+tagSize+1 || raw[0] != version {
		return Claims{}, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	id := raw[1]
	k, ok := keys.keys[id]
	if !ok {
		return Claims{}, fmt.Errorf("%w: unknown key %d", ErrInvalidToken, id)
	}
	if id != keys.current && !k.until.IsZero() && now.After(k.until) {
		return Claims{}, fmt.Errorf("%w: key %d retired", ErrInvalidToken, id)
	}
	tag := raw[headerSize : headerSize+tagSize]
	plain := make([]byte, len(raw)-headerSize-tagSize)
	cipher.NewCTR(k.enc, tag).XORKeyStream(plain, raw[headerSize+tagSize:])
	if !hmac.Equal(tag, k.tag(raw[:headerSize], plain)) {
		return Claims{}, fmt.Errorf("%w: authentication failed", ErrInvalidToken)
	}
	c, err := decodeClaims(plain)
	if err != nil {
		// Authentic but unreadable: minted by a newer layout under the
		// same version byte, which must not happen.
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	c.KeyID = id
	return c, nil
}

// tag is the truncated HMAC over the header and the plaintext claims.
func (d derived) tag(hdr, plain []byte) []byte {
	m := hmac.New(sha256.New, d.mac)
	m.Write(hdr)
	m.Write(plain)
	return m.Sum(nil)[:tagSize]
}

// encodeClaims lays out the claims compactly: the minting time in Unix
// seconds (0 when unknown), then Message-ID, recipient and sender, each
// prefixed by its length. All integers are unsigned varints.
func encodeClaims(c Claims) []byte {
	b := make([]byte, 0, 4*binary.MaxVarintLen64+len(c.MessageID)+len(c.Recipient)+len(c.Sender))
	var sent uint64
	if !c.Sent.IsZero() && c.Sent.Unix() > 0 {
		sent = uint64(c.Sent.Unix())
	}
	b = binary.AppendUvarint(b, sent)
	for _, f := range []string{c.MessageID, c.Recipient, c.Sender} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// decodeClaims reverses encodeClaims, rejecting trailing bytes.
func decodeClaims(b []byte) (Claims, error) {
	var c Claims
	sent, n := binary.Uvarint(b)
	if n <= 0 || sent > 1<<40 {
		return Claims{}, errors.New("bad time")
	}
	b = b[n:]
	if sent > 0 {
		c.Sent = time.Unix(int64(sent), 0).UTC()
	}
	for _, f := range []*string{&c.MessageID, &c.Recipient, &c.Sender} {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > MaxFieldLen || uint64(len(b)-n) < l {
			return Claims{}, errors.New("bad field")
		}
		*f = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	if len(b) != 0 {
		return Claims{}, errors.New("trailing bytes")
	}
	if c.MessageID == "" {
		return Claims{}, errors.New("no message-id")
	}
	return c, nil
}
