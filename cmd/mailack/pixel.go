package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	trackpixel "github.com/mailack/mailack/track/pixel"
)

// Environment variables the pixel command reads.
const (
	defaultPixelKeyEnv = "MAILACK_PIXEL_KEY"
	publicURLEnv       = "MAILACK_PUBLIC_URL"
)

func runPixel(_ context.Context, e *env, args []string) error {
	const usage = "--message-id ID [--recipient ADDR] [--sender ADDR] [--base-url URL] [--key-env NAME] [--key-id N]"
	fs := newFlags(e, "pixel", usage, "Prints the open-tracking pixel URL and its HTML <img> element for one mail, for\n"+
		"programs that send mail themselves. The key is read from the environment variable\n"+
		"named by --key-env and must be the current pixel key of the running mailack.\n"+
		"The URL stays valid while that key does; opens are measured from now.")
	messageID := fs.String("message-id", "", "Message-ID of the mail (required)")
	recipient := fs.String("recipient", "", "recipient whose copy carries the pixel; empty for one pixel shared by all recipients")
	sender := fs.String("sender", "", "sender of the mail, so that the sender's opt-out applies")
	baseURL := fs.String("base-url", "", "public URL of mailack's HTTP listener (default $"+publicURLEnv+")")
	keyEnv := fs.String("key-env", defaultPixelKeyEnv, "environment variable holding the pixel key")
	keyID := fs.Uint("key-id", 1, "ID of the pixel key (0-255)")
	if err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *messageID == "" {
		fs.Usage()
		return fmt.Errorf("%w: no --message-id given", errUsage)
	}
	if *keyID > 255 {
		return fmt.Errorf("%w: --key-id %d is out of range 0-255", errUsage, *keyID)
	}
	base := *baseURL
	if base == "" {
		base = e.getenv(publicURLEnv)
	}
	if err := checkBaseURL(base); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	secret := e.getenv(*keyEnv)
	if secret == "" {
		return fmt.Errorf("environment variable %s is not set: it must hold the pixel key (at least %d bytes)", *keyEnv, trackpixel.MinSecretLen)
	}
	keys, err := trackpixel.NewKeys(trackpixel.Key{ID: uint8(*keyID), Secret: []byte(secret)})
	if err != nil {
		return fmt.Errorf("pixel key from %s: %w", *keyEnv, err)
	}
	tok, err := trackpixel.Mint(keys, trackpixel.Claims{MessageID: *messageID, Recipient: *recipient, Sender: *sender, Sent: time.Now()})
	if err != nil {
		return fmt.Errorf("mint pixel token: %w", err)
	}
	fmt.Fprintln(e.stdout, trackpixel.URL(base, tok))
	fmt.Fprintln(e.stdout, trackpixel.Snippet(base, tok))
	return nil
}

// checkBaseURL accepts an absolute http or https URL without query or
// fragment.
func checkBaseURL(s string) error {
	if s == "" {
		return fmt.Errorf("no --base-url given and %s is not set", publicURLEnv)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("--base-url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--base-url %s: want http(s)://host[/path]", strconv.Quote(s))
	}
	return nil
}
