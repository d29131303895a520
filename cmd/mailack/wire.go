package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/microsoft"

	"github.com/mailack/mailack/cmd/mailack/config"
	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
)

// registrar starts tracking mail, whichever way it was learnt of (the
// Sent folder, the relay, /track): the deployment's deadline rules, the
// sender's own default deadline, the store, and a nudge to the bot when
// registering applied orphaned reports.
type registrar struct {
	st           *store.Store
	cal          *track.Calendar
	defaultAfter time.Duration
	now          func() time.Time
	metrics      *metrics
	// notify, when set, is told that notices were put in the outbox.
	notify func()
	// deadlineOf, when set, gives a sender's own default deadline (0 when
	// they chose none).
	deadlineOf func(ctx context.Context, sender string) time.Duration
	// log, when set, hears of refused registrations.
	log *slog.Logger
}

// register tracks m and, when cp is set, advances that checkpoint in the
// same transaction. A Message-ID tracked for another sender is refused
// with an error wrapping track.ErrOtherSender; the checkpoint still
// advances.
func (r *registrar) register(ctx context.Context, m track.Mail, cp *store.Checkpoint) (store.RegisterResult, error) {
	if r.deadlineOf != nil && m.Deadline == 0 {
		m.Deadline = r.deadlineOf(ctx, m.Sender)
	}
	now := r.now()
	tracked, err := track.Register(m, r.defaultAfter, r.cal, now)
	if err != nil {
		return store.RegisterResult{}, fmt.Errorf("register %s: %w", m.MessageID, err)
	}
	res, err := r.st.RegisterMail(ctx, store.RegisterInput{Mail: tracked, Now: now, Checkpoint: cp})
	if errors.Is(err, track.ErrOtherSender) {
		r.refused(m)
	}
	if err != nil {
		return res, err
	}
	if !res.Existed && r.metrics != nil {
		r.metrics.registered.Inc()
	}
	r.notified(len(res.Notices))
	return res, nil
}

// RegisterMail tracks mail the relay handed to the upstream. A refusal
// is logged by register and is no relay error.
func (r *registrar) RegisterMail(ctx context.Context, m track.Mail) error {
	_, err := r.register(ctx, m, nil)
	if errors.Is(err, track.ErrOtherSender) {
		return nil
	}
	return err
}

// refused counts and logs a registration of a Message-ID another sender
// owns (a copy of their mail in someone else's Sent folder, or a forged
// Message-ID); nothing of the owner's mail is logged.
func (r *registrar) refused(m track.Mail) {
	if r.metrics != nil {
		r.metrics.refusedRegistrations.Inc()
	}
	if r.log != nil {
		r.log.Warn("registration refused: message-id tracked for another sender", "message_id", m.MessageID, "account", m.Account, "sender", m.Sender)
	}
}

func (r *registrar) notified(n int) {
	if n > 0 && r.notify != nil {
		r.notify()
	}
}

// storeSink hands what the watcher reads to the store: each item with its
// checkpoint in one transaction.
type storeSink struct {
	*registrar
	log *slog.Logger
	// scopes are the report scopes of the accounts, by name: whose mail
	// the reports found in each may update. An account missing here may
	// update none.
	scopes map[string]*track.ReportScope
}

// reportScopes builds each account's report scope: its owner, and the
// senders reports_for lists.
func reportScopes(accts []config.Account) map[string]*track.ReportScope {
	out := make(map[string]*track.ReportScope, len(accts))
	for _, a := range accts {
		sc := &track.ReportScope{Account: a.Name, Senders: []string{track.NormalizeAddress(a.Owner)}}
		for _, s := range a.ReportsFor {
			sc.Senders = append(sc.Senders, strings.ToLower(s))
		}
		out[a.Name] = sc
	}
	return out
}

func (s *storeSink) scope(account string) *track.ReportScope {
	if sc, ok := s.scopes[account]; ok {
		return sc
	}
	return &track.ReportScope{Account: account}
}

func (s *storeSink) Checkpoint(ctx context.Context, account, folder string) (mailwatch.Checkpoint, error) {
	cp, err := s.st.Checkpoint(ctx, account, folder)
	if errors.Is(err, store.ErrNotFound) {
		return mailwatch.Checkpoint{Account: account, Folder: folder}, nil
	}
	if err != nil {
		return mailwatch.Checkpoint{}, err
	}
	return mailwatch.Checkpoint{Account: account, Folder: folder, UIDValidity: cp.UIDValidity, LastUID: cp.UID, ModSeq: cp.ModSeq}, nil
}

func (s *storeSink) Apply(ctx context.Context, it mailwatch.Item) error {
	err := s.apply(ctx, it)
	if err == nil && it.UID != 0 {
		c := it.Checkpoint
		s.log.Debug("message applied", "account", c.Account, "folder", c.Folder, "uid", it.UID, "reports", len(it.Reports), "sent", it.Sent != nil, "quarantined", it.Quarantine != nil)
	}
	return err
}

