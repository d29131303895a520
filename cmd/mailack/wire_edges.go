package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch/pixel"
	"github.com/mailack/mailack/mailwatch/relay"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

// pixelKeys builds the token keys: the first configured key mints, the
// others verify until their date.
func pixelKeys(ks []config.PixelKey) (*trackpixel.Keys, error) {
	if len(ks) == 0 {
		return nil, nil
	}
	var keys []trackpixel.Key
	for _, k := range ks {
		key := trackpixel.Key{ID: uint8(k.ID), Secret: []byte(k.Secret.Value())}
		if k.Until != "" {
			key.Until, _ = time.Parse("2006-01-02", k.Until) // validated by config
			key.Until = key.Until.Add(24 * time.Hour)
		}
		keys = append(keys, key)
	}
	return trackpixel.NewKeys(keys[0], keys[1:]...)
}

// optedOut reports the senders who asked for no pixel.
func optedOut(list []string) func(string) bool {
	return func(sender string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, sender) })
	}
}

// pixelRecorder stores a pixel fetch as evidence. A pixel shared by all
// recipients of a multi-recipient mail cannot say who opened it: the fetch
// is stored with the mail without changing a recipient's status.
type pixelRecorder struct {
	st  *store.Store
	now func() time.Time
}

func (p pixelRecorder) RecordOpen(ctx context.Context, o pixel.Open) error {
	ev := o.Evidence
	if ev.Recipient == "" {
		if m, err := p.st.Mail(ctx, ev.MessageID); err == nil && len(m.Recipients) == 1 {
			ev.Recipient = m.Recipients[0].Address
		}
	}
	_, err := p.st.ApplyReport(ctx, store.ApplyInput{Evidence: []track.Evidence{ev}, Now: p.now()})
	return err
}

// pixelRules are the default machine-open rules, with Apple's ranges from
// the configuration when it gives them.
func pixelRules(apple []string) []trackpixel.Rule {
	rules := trackpixel.DefaultRules()
	if len(apple) == 0 {
		return rules
	}
	var ranges []netip.Prefix
	for _, r := range apple {
		if p, err := netip.ParsePrefix(r); err == nil { // validated by config
			ranges = append(ranges, p)
		}
	}
	for i := range rules {
		if rules[i].Name == "apple-mpp" {
			rules[i].Ranges = ranges
		}
	}
	return rules
}

// senderOwnCopy tells a fetch of the sender's own copy: with a pixel per
// recipient, the copy addressed to the sender (a Cc or Bcc to self). Such
// opens are not recorded.
func senderOwnCopy(_ *http.Request, c trackpixel.Claims) bool {
	return c.Recipient != "" && strings.EqualFold(c.Recipient, c.Sender)
}

// newPixel builds the pixel handler, or nil when the pixel is off.
func (d *daemon) newPixel(keys *trackpixel.Keys) (*pixel.Handler, error) {
	c := d.cfg.Pixel
	if !c.Enabled {
		return nil, nil
	}
	return pixel.NewHandler(pixel.Options{
		Enabled: true, Keys: keys, Recorder: pixelRecorder{st: d.st, now: d.now}, Rules: pixelRules(c.AppleRanges),
		StoreClientAddr: c.StoreClientAddr, OptedOut: optedOut(c.OptOut), Logger: d.log, Now: d.now,
		IsSender: senderOwnCopy,
	})
}

// newRelay builds the tracking relay, or nil when it is off.
func (d *daemon) newRelay(keys *trackpixel.Keys) (*relay.Server, error) {
	c := d.cfg.Relay
	if !c.Enabled {
		return nil, nil
	}
	opts := relay.Options{
		Hostname:  c.Hostname,
		Users:     map[string]relay.Secret{},
		Registrar: d.reg,
		Receipts:  relay.ReceiptPolicy{Mode: relay.ReceiptMode(c.ReadReceipts), InternalDomains: c.InternalDomains},
		Upstream: relay.Upstream{Addr: c.Upstream.Addr, TLS: relay.TLSMode(c.Upstream.TLS), Username: c.Upstream.Username,
			Password: relay.Secret(c.Upstream.Password.Value())},
		Pixel: relay.PixelOptions{Enabled: d.cfg.Pixel.Enabled, Keys: keys, BaseURL: d.cfg.HTTP.PublicURL,
			PerRecipient: c.PixelPerRecipient, OptedOut: optedOut(d.cfg.Pixel.OptOut)},
		Logger: d.log, Now: d.now,
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	opts.Senders = map[string][]string{}
	for _, u := range c.Users {
		opts.Users[u.Name] = relay.Secret(u.Password.Value())
		if len(u.Senders) > 0 {
			opts.Senders[u.Name] = u.Senders
		}
	}
	switch c.TLS {
	case "none":
		opts.AllowInsecureAuth = true
	default:
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("relay certificate: %w", err)
		}
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return relay.New(opts)
}

// serveRelay runs the relay on its listener until ctx ends, then lets the
// messages in flight finish.
func serveRelay(ctx context.Context, log *slog.Logger, r *relay.Server, c config.Relay, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Shutdown(shut); err != nil {
		log.Warn("relay shutdown", "err", err)
	}
	<-errc
	return nil
}
