// Package pixel is the pure core of open tracking: it mints and verifies
// the tokens in pixel URLs and classifies each fetch of a pixel as a
// person, a machine (a privacy prefetch or a security scanner), a proxy
// that usually means a person, or the sender.
//
// The package does no I/O, keeps no clock and never logs: functions take
// keys, tokens, rules and times and return values and errors. The HTTP
// handler that serves the image (mailwatch/pixel) and the relay that puts
// pixels into mail (mailwatch/relay) are its callers.
//
// # Tokens
//
// A token names one tracked mail (its Message-ID), the recipient whose copy
// carries it ("" for one token shared by every recipient of a mail), the
// sender and the time it was minted. It is opaque: the claims are encrypted
// as well as authenticated, so a token shows a mail proxy or a server log
// neither the recipient's address nor the Message-ID. The construction is a
// synthetic IV (SIV) scheme built from the standard library:
//
//	tag   = HMAC-SHA256(macKey, version || keyID || claims)[:16]
//	token = base64url(version || keyID || tag || AES-256-CTR(encKey, iv=tag, claims))
//
// macKey and encKey are derived from the configured secret with
// HMAC-SHA256 under distinct labels. The 128-bit tag is checked in
// constant time before any claim is parsed, so a token cannot be forged,
// altered or enumerated without the key. Minting is deterministic: the
// same claims give the same token, which keeps a pixel URL stable.
//
// # Keys and rotation
//
// Keys holds the current key, which mints, and previous keys, which still
// verify until their grace period ends (Key.Until). Each key has a one-byte
// ID carried in clear in the token, so verifying costs one HMAC and one
// AES-CTR pass whatever the number of keys.
//
// # Machine opens
//
// Classification is data: a table of Rules, each a conjunction of
// conditions (user agent, method, address ranges, time since sending, the
// sender's own fetch) with a Verdict. The first rule that matches decides;
// a fetch no rule matches is a person's. DefaultRules documents which
// fetches it attributes to which machines. A machine verdict never drops
// an open: the caller records it as "opened, possibly by a mail proxy",
// and a later human open outranks it (see package track).
//
// # Failure behaviour
//
// Verify returns an error wrapping ErrInvalidToken for anything that is
// not a token minted with one of the given keys: the caller serves the
// image anyway and records nothing. Mint fails only for claims that do not
// fit a token (ErrClaimsTooLong) or keys that cannot mint.
package pixel