func (s *storeSink) apply(ctx context.Context, it mailwatch.Item) error {
	now := s.now()
	c := it.Checkpoint
	cp := &store.Checkpoint{Account: c.Account, Folder: c.Folder, UIDValidity: c.UIDValidity, UID: c.LastUID, ModSeq: c.ModSeq, Updated: now}
	switch {
	case it.Quarantine != nil:
		_, err := s.st.Quarantine(ctx, store.Quarantined{Account: c.Account, Folder: c.Folder, UIDValidity: c.UIDValidity, UID: it.UID,
			Size: it.Size, Reason: it.Quarantine.Reason, At: now, Head: it.Quarantine.Head}, cp)
		s.metrics.quarantined.Inc()
		return err
	case it.Sent != nil:
		_, err := s.register(ctx, *it.Sent, cp)
		if errors.Is(err, track.ErrOtherSender) {
			return nil // refused; the checkpoint advanced
		}
		return err
	case len(it.Reports) > 0:
		res, err := s.st.ApplyReport(ctx, store.ApplyInput{Reports: it.Reports, Checkpoint: cp, Scope: s.scope(c.Account), Now: now})
		if err != nil {
			return err
		}
		for i, r := range it.Reports {
			s.metrics.reports.WithLabelValues(string(r.Kind)).Inc()
			if i >= len(res.Items) {
				continue
			}
			s.metrics.outcomes.WithLabelValues(string(res.Items[i].Outcome)).Inc()
			if res.Items[i].Outcome == store.OutcomeUnauthorized {
				s.log.Warn("report refused: its mailbox may not report on that sender's mail", "account", c.Account, "folder", c.Folder,
					"uid", it.UID, "kind", r.Kind, "message_id", track.NormalizeMessageID(r.OriginalMessageID))
			}
		}
		s.notified(len(res.Notices))
		return nil
	default:
		if it.Reports != nil {
			s.metrics.reports.WithLabelValues("none").Inc()
		}
		return s.st.SetCheckpoint(ctx, *cp)
	}
}

// calendar builds the business-time calendar of the configuration, or
// nil when deadlines count plain time.
func calendar(b config.BusinessHours) (*track.Calendar, error) {
	if !b.Enabled {
		return nil, nil
	}
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return nil, err
	}
	cc := track.CalendarConfig{Location: loc}
	for _, d := range b.Days {
		cc.Workdays = append(cc.Workdays, weekday(d))
	}
	cc.DayStart, cc.DayEnd = clock(b.Start), clock(b.End)
	if b.Holidays != "none" {
		if cc.Holidays, err = track.Holidays(b.Holidays); err != nil {
			return nil, err
		}
	}
	for _, s := range b.Closed {
		d, err := track.ParseDate(s)
		if err != nil {
			return nil, err
		}
		cc.Closed = append(cc.Closed, d)
	}
	return track.NewCalendar(cc)
}

func weekday(s string) time.Weekday {
	for i, d := range []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} {
		if strings.EqualFold(s, d) {
			return time.Weekday(i)
		}
	}
	return time.Monday
}

// clock turns "HH:MM" (validated) into an offset from midnight.
func clock(s string) time.Duration {
	t, _ := time.Parse("15:04", s)
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

// accounts turns the configured accounts into watcher accounts, with a
// token source for each OAuth2 account. pixelURL, when not empty, is the
// prefix of mailack's pixel URLs: sent mail carrying one is tracked.
func accounts(ctx context.Context, cfg []config.Account, watch config.Watch, pixelURL string) []mailwatch.Account {
	out := make([]mailwatch.Account, 0, len(cfg))
	for _, a := range cfg {
		w := mailwatch.Account{
			Name: a.Name, Addr: net.JoinHostPort(a.Host, strconv.Itoa(a.Port)), TLS: mailwatch.TLSMode(a.TLS),
			Username: a.Username, Password: a.Password.Value(), Owner: track.NormalizeAddress(a.Owner),
			SentFolder: a.SentFolder, ReportFolders: a.ReportFolders, PollInterval: a.PollInterval,
			MoveReportsTo: a.MoveReportsTo, FlagReports: a.FlagReports,
			MaxConnections: a.ConnectionCap(watch), Since: a.SinceAge(watch),
			Policy: mailwatch.TrackPolicy{All: a.Track == "all", TrackingAddress: a.TrackingAddress, PixelMarker: pixelURL},
		}
		if a.TLS != "insecure" {
			w.TLSConfig = &tls.Config{ServerName: a.Host, MinVersion: tls.VersionTLS12}
		}
		if a.OAuth2 != nil {
			w.TokenSource = tokenSource(ctx, *a.OAuth2)
		}
		out = append(out, w)
	}
	return out
}

// Scopes for IMAP over XOAUTH2.
const (
	scopeM365AppOnly   = "https://outlook.office365.com/.default"
	scopeM365Delegated = "https://outlook.office365.com/IMAP.AccessAsUser.All"
	scopeGmail         = "https://mail.google.com/"
)

// tokenSource returns the OAuth2 token source of an account: Microsoft 365
// app-only access (client credentials, one app for many mailboxes), or a
// refresh token for Microsoft 365 or Gmail. Tokens are cached and renewed
// before they expire.
func tokenSource(ctx context.Context, o config.OAuth2) oauth2.TokenSource {
	if o.Flow == "client_credentials" {
		cc := clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Value(),
			TokenURL: microsoft.AzureADEndpoint(o.Tenant).TokenURL, Scopes: []string{scopeM365AppOnly}}
		if o.TokenURL != "" {
			cc.TokenURL = o.TokenURL
		}
		return cc.TokenSource(ctx)
	}
	c := oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Value()}
	switch o.Provider {
	case "google":
		c.Endpoint, c.Scopes = google.Endpoint, []string{scopeGmail}
	default:
		tenant := o.Tenant
		if tenant == "" {
			tenant = "common"
		}
		c.Endpoint, c.Scopes = microsoft.AzureADEndpoint(tenant), []string{scopeM365Delegated, "offline_access"}
	}
	if o.TokenURL != "" {
		c.Endpoint.TokenURL = o.TokenURL
	}
	return c.TokenSource(ctx, &oauth2.Token{RefreshToken: o.RefreshToken.Value()})
}
