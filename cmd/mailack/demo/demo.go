// Package demo is `mailack demo`: a working day of one sender, told as a
// story, with the whole pipeline running for real on this machine. An
// in-process IMAP server holds the sample mail; the real watcher, report
// reader, store, deadline sweep, pixel endpoint and Slack bot run as the
// daemon runs them (the command hands over its own wiring, Wiring); only
// Slack itself is local: the strict fake of package slackfake, which
// refuses what Slack refuses, with what the bot posts printed in the
// terminal. People's actions in Slack (a slash command, a button) reach
// the bot as signed HTTP requests, as Slack sends them.
package demo

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

// Wiring is how the command builds the daemon's parts, so that the demo
// runs the same code.
type Wiring struct {
	// Pipeline builds the watcher's sink over the store (registering sent
	// mail with deadline as the default, applying reports) and, once the
	// watcher exists, /track's search of the Sent folder.
	Pipeline func(st *store.Store, cal *track.Calendar, deadline time.Duration, now func() time.Time, log *slog.Logger, acct mailwatch.Account) (mailwatch.Sink, func(*mailwatch.Watcher) bot.SentSearch)
	// Bot builds the Slack bot and registers its HTTP handler on mux.
	Bot func(cfg bot.Config, st *store.Store, sent bot.SentSearch, mux *http.ServeMux, log *slog.Logger) (*bot.Bot, error)
	// Pixel records pixel opens in the store.
	Pixel func(st *store.Store, now func() time.Time) pixel.Recorder
}

// Options are the demo's settings.
type Options struct {
	Out  io.Writer
	Lang string        // "en" or "ja": the language of the story and of the sender's Slack
	Pace time.Duration // pause between steps, for reading
	Dir  string        // where the database goes
}

// clock is the demo's accelerated time: it moves only when the scenario
// says so.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// demo is one run.
type demo struct {
	out   io.Writer
	lang  string
	pace  time.Duration
	clock *clock
	tokyo *time.Location
	st    *store.Store
	// recorded receives the outcome of each pixel fetch recorded.
	recorded chan error
	user     *imapmemserver.User
	pixel    *httptest.Server
	keys     *trackpixel.Keys
	term     *slackTerm
	bot      *bot.Bot
	slack    http.Handler // the bot's HTTP endpoints, as Slack reaches them
	secret   string       // the signing secret of the requests to slack
	n        int          // reports delivered so far, for unique report IDs
	inbox    int          // messages in INBOX
	sent     int          // messages in Sent Items
}

// deadline is "no response after" one working day.
const deadline = 8 * time.Hour

// Run runs the demo until its story ends or ctx is cancelled.
func Run(ctx context.Context, o Options, w Wiring) error {
	if o.Lang != "en" && o.Lang != "ja" {
		return fmt.Errorf("demo: language %q: want en or ja", o.Lang)
	}
	d := &demo{out: o.Out, lang: o.Lang, pace: o.Pace}
	return d.run(ctx, o.Dir, w)
}

func (d *demo) run(ctx context.Context, dir string, wire Wiring) error {
	var err error
	if d.tokyo, err = time.LoadLocation("Asia/Tokyo"); err != nil {
		return err
	}
	d.clock = &clock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, d.tokyo)}
	cal, err := calendar(d.tokyo)
	if err != nil {
		return err
	}
	if d.st, err = store.Open(filepath.Join(dir, "mailack.db"), store.Options{NoSync: true, Calendar: cal}); err != nil {
		return err
	}
	defer d.st.Close()
	log := slog.New(slog.DiscardHandler)
	imapAddr, stopIMAP, err := d.startIMAP()
	if err != nil {
		return err
	}
	defer stopIMAP()
	acct := mailwatch.Account{
		Name: "tanaka", Addr: imapAddr, TLS: mailwatch.TLSInsecure, Username: tanaka.Email, Password: "demo",
		Owner: tanaka.Email, SentFolder: "Sent Items", PollInterval: 20 * time.Millisecond,
	}
	sink, sentOf := wire.Pipeline(d.st, cal, deadline, d.clock.Now, log, acct)
	w, err := mailwatch.New([]mailwatch.Account{acct}, mailwatch.Options{Sink: sink, Answers: d.st, Logger: log, Now: d.clock.Now})
	if err != nil {
		return err
	}
	if err := d.startPixel(wire.Pixel(d.st, d.clock.Now)); err != nil {
		return err
	}
	defer d.pixel.Close()

	d.term = newSlackTerm(d.out, d.lang, workspace(d.lang), channel)
	slackAPI := httptest.NewServer(d.term)
	defer slackAPI.Close()
	d.term.base = slackAPI.URL
	mux := http.NewServeMux()
	cfg := d.botConfig(slackAPI.URL)
	// App Home's welcome tells Tanaka how his mail gets tracked here.
	cfg.Setup = &bot.Setup{Mailboxes: []bot.Mailbox{{Owner: acct.Owner, All: acct.Policy.All, TrackingAddress: acct.Policy.TrackingAddress}}}
	if d.bot, err = wire.Bot(cfg, d.st, sentOf(w), mux, log); err != nil {
		return err
	}
	d.slack = mux

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	botCtx, stopBot := context.WithCancel(context.Background())
	wg.Go(func() { d.bot.Run(botCtx) })
	err = d.scenario(ctx)
	cancel()
	stopBot()
	wg.Wait()
	return err
}

