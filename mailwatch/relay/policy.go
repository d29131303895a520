package relay

import (
	"fmt"
	"log/slog"
	"strings"
)

// ReceiptMode says when the relay asks recipients for read receipts.
type ReceiptMode string

// The receipt modes.
const (
	// ReceiptsNever adds no Disposition-Notification-To.
	ReceiptsNever ReceiptMode = "never"
	// ReceiptsAlways asks every recipient.
	ReceiptsAlways ReceiptMode = "always"
	// ReceiptsInternal asks only when every recipient is in an internal
	// domain: in Japanese business manners, asking people outside the
	// company for read receipts is rude, and one header serves all
	// recipients of a copy.
	ReceiptsInternal ReceiptMode = "internal"
)

// ReceiptPolicy decides whether the relay adds Disposition-Notification-To.
// A message that asks for read receipts itself keeps its header whatever
// the policy: the sender asked.
type ReceiptPolicy struct {
	Mode ReceiptMode
	// InternalDomains are the organisation's domains for ReceiptsInternal;
	// a domain also covers its subdomains.
	InternalDomains []string
}

func (p ReceiptPolicy) validate() error {
	switch p.Mode {
	case "", ReceiptsNever, ReceiptsAlways:
		return nil
	case ReceiptsInternal:
		if len(p.InternalDomains) == 0 {
			return fmt.Errorf("read receipts %q without internal domains", p.Mode)
		}
		return nil
	}
	return fmt.Errorf("unknown read receipt mode %q", p.Mode)
}

// Wants reports whether the policy asks recipients, given by address, for
// read receipts.
func (p ReceiptPolicy) Wants(recipients []string) bool {
	switch p.Mode {
	case ReceiptsAlways:
		return len(recipients) > 0
	case ReceiptsInternal:
		for _, r := range recipients {
			if !p.internal(domainOf(r)) {
				return false
			}
		}
		return len(recipients) > 0
	}
	return false
}

func (p ReceiptPolicy) internal(domain string) bool {
	if domain == "" {
		return false
	}
	for _, d := range p.InternalDomains {
		d = strings.ToLower(strings.Trim(d, ". "))
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// Secret is a password or other credential. It prints and logs as
// "REDACTED"; convert it with string() where the value is needed.
type Secret string

// String redacts the secret.
func (Secret) String() string { return "REDACTED" }

// GoString redacts the secret.
func (Secret) GoString() string { return "REDACTED" }

// LogValue redacts the secret.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }
