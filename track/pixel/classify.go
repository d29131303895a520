package pixel

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Verdict is who a pixel fetch is attributed to.
type Verdict string

// The verdicts.
const (
	// VerdictHuman is a person opening the mail.
	VerdictHuman Verdict = "human"
	// VerdictMachine is a fetch no person caused: a privacy prefetch or a
	// security scanner. It is recorded as "opened, possibly by a mail
	// proxy".
	VerdictMachine Verdict = "machine"
	// VerdictProxy is an image proxy that fetches when a person opens the
	// mail (Gmail's GoogleImageProxy): shown as opened.
	VerdictProxy Verdict = "proxy"
	// VerdictSender is the sender opening their own copy: not an open by
	// any recipient.
	VerdictSender Verdict = "sender"
)

// Machine reports whether the verdict is a fetch no person caused.
func (v Verdict) Machine() bool { return v == VerdictMachine }

// Human reports whether the verdict counts as a recipient opening the
// mail: a person, or a proxy acting for one.
func (v Verdict) Human() bool { return v == VerdictHuman || v == VerdictProxy }

var verdicts = map[Verdict]bool{VerdictHuman: true, VerdictMachine: true, VerdictProxy: true, VerdictSender: true}

// MatchKind says how a rule's user agent is compared.
type MatchKind string

// The match kinds. Exact compares bytes; contains and prefix ignore ASCII
// case, since scanners vary the case of their product names.
const (
	MatchExact    MatchKind = "exact"
	MatchContains MatchKind = "contains"
	MatchPrefix   MatchKind = "prefix"
)

// Hit is one fetch of a pixel, as the rules see it.
type Hit struct {
	// UserAgent is the User-Agent header, as sent.
	UserAgent string
	// Method is the HTTP method, upper case.
	Method string
	// Addr is the client's address; the zero Addr when unknown.
	Addr netip.Addr
	// Sent is when the mail was sent (the token's minting time); zero when
	// unknown. At is when the fetch happened.
	Sent time.Time
	At   time.Time
	// Sender is set when the fetch is known to come from the mail's sender.
	Sender bool
}

// Rule attributes fetches to a verdict. A rule matches a hit when every
// condition it sets holds; conditions left at their zero value are not
// checked. Validate rejects a rule that sets none.
type Rule struct {
	// Name identifies the rule in logs and configuration.
	Name string
	// UserAgent is compared with the hit's user agent as Match says.
	UserAgent string
	Match     MatchKind
	// Method is an HTTP method the hit must use, such as "HEAD".
	Method string
	// Ranges are address ranges the hit's address must fall in; a hit
	// without an address never matches a rule with ranges.
	Ranges []netip.Prefix
	// Within is how soon after sending a fetch must happen; a hit without
	// a sending time never matches a rule that sets it.
	Within time.Duration
	// Sender requires a fetch known to come from the sender.
	Sender bool
	// Verdict is what a matching hit is attributed to.
	Verdict Verdict
}

// Matches reports whether every condition of r holds for h.
func (r Rule) Matches(h Hit) bool {
	return r.matches(h, strings.ToLower(h.UserAgent))
}

// matches is Matches with the user agent lower-cased once per hit.
func (r Rule) matches(h Hit, lowerUA string) bool {
	if r.Sender && !h.Sender {
		return false
	}
	if r.Method != "" && !strings.EqualFold(r.Method, h.Method) {
		return false
	}
	if r.UserAgent != "" && !r.matchUA(h.UserAgent, lowerUA) {
		return false
	}
	if len(r.Ranges) > 0 && !inRanges(h.Addr, r.Ranges) {
		return false
	}
	if r.Within > 0 {
		if h.Sent.IsZero() || h.At.IsZero() {
			return false
		}
		if age := h.At.Sub(h.Sent); age < 0 || age >= r.Within {
			return false
		}
	}
	return true
}

func (r Rule) matchUA(ua, lowerUA string) bool {
	switch r.Match {
	case MatchExact:
		return ua == r.UserAgent
	case MatchPrefix:
		return strings.HasPrefix(lowerUA, strings.ToLower(r.UserAgent))
	default:
		return strings.Contains(lowerUA, strings.ToLower(r.UserAgent))
	}
}

// inRanges reports whether addr lies in one of ranges. IPv4 clients of a
// dual-stack listener arrive as IPv4-mapped IPv6 addresses, so those are
// unmapped first.
func inRanges(addr netip.Addr, ranges []netip.Prefix) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, p := range ranges {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Classify returns the verdict of the first rule that matches h, or
// VerdictHuman when none does.
func Classify(h Hit, rules []Rule) Verdict {
	r, ok := FirstMatch(h, rules)
	if !ok {
		return VerdictHuman
	}
	return r.Verdict
}

// FirstMatch returns the first rule that matches h.
func FirstMatch(h Hit, rules []Rule) (Rule, bool) {
	lower := strings.ToLower(h.UserAgent)
	for _, r := range rules {
		if r.matches(h, lower) {
			return r, true
		}
	}
	return Rule{}, false
}

// ErrInvalidRule means a rule table cannot be used.
var ErrInvalidRule = errors.New("pixel: invalid rule")

// Validate checks a rule table and reports every problem: a missing or
// repeated name, an unknown verdict or match kind, an invalid range, a
// negative Within, or a rule without any condition (it would match every
// fetch).
func Validate(rules []Rule) error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range rules {
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%w: rule %d (%q): %s", ErrInvalidRule, i, r.Name, fmt.Sprintf(format, args...)))
		}
		switch {
		case r.Name == "":
			fail("no name")
		case seen[r.Name]:
			fail("duplicate name")
		}
		seen[r.Name] = true
		if !verdicts[r.Verdict] {
			fail("unknown verdict %q", r.Verdict)
		}
		switch r.Match {
		case MatchExact, MatchContains, MatchPrefix:
		case "":
			if r.UserAgent != "" {
				fail("user agent without a match kind")
			}
		default:
			fail("unknown match kind %q", r.Match)
		}
		for _, p := range r.Ranges {
			if !p.IsValid() {
				fail("invalid range %v", p)
			}
		}
		if r.Within < 0 {
			fail("negative within %v", r.Within)
		}
		if r.UserAgent == "" && r.Method == "" && len(r.Ranges) == 0 && r.Within == 0 && !r.Sender {
			fail("no condition: it would match every fetch")
		}
	}
	return errors.Join(errs...)
}
