package main

import (
	"context"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mailack/mailack/mailwatch"
	"github.com/mailack/mailack/mailwatch/pixel"
	"github.com/mailack/mailack/store"
)

// metrics are the daemon's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg        *prometheus.Registry
	reports    *prometheus.CounterVec
	outcomes   *prometheus.CounterVec
	registered prometheus.Counter
	// refusedRegistrations counts registrations of a Message-ID tracked
	// for another sender.
	refusedRegistrations prometheus.Counter
	quarantined          prometheus.Counter
	deadlines            prometheus.Counter
	slackCalls           *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := newCoreMetrics()
	m.slackCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailack_slack_calls_total",
		Help: "Slack Web API calls, by method (the Web API methods the bot uses, response_url for replies to a command or action, other) and result (ok, error, ratelimited)."}, []string{"method", "result"})
	m.reg.MustRegister(m.slackCalls)
	return m
}

func newCoreMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailack_reports_processed_total",
			Help: "Messages read from report folders, by kind (dsn, mdn, none)."}, []string{"kind"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailack_report_outcomes_total",
			Help: "What became of each report: applied (correlated), duplicate, orphaned, unknown_recipient, ignored, unauthorized (its mailbox may not report on that sender's mail)."}, []string{"outcome"}),
		registered: prometheus.NewCounter(prometheus.CounterOpts{Name: "mailack_mails_registered_total",
			Help: "Sent mails registered for tracking."}),
		refusedRegistrations: prometheus.NewCounter(prometheus.CounterOpts{Name: "mailack_registrations_refused_total",
			Help: "Registrations refused because another sender tracks the Message-ID."}),
		quarantined: prometheus.NewCounter(prometheus.CounterOpts{Name: "mailack_messages_quarantined_total",
			Help: "Messages set aside because they could not be processed."}),
		deadlines: prometheus.NewCounter(prometheus.CounterOpts{Name: "mailack_deadline_notices_total",
			Help: "No-response notices issued when a deadline passed."}),
	}
	m.reg.MustRegister(m.reports, m.outcomes, m.registered, m.refusedRegistrations, m.quarantined, m.deadlines,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchCollector exports the watcher's per-account health at scrape time.
type watchCollector struct {
	w          *mailwatch.Watcher
	reconnects *prometheus.Desc
	lastSync   *prometheus.Desc
	bytes      *prometheus.Desc
	watching   *prometheus.Desc
	logins     *prometheus.Desc
}

func newWatchCollector(w *mailwatch.Watcher) *watchCollector {
	return &watchCollector{w: w,
		reconnects: prometheus.NewDesc("mailack_imap_reconnects_total", "IMAP sessions that ended in an error, by account.", []string{"account"}, nil),
		lastSync:   prometheus.NewDesc("mailack_imap_last_sync_timestamp_seconds", "When a folder of the account was last read completely.", []string{"account"}, nil),
		bytes:      prometheus.NewDesc("mailack_imap_bytes_received_total", "Bytes received from IMAP servers.", nil, nil),
		watching:   prometheus.NewDesc("mailack_imap_folders_watching", "Folders connected and read up to date.", nil, nil),
		logins:     prometheus.NewDesc("mailack_imap_logins_total", "IMAP connections opened and logged in.", nil, nil),
	}
}

func (c *watchCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.reconnects
	ch <- c.lastSync
	ch <- c.bytes
	ch <- c.watching
	ch <- c.logins
}

func (c *watchCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.w.Status() {
		ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(s.Reconnects), s.Account)
		if !s.LastSync.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastSync, prometheus.GaugeValue, float64(s.LastSync.UnixNano())/1e9, s.Account)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(c.w.BytesRead()))
	ch <- prometheus.MustNewConstMetric(c.watching, prometheus.GaugeValue, float64(c.w.Watching()))
	ch <- prometheus.MustNewConstMetric(c.logins, prometheus.CounterValue, float64(c.w.Logins()))
}

