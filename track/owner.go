package track

import (
	"strings"
)

// OwnedBy reports whether sender is the owner of m. Addresses compare as
// NormalizeAddress makes them.
func OwnedBy(m Mail, sender string) bool {
	s := NormalizeAddress(sender)
	return s != "" && s == NormalizeAddress(m.Sender)
}

// ReportScope is a mailbox that reports are read from, and the senders
// whose mail the reports found there may change.
type ReportScope struct {
	// Account names the mailbox, for logs and metrics.
	Account string
	// Senders lists addresses ("tanaka@example.co.jp") and whole domains
	// ("@example.co.jp"): the mailbox's owner first, then any senders a
	// shared report mailbox is configured for. A domain covers the
	// addresses of exactly that domain, not of its subdomains.
	Senders []string
}

// Covers reports whether reports found in the mailbox may change mail
// sent by sender. A scope without senders covers nobody.
func (s ReportScope) Covers(sender string) bool {
	addr := NormalizeAddress(sender)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return false
	}
	for _, e := range s.Senders {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case strings.HasPrefix(e, "@"):
			if len(e) > 1 && addr[at:] == e {
				return true
			}
		case e != "" && NormalizeAddress(e) == addr:
			return true
		}
	}
	return false
}

// Union returns a scope covering the senders of both s and o, named as s
// is. Senders are not repeated.
func (s ReportScope) Union(o ReportScope) ReportScope {
	out := ReportScope{Account: s.Account, Senders: append([]string(nil), s.Senders...)}
	for _, e := range o.Senders {
		if !containsFold(out.Senders, e) {
			out.Senders = append(out.Senders, e)
		}
	}
	if out.Account == "" {
		out.Account = o.Account
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// mayAdopt reports whether an orphan may be applied to m: an orphan read
// from a mailbox only to mail that mailbox may report on; one from no
// mailbox (a pixel fetch, a chat acknowledgement, both bound to their mail
// by other means) to any.
func mayAdopt(m Mail, o Orphan) bool {
	return o.Scope == nil || o.Scope.Covers(m.Sender)
}
