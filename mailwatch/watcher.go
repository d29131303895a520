package mailwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailack/mailack/track/report"
)

// Options configure a Watcher. Zero values take the defaults noted.
type Options struct {
	// Sink receives what is read. Required.
	Sink Sink
	// Answers, when set, makes the watcher look for replies and automatic
	// replies to tracked mail among the ordinary mail of report folders,
	// from a few more header fields (report.ReplyFields); nil looks for
	// reports only.
	Answers Answers
	Logger  *slog.Logger
	// CommandTimeout bounds every IMAP command (default 60 s): a server
	// that stops answering is disconnected rather than waited for forever.
	CommandTimeout time.Duration
	// IdleRestart re-issues IDLE this often (default 10 min), well before
	// the 29 minutes after which servers may drop an idle client. A watched
	// folder is also selected again this often (when polling too), to find
	// a folder deleted and recreated while selected (a new UIDVALIDITY) on
	// a server that does not say so.
	IdleRestart time.Duration
	// DefaultPoll is the poll interval for servers without IDLE (default
	// 1 min).
	DefaultPoll time.Duration
	// MaxMessageBytes caps how much of one message is kept (default
	// 10 MiB). A larger sent message is fetched up to the cap; a larger
	// report candidate is streamed through report.Shrink (at most 16 times
	// the cap of it), which keeps its structure and report parts.
	MaxMessageBytes int64
	// MinBackoff and MaxBackoff bound the wait before reconnecting after a
	// failure (default 1 s and 5 min): the wait is drawn at random below a
	// ceiling that starts at MinBackoff, doubles on each failure up to
	// MaxBackoff and resets after a session that lasted.
	MinBackoff, MaxBackoff time.Duration
	// MaxConcurrentLogins caps how many connections are being opened and
	// authenticated at once, across all accounts (default 16; negative for
	// no cap), so that thousands of folders reconnecting together queue
	// rather than all hit the server, and its rate limits, in the same
	// second.
	MaxConcurrentLogins int
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// DontRecover lets a panic while reading a message crash the watcher,
	// for tests; by default the message is quarantined.
	DontRecover bool
	// rand draws the backoff waits (default rand.Int64N); tests fix it.
	rand func(n int64) int64
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = time.Minute
	}
	if o.IdleRestart <= 0 {
		o.IdleRestart = 10 * time.Minute
	}
	if o.DefaultPoll <= 0 {
		o.DefaultPoll = time.Minute
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 10 << 20
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Minute, o.MinBackoff)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConcurrentLogins == 0 {
		o.MaxConcurrentLogins = DefaultMaxConcurrentLogins
	}
}

// DefaultMaxConcurrentLogins is the default of Options.MaxConcurrentLogins.
const DefaultMaxConcurrentLogins = 16

// AccountStatus is the health of one account.
type AccountStatus struct {
	Account    string
	LastSync   time.Time // when a folder of the account was last fully read
	LastError  string
	Reconnects int
}

// Watcher watches several accounts. Each folder of each account runs in
// its own goroutine with its own connection, so one failing account or
// folder never stops the others.
type Watcher struct {
	accounts   []Account
	opts       Options
	bytesRead  atomic.Int64
	loginCount atomic.Int64
	watching   atomic.Int64                          // folders connected and caught up
	parse      func([]byte) ([]report.Report, error) // report.Parse; tests may replace it
	searchable func(imap.CapSet) bool                // canPrefilter; tests replace it
	logins     semaphore                             // Options.MaxConcurrentLogins
	perAccount map[string]semaphore                  // Account.MaxConnections by account name

	mu     sync.Mutex // guards status
	status map[string]*AccountStatus

	// sentRead has a channel per account, closed once its Sent folder has
	// been read completely (see awaitSent); sentOnce closes it once.
	sentRead map[string]chan struct{}
	sentOnce map[string]*sync.Once
}