// slackMetrics counts the bot's Web API calls by method and result. A
// rate-limited or failed call is retried by the bot from the outbox, so
// the error and ratelimited counts are its retries.
type slackMetrics struct {
	next http.RoundTripper
	m    *metrics
}

func (s *slackMetrics) RoundTrip(r *http.Request) (*http.Response, error) {
	method := slackMethod(r)
	resp, err := s.next.RoundTrip(r)
	result := "ok"
	switch {
	case err != nil:
		result = "error"
	case resp.StatusCode == http.StatusTooManyRequests:
		result = "ratelimited"
	case resp.StatusCode >= 300:
		result = "error"
	}
	s.m.slackCalls.WithLabelValues(method, result).Inc()
	return resp, err
}

// slackMethods are the Web API methods the bot calls: the only values of
// the method label besides responseURLMethod and "other", so that the
// label set stays bounded whatever URLs are called.
var slackMethods = map[string]bool{
	"auth.test": true, "apps.connections.open": true, "chat.postMessage": true, "chat.update": true,
	"chat.postEphemeral": true, "conversations.open": true, "users.lookupByEmail": true, "users.info": true,
	"views.publish": true, "views.open": true,
}

// responseURLMethod labels posts to a command's or action's response_url,
// whose path holds a live token that must never become a label.
const responseURLMethod = "response_url"

// slackMethod is the method label for a request to Slack.
func slackMethod(r *http.Request) string {
	if m := path.Base(r.URL.Path); slackMethods[m] {
		return m
	}
	// Response URLs are https://hooks.slack.com/commands/... and
	// .../actions/... (Slack: "Handling user interaction").
	if strings.HasPrefix(r.URL.Host, "hooks.") || strings.Contains(r.URL.Path, "/commands/") || strings.Contains(r.URL.Path, "/actions/") {
		return responseURLMethod
	}
	return "other"
}

// outboxCollector exports how many notices wait for Slack and how old the
// oldest is, at scrape time. With Slack turned off no notice is queued.
type outboxCollector struct {
	st    *store.Store
	now   func() time.Time
	depth *prometheus.Desc
	age   *prometheus.Desc
}

func newOutboxCollector(st *store.Store, now func() time.Time) *outboxCollector {
	return &outboxCollector{st: st, now: now,
		depth: prometheus.NewDesc("mailack_outbox_depth",
			"Notices in the outbox, not yet delivered to Slack (retries included). "+
				"While Slack is turned off none is queued: only notices left from when it was on count.", nil, nil),
		age: prometheus.NewDesc("mailack_outbox_oldest_age_seconds",
			"Age of the oldest notice in the outbox, not yet delivered to Slack; 0 when the outbox is empty. "+
				"While Slack is turned off none is queued.", nil, nil),
	}
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.age
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := c.now()
	items, err := c.st.Pending(ctx, now.Add(100*365*24*time.Hour), 0)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(len(items)))
	age := 0.0
	if len(items) > 0 {
		age = now.Sub(items[0].Enqueued).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

// pixelCollector exports what became of pixel hits, at scrape time.
type pixelCollector struct {
	h    *pixel.Handler
	hits *prometheus.Desc
}

func newPixelCollector(h *pixel.Handler) *pixelCollector {
	return &pixelCollector{h: h, hits: prometheus.NewDesc("mailack_pixel_hits_total",
		"Pixel fetches, by result: recorded, duplicate (a repeat of a recorded open within the dedup window), "+
			"invalid (token did not verify), ignored (sender's own or opted out), dropped (queue full), failed (store error).",
		[]string{"result"}, nil)}
}

func (c *pixelCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.hits }

func (c *pixelCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Stats()
	for _, v := range []struct {
		result string
		n      uint64
	}{{"recorded", s.Recorded}, {"duplicate", s.Duplicates}, {"invalid", s.Invalid}, {"ignored", s.Ignored},
		{"dropped", s.Dropped}, {"failed", s.Failed}} {
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(v.n), v.result)
	}
}
