package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/mailwatch/pixel"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

// demoClock is the demo's accelerated time: it moves only when the
// scenario says so.
type demoClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *demoClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// demo is the whole pipeline on one machine: an in-process IMAP server,
// the real watcher, store, deadline sweep and pixel, and the real Slack bot
// talking to a local Slack endpoint that prints what it is sent.
type demo struct {
	out   io.Writer
	pace  time.Duration
	clock *demoClock
	tokyo *time.Location
	st    *store.Store
	cal   *track.Calendar
	user  *imapmemserver.User
	pixel *httptest.Server
	keys  *trackpixel.Keys
	term  *slackTerm
	bot   *bot.Bot
	// recorded receives the outcome of each pixel fetch recorded.
	recorded chan error
	n        int // reports delivered so far, for unique report IDs
	inbox    int // messages in INBOX
	sent     int // messages in Sent Items
}

const demoDeadline = 8 * time.Hour // "no response after" one working day

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--lang en|ja] [--pace DURATION]", "Runs mailack on this machine with no credentials: sample sent mail, receipts and\n"+
		"bounces arrive over accelerated time, and the Slack side is printed here.")
	lang := fs.String("lang", "en", "the demo user's Slack language: en or ja")
	pace := fs.Duration("pace", 800*time.Millisecond, "pause between steps, for reading (0 runs straight through)")
	keep := fs.Bool("keep", false, "keep the demo's database (its path is printed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lang != "en" && *lang != "ja" {
		return fmt.Errorf("%w: --lang must be en or ja", errUsage)
	}
	dir, err := os.MkdirTemp("", "mailack-demo-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(e.stdout, "database: %s\n", filepath.Join(dir, "mailack.db"))
	} else {
		defer os.RemoveAll(dir)
	}
	return (&demo{out: e.stdout, pace: *pace}).run(ctx, dir, *lang)
}

func (d *demo) run(ctx context.Context, dir, lang string) error {
	var err error
	d.tokyo, err = time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return err
	}
	d.clock = &demoClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, d.tokyo)}
	if d.cal, err = demoCalendar(d.tokyo); err != nil {
		return err
	}
	if d.st, err = store.Open(filepath.Join(dir, "mailack.db"), store.Options{NoSync: true}); err != nil {
		return err
	}
	defer d.st.Close()
	log := slog.New(slog.DiscardHandler)

	reg := &registrar{st: d.st, cal: d.cal, defaultAfter: demoDeadline, now: d.clock.Now, metrics: newMetrics()}
	imapAddr, stopIMAP, err := d.startIMAP()
	if err != nil {
		return err
	}
	defer stopIMAP()
	w, err := mailwatch.New([]mailwatch.Account{{
		Name: "tanaka", Addr: imapAddr, TLS: mailwatch.TLSInsecure, Username: "tanaka@" + demoDomain, Password: "demo",
		Owner: "tanaka@" + demoDomain, SentFolder: "Sent Items", PollInterval: 20 * time.Millisecond,
	}}, mailwatch.Options{Sink: &storeSink{registrar: reg, log: log},
		Logger: log, Now: d.clock.Now})
	if err != nil {
		return err
	}
	if err := d.startPixel(); err != nil {
		return err
	}
	defer d.pixel.Close()

	locale := map[string]string{"en": "en-US", "ja": "ja-JP"}[lang]
	d.term = newSlackTerm(d.out, []demoUser{
		{ID: "UTANAKA", Name: "Ichiro Tanaka", Email: "tanaka@" + demoDomain, Locale: locale, TZ: "Asia/Tokyo"},
		{ID: "UBOB", Name: "Bob Jones", Email: "bob@fabrikam.example", Locale: "en-US", TZ: "America/New_York"},
	}, "CSALES")
	slackAPI := httptest.NewServer(d.term)
	defer slackAPI.Close()
	sent := sentSearch{w: w, reg: reg}
	b, err := newBot(demoBotConfig(slackAPI.URL+"/", lang), d.st, sent, http.NewServeMux(), log)
	if err != nil {
		return err
	}
	d.bot = b

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	botCtx, stopBot := context.WithCancel(context.Background())
	wg.Go(func() { b.Run(botCtx) })
	err = d.scenario(ctx)
	cancel()
	stopBot()
	wg.Wait()
	return err
}

func demoBotConfig(apiURL, lang string) bot.Config {
	c := bot.Defaults()
	c.Mode = bot.ModeHTTP
	c.BotToken = "xoxb-demo"
	secret := make([]byte, 16)
	rand.Read(secret)
	c.SigningSecret = bot.Secret(hex.EncodeToString(secret))
	c.APIURL = apiURL
	c.Language = bot.Lang(lang)
	c.Poll = 20 * time.Millisecond
	c.Rate, c.Burst = 1000, 100
	c.MinBackoff = 20 * time.Millisecond
	return c
}

func demoCalendar(loc *time.Location) (*track.Calendar, error) {
	hol, err := track.Holidays("jp")
	if err != nil {
		return nil, err
	}
	return track.NewCalendar(track.CalendarConfig{Location: loc, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: hol})
}

// startIMAP runs an in-memory IMAP server with the demo user's mailbox.
func (d *demo) startIMAP() (string, func(), error) {
	mem := imapmemserver.New()
	d.user = imapmemserver.NewUser("tanaka@"+demoDomain, "demo")
	for _, name := range []string{"INBOX", "Sent Items"} {
		if err := d.user.Create(name, nil); err != nil {
			return "", nil, err
		}
	}
	mem.AddUser(d.user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// startPixel serves the real pixel handler, recording into the store.
func (d *demo) startPixel() error {
	key := make([]byte, 32)
	rand.Read(key)
	var err error
	if d.keys, err = trackpixel.NewKeys(trackpixel.Key{ID: 1, Secret: key}); err != nil {
		return err
	}
	d.recorded = make(chan error, 1)
	rec := demoRecorder{pixelRecorder: pixelRecorder{st: d.st, now: d.clock.Now}, done: d.recorded}
	h, err := pixel.NewHandler(pixel.Options{Enabled: true, Keys: d.keys, Recorder: rec, Now: d.clock.Now})
	if err != nil {
		return err
	}
	d.pixel = httptest.NewServer(h)
	return nil
}

// demoRecorder records opens as the daemon does and reports each one
// recorded: the handler sends the image before it records, so a step
// waits for the recording, not for the image.
type demoRecorder struct {
	pixelRecorder
	done chan<- error
}

func (r demoRecorder) RecordOpen(ctx context.Context, o pixel.Open) error {
	err := r.pixelRecorder.RecordOpen(ctx, o)
	select {
	case r.done <- err:
	case <-ctx.Done():
	}
	return err
}

// say prints a line of narration, with the demo clock's time.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "\n%s  %s\n", d.clock.Now().Format("Mon 01/02 15:04"), fmt.Sprintf(format, args...))
}

func (d *demo) pause() {
	if d.pace > 0 {
		time.Sleep(d.pace)
	}
}

// at moves the demo clock to a time of the demo day.
func (d *demo) at(day, hour, minute int) time.Time {
	t := time.Date(2026, 11, day, hour, minute, 0, 0, d.tokyo)
	d.clock.set(t)
	return t
}

func (d *demo) appendMsg(folder, raw string) error {
	_, err := d.user.Append(folder, strings.NewReader(raw), &imap.AppendOptions{Time: d.clock.Now()})
	return err
}

// send puts a sent mail in the Sent folder, as Outlook does.
func (d *demo) send(m demoSent) error {
	if err := d.appendMsg("Sent Items", m.raw(d.clock.Now())); err != nil {
		return err
	}
	d.sent++
	return d.settle("Sent Items", d.sent)
}

// arrive delivers a report to the inbox.
func (d *demo) arrive(raw string) error {
	if err := d.appendMsg("INBOX", raw); err != nil {
		return err
	}
	d.inbox++
	return d.settle("INBOX", d.inbox)
}

// settle waits until the watcher has read a folder up to uid and the bot
// has delivered every notice, then pauses for the reader.
func (d *demo) settle(folder string, uid int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		cp, err := d.st.Checkpoint(ctx, "tanaka", folder)
		if err == nil && int(cp.UID) >= uid {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("demo: the watcher did not read %s in time", folder)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.drain(ctx); err != nil {
		return err
	}
	d.pause()
	return nil
}

// drain waits until the bot has delivered the whole outbox.
func (d *demo) drain(ctx context.Context) error {
	for {
		items, err := d.st.Pending(ctx, d.clock.Now().Add(1000*time.Hour), 0)
		if err == nil && len(items) == 0 {
			// Each item is acknowledged after its Slack calls returned,
			// and the local Slack prints before it answers.
			return nil
		}
		if ctx.Err() != nil {
			return errors.New("demo: the bot did not deliver its notices in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