func (d *demo) botConfig(apiURL string) bot.Config {
	c := bot.Defaults()
	c.Mode = bot.ModeHTTP
	c.BotToken = "xoxb-demo"
	secret := make([]byte, 16)
	rand.Read(secret)
	d.secret = hex.EncodeToString(secret)
	c.SigningSecret = bot.Secret(d.secret)
	c.APIURL = apiURL + "/"
	c.ResponseURLPrefix = apiURL + "/response/"
	c.Language = bot.Lang(d.lang)
	c.Poll = 20 * time.Millisecond
	c.MinBackoff = 20 * time.Millisecond
	c.Now = d.clock.Now
	return c
}

func calendar(loc *time.Location) (*track.Calendar, error) {
	hol, err := track.Holidays("jp")
	if err != nil {
		return nil, err
	}
	return track.NewCalendar(track.CalendarConfig{Location: loc, DayStart: 9 * time.Hour, DayEnd: 18 * time.Hour, Holidays: hol})
}

// startIMAP runs an in-memory IMAP server with the demo user's mailbox.
func (d *demo) startIMAP() (string, func(), error) {
	mem := imapmemserver.New()
	d.user = imapmemserver.NewUser(tanaka.Email, "demo")
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
func (d *demo) startPixel(rec pixel.Recorder) error {
	key := make([]byte, 32)
	rand.Read(key)
	var err error
	if d.keys, err = trackpixel.NewKeys(trackpixel.Key{ID: 1, Secret: key}); err != nil {
		return err
	}
	d.recorded = make(chan error, 1)
	rec = notifyingRecorder{Recorder: rec, done: d.recorded}
	h, err := pixel.NewHandler(pixel.Options{Enabled: true, Keys: d.keys, Recorder: rec, Now: d.clock.Now})
	if err != nil {
		return err
	}
	d.pixel = httptest.NewServer(h)
	return nil
}

// notifyingRecorder records opens as the daemon does and hands on the
// outcome of each: the pixel answers before it records, so a step waits
// for the recording, not for the image.
type notifyingRecorder struct {
	pixel.Recorder
	done chan<- error
}

func (r notifyingRecorder) RecordOpen(ctx context.Context, o pixel.Open) error {
	err := r.Recorder.RecordOpen(ctx, o)
	select {
	case r.done <- err:
	case <-ctx.Done():
	}
	return err
}

// say prints a line of the story, with the demo clock's time in the
// style of the cards.
func (d *demo) say(text string) {
	fmt.Fprintf(d.out, "\n%s  %s\n", d.when(d.clock.Now()), text)
}

// when formats a time as the bot does for the demo's sender.
func (d *demo) when(t time.Time) string {
	t = t.In(d.tokyo)
	if d.lang == "ja" {
		return fmt.Sprintf("%d月%d日(%s) %s", t.Month(), t.Day(), []string{"日", "月", "火", "水", "木", "金", "土"}[t.Weekday()], t.Format("15:04"))
	}
	return t.Format("Mon 2 Jan 15:04")
}

func (d *demo) pause() {
	if d.pace > 0 {
		time.Sleep(d.pace)
	}
}

// at moves the demo clock to a time of the demo's month.
func (d *demo) at(day, hour, minute int) {
	d.clock.set(time.Date(2026, 11, day, hour, minute, 0, 0, d.tokyo))
}

func (d *demo) appendMsg(folder, raw string) error {
	_, err := d.user.Append(folder, strings.NewReader(raw), &imap.AppendOptions{Time: d.clock.Now()})
	return err
}

// send puts a sent mail in the Sent folder, as Outlook does.
func (d *demo) send(m sentMail) error {
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

// drain waits until the bot has delivered the whole outbox and Slack has
// printed it.
func (d *demo) drain(ctx context.Context) error {
	for {
		// A button pressed or a command typed is handled after Slack's
		// acknowledgement: its notices are queued only when the handler
		// has finished.
		if err := d.bot.Settle(ctx); err != nil {
			return errors.New("demo: the bot did not finish handling a request in time")
		}
		items, err := d.st.Pending(ctx, d.clock.Now().Add(1000*time.Hour), 0)
		if err == nil && len(items) == 0 && d.bot.Idle() {
			return d.term.quiet(ctx)
		}
		if ctx.Err() != nil {
			return errors.New("demo: the bot did not deliver its notices in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
