package bot

import (
	"errors"
	"testing"
	"time"
)

// Slack's documented signing example ("Verifying requests from Slack").
const (
	docSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	docTimestamp = "1531420618"
	docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	docBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)

func TestVerifySignature(t *testing.T) {
	at := time.Unix(1531420618, 0)
	tests := []struct {
		name      string
		secret    string
		timestamp string
		signature string
		body      string
		now       time.Time
		want      error
	}{
		{"documented example", docSecret, docTimestamp, docSignature, docBody, at.Add(30 * time.Second), nil},
		{"four minutes late", docSecret, docTimestamp, docSignature, docBody, at.Add(4 * time.Minute), nil},
		{"replayed after six minutes", docSecret, docTimestamp, docSignature, docBody, at.Add(6 * time.Minute), ErrStaleRequest},
		{"from the future", docSecret, docTimestamp, docSignature, docBody, at.Add(-6 * time.Minute), ErrStaleRequest},
		{"body changed", docSecret, docTimestamp, docSignature, docBody + "&x=1", at, ErrBadSignature},
		{"timestamp changed", docSecret, "1531420619", docSignature, docBody, at, ErrBadSignature},
		{"wrong secret", "00000000000000000000000000000000", docTimestamp, docSignature, docBody, at, ErrBadSignature},
		{"other version", docSecret, docTimestamp, "v1=" + docSignature[3:], docBody, at, ErrBadSignature},
		{"not hex", docSecret, docTimestamp, "v0=zz", docBody, at, ErrBadSignature},
		{"no signature", docSecret, docTimestamp, "", docBody, at, ErrMissingSignature},
		{"no timestamp", docSecret, "", docSignature, docBody, at, ErrMissingSignature},
		{"bad timestamp", docSecret, "yesterday", docSignature, docBody, at, ErrMissingSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySignature([]byte(tc.secret), tc.timestamp, tc.signature, []byte(tc.body), tc.now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("VerifySignature() = %v, want %v", err, tc.want)
			}
		})
	}
	if err := VerifySignature(nil, docTimestamp, docSignature, []byte(docBody), at); err == nil {
		t.Error("VerifySignature with no secret succeeded")
	}
}
