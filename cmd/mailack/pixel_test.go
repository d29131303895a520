package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	trackpixel "github.com/mailack/mailack/track/pixel"
)

const testPixelKey = "an example pixel key of 32 bytes or more"

// runCmdEnv is runCmd with environment variables.
func runCmdEnv(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}, args)
	return code, out.String(), errb.String()
}

func TestPixelCommand(t *testing.T) {
	tests := []struct {
		name      string
		vars      map[string]string
		args      []string
		messageID string
		recipient string
		keyID     uint8
		base      string
	}{
		{
			name:      "per recipient",
			vars:      map[string]string{"MAILACK_PIXEL_KEY": testPixelKey},
			args:      []string{"--message-id", "<Quote-7@Example.COM>", "--recipient", "Bob@Example.org", "--sender", "alice@example.com", "--base-url", "https://mailack.example.com/"},
			messageID: "Quote-7@example.com", recipient: "bob@example.org", keyID: 1, base: "https://mailack.example.com",
		},
		{
			name:      "per mail, key from another variable, base URL from the environment",
			vars:      map[string]string{"OTHER_KEY": testPixelKey, "MAILACK_PUBLIC_URL": "http://mailack.internal:8080/track"},
			args:      []string{"--message-id", "quote-7@example.com", "--key-env", "OTHER_KEY", "--key-id", "9"},
			messageID: "quote-7@example.com", keyID: 9, base: "http://mailack.internal:8080/track",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmdEnv(t, tt.vars, append([]string{"pixel"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("mailack pixel = %d, stderr %q", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("output = %q, want the URL and the snippet", out)
			}
			tok, format, ok := trackpixel.ParsePath(strings.TrimPrefix(lines[0], tt.base))
			if !strings.HasPrefix(lines[0], tt.base+"/o/") || !ok || format != "gif" {
				t.Fatalf("URL = %q, want %s/o/TOKEN.gif", lines[0], tt.base)
			}
			if want := trackpixel.Snippet(tt.base, tok); lines[1] != want {
				t.Errorf("snippet = %q, want %q", lines[1], want)
			}
			keys, err := trackpixel.NewKeys(trackpixel.Key{ID: tt.keyID, Secret: []byte(testPixelKey)})
			if err != nil {
				t.Fatal(err)
			}
			c, err := trackpixel.Verify(keys, tok, time.Now())
			if err != nil {
				t.Fatalf("token from mailack pixel does not verify: %v", err)
			}
			if c.MessageID != tt.messageID || c.Recipient != tt.recipient || c.KeyID != tt.keyID {
				t.Errorf("claims = %+v, want message %q, recipient %q, key %d", c, tt.messageID, tt.recipient, tt.keyID)
			}
			if time.Since(c.Sent) > time.Minute {
				t.Errorf("claims sent at %v, want now", c.Sent)
			}
		})
	}
}

func TestPixelCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"no message-id", nil, []string{"--base-url", "https://m.example"}, 2, "no --message-id"},
		{"no base url", map[string]string{"MAILACK_PIXEL_KEY": testPixelKey}, []string{"--message-id", "m@x"}, 2, "MAILACK_PUBLIC_URL"},
		{"bad base url", nil, []string{"--message-id", "m@x", "--base-url", "mailack.example.com"}, 2, "want http(s)://host"},
		{"key missing", nil, []string{"--message-id", "m@x", "--base-url", "https://m.example"}, 1, "environment variable MAILACK_PIXEL_KEY is not set"},
		{"key missing, named", nil, []string{"--message-id", "m@x", "--base-url", "https://m.example", "--key-env", "MY_KEY"}, 1, "MY_KEY is not set"},
		{"key too short", map[string]string{"MAILACK_PIXEL_KEY": "short"}, []string{"--message-id", "m@x", "--base-url", "https://m.example"}, 1, "at least 32"},
		{"key id out of range", nil, []string{"--message-id", "m@x", "--key-id", "256"}, 2, "out of range"},
		{"extra argument", nil, []string{"--message-id", "m@x", "stray"}, 2, `unexpected argument "stray"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmdEnv(t, tt.vars, append([]string{"pixel"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("mailack pixel %v = %d, stdout %q, stderr %q; want %d and %q", tt.args, code, out, errOut, tt.code, tt.want)
			}
			if strings.Contains(errOut, testPixelKey) {
				t.Errorf("stderr shows the key: %q", errOut)
			}
		})
	}
	// runCmd gives an empty environment: the key is missing.
	code, _, errOut := runCmd(t, "pixel", "--message-id", "m@x", "--base-url", "https://m.example")
	if code != 1 || !strings.Contains(errOut, "MAILACK_PIXEL_KEY") {
		t.Errorf("mailack pixel without a key = %d, %q; want 1 and the variable's name", code, errOut)
	}
	code, _, errOut = runCmd(t, "pixel", "--help")
	if code != 0 || !strings.Contains(errOut, "--recipient") || !strings.Contains(errOut, "--key-env") {
		t.Errorf("mailack pixel --help = %d, %q; want 0 and the options", code, errOut)
	}
	if code, out, _ := runCmd(t, "--help"); code != 0 || !strings.Contains(out, "pixel") {
		t.Errorf("mailack --help = %d, %q; want the pixel command listed", code, out)
	}
}