// New returns a watcher for accounts. It checks the accounts and reports
// every problem at once.
func New(accounts []Account, opts Options) (*Watcher, error) {
	opts.setDefaults()
	var errs []error
	if opts.Sink == nil {
		errs = append(errs, errors.New("mailwatch: no sink"))
	}
	seen := map[string]bool{}
	for i, a := range accounts {
		switch {
		case a.Name == "":
			errs = append(errs, fmt.Errorf("account %d: no name", i+1))
		case seen[a.Name]:
			errs = append(errs, fmt.Errorf("account %s: name used twice", a.Name))
		}
		seen[a.Name] = true
		if a.Addr == "" {
			errs = append(errs, fmt.Errorf("account %s: no server address", a.Name))
		}
		if a.Username == "" {
			errs = append(errs, fmt.Errorf("account %s: no username", a.Name))
		}
		if a.Password == "" && a.TokenSource == nil {
			errs = append(errs, fmt.Errorf("account %s: no password or oauth2 token source", a.Name))
		}
		if n := 1 + len(a.reportFolders()); a.MaxConnections > 0 && a.MaxConnections < n {
			errs = append(errs, fmt.Errorf("account %s: watches %d folders, one connection each, but may open only %d connections", a.Name, n, a.MaxConnections))
		}
		if a.Since < 0 {
			errs = append(errs, fmt.Errorf("account %s: since must not be negative", a.Name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	w := &Watcher{accounts: withColleagues(accounts), opts: opts, parse: report.Parse, searchable: canPrefilter, status: map[string]*AccountStatus{},
		sentRead: map[string]chan struct{}{}, sentOnce: map[string]*sync.Once{},
		logins: newSemaphore(opts.MaxConcurrentLogins), perAccount: map[string]semaphore{}}
	for _, a := range accounts {
		w.status[a.Name] = &AccountStatus{Account: a.Name}
		w.sentRead[a.Name] = make(chan struct{})
		w.sentOnce[a.Name] = &sync.Once{}
		w.perAccount[a.Name] = newSemaphore(a.MaxConnections)
	}
	return w, nil
}

// Run watches every folder of every account until ctx ends. It returns
// nil once every folder goroutine has stopped.
func (w *Watcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, a := range w.accounts {
		w.watch(ctx, &wg, a)
	}
	wg.Wait()
	return nil
}

// ErrUnknownAccount means RunAccount was given a name the watcher was not
// built with.
var ErrUnknownAccount = errors.New("mailwatch: unknown account")

// RunAccount watches every folder of one account until ctx ends, and
// returns once every folder goroutine of it has stopped and closed its
// connection. It lets the caller choose which accounts this process
// watches, and change its choice while running (in a cluster each node
// watches the accounts it owns); the caller must not run an account twice
// at once, nor together with Run. ctx is the context the account's items
// are applied with (Sink.Apply).
func (w *Watcher) RunAccount(ctx context.Context, name string) error {
	for _, a := range w.accounts {
		if a.Name == name {
			var wg sync.WaitGroup
			w.watch(ctx, &wg, a)
			wg.Wait()
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrUnknownAccount, name)
}

// watch starts one goroutine per folder of account a in wg.
func (w *Watcher) watch(ctx context.Context, wg *sync.WaitGroup, a Account) {
	log := w.opts.Logger.With("component", "mailwatch", "account", a.Name)
	folders := []*folderWatch{{w: w, acct: a, role: RoleSent, folder: a.SentFolder, log: log}}
	for _, name := range a.reportFolders() {
		folders = append(folders, &folderWatch{w: w, acct: a, role: RoleReports, folder: name, log: log})
	}
	for _, f := range folders {
		wg.Go(func() { w.supervise(ctx, f) })
	}
}

// supervise runs sessions of one folder until ctx ends, reconnecting after
// failures with capped exponential backoff and full jitter. A session that
// lasted longer than the longest wait resets the backoff: its end is news
// (a server restart, a dropped link), not the latest of a run of failures.
func (w *Watcher) supervise(ctx context.Context, f *folderWatch) {
	b := newBackoff(w.opts.MinBackoff, w.opts.MaxBackoff)
	if w.opts.rand != nil {
		b.rand = w.opts.rand
	}
	for ctx.Err() == nil {
		started := w.opts.Now()
		err := f.session(ctx)
		if ctx.Err() != nil {
			return
		}
		w.failed(f.acct.Name, err)
		if w.opts.Now().Sub(started) > w.opts.MaxBackoff {
			b.reset()
		}
		wait := b.next()
		f.log.Warn("imap session ended; reconnecting", "role", f.role, "folder", f.folder, "err", err, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (w *Watcher) synced(account string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status[account].LastSync = w.opts.Now()
	w.status[account].LastError = ""
}

func (w *Watcher) failed(account string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.status[account]
	s.Reconnects++
	if err != nil {
		s.LastError = err.Error()
	}
}

// Status returns the health of every account, in configuration order.
func (w *Watcher) Status() []AccountStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]AccountStatus, 0, len(w.accounts))
	for _, a := range w.accounts {
		out = append(out, *w.status[a.Name])
	}
	return out
}

// Watching returns how many folders are connected and have read
// everything up to the moment they last looked.
func (w *Watcher) Watching() int { return int(w.watching.Load()) }

// Logins returns how many connections have been opened and logged in.
func (w *Watcher) Logins() int64 { return w.loginCount.Load() }

// BytesRead returns how many bytes all connections have received.
func (w *Watcher) BytesRead() int64 { return w.bytesRead.Load() }

// withColleagues returns a copy of accounts in which each account's policy
// names the owners of the others (TrackPolicy.Colleagues).
func withColleagues(accounts []Account) []Account {
	out := slices.Clone(accounts)
	for i := range out {
		cs := slices.Clone(out[i].Policy.Colleagues)
		for _, o := range accounts {
			if !strings.EqualFold(o.owner(), out[i].owner()) {
				cs = append(cs, o.owner())
			}
		}
		out[i].Policy.Colleagues = cs
	}
	return out
}

// sentDone records that account's Sent folder has been read completely.
func (w *Watcher) sentDone(account string) {
	w.sentOnce[account].Do(func() { close(w.sentRead[account]) })
}

// awaitSent waits, at most timeout, until account's Sent folder has been
// read completely once: a reply can be recognised only once the mail it
// answers is tracked, and on the first pass over a mailbox the inbox may
// otherwise be read before the Sent folder. A Sent folder that cannot be
// read delays replies by timeout, never reports.
func (w *Watcher) awaitSent(ctx context.Context, account string, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.sentRead[account]:
	case <-ctx.Done():
	case <-t.C:
	}
}
