package pixel

import (
	"net/netip"
	"time"
)

// DefaultEarlyFetch is how soon after sending a fetch counts as a scanner
// under DefaultRules: security gateways fetch every image of a mail within
// seconds of delivery, people rarely open a mail that fast.
const DefaultEarlyFetch = 5 * time.Second

// AppleExampleRanges returns example address ranges for the prefetches of
// Apple Mail Privacy Protection: Apple's own registered blocks. They are
// examples, not Apple's published list: Apple fetches from many egress
// addresses and changes them, so a deployment that relies on this rule
// should configure the ranges it observes. A fetch with Apple's bare user
// agent from outside the ranges is left to the other rules.
func AppleExampleRanges() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("17.0.0.0/8"),     // Apple Inc. (ARIN)
		netip.MustParsePrefix("2620:149::/32"),  // Apple Inc. (ARIN)
		netip.MustParsePrefix("2a01:b740::/32"), // Apple Distribution International (RIPE NCC)
	}
}

// DefaultRules returns the rule table used unless configuration replaces
// it, in the order it is applied:
//
//   - sender-own-open: the caller knows the fetch is the sender's (their
//     Sent copy): not a recipient's open.
//   - head-request: browsers and mail programs fetch images with GET;
//     link and attachment scanners probe with HEAD.
//   - gmail-content-sampling: Gmail's prefetch bot, which fetches soon
//     after delivery with a frozen user agent no real browser sends
//     (Chrome 42 claiming to be Edge 12).
//   - apple-mpp: Apple Mail Privacy Protection prefetches every image of
//     every mail, whether or not it is read, with the bare user agent
//     "Mozilla/5.0", from Apple's addresses (see AppleExampleRanges).
//   - safelinks, proofpoint, mimecast, barracuda: security gateways that
//     name themselves in the user agent.
//   - early-fetch: any fetch within DefaultEarlyFetch of sending; gateways
//     that pose as browsers are caught here.
//   - google-image-proxy: Gmail loads every image through its proxy when a
//     person opens the mail, so this usually is a real open, shown as
//     opened (the proxy hides who and where).
//
// A fetch that matches none is a person's.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "sender-own-open", Sender: true, Verdict: VerdictSender},
		{Name: "head-request", Method: "HEAD", Verdict: VerdictMachine},
		{Name: "gmail-content-sampling", UserAgent: "Chrome/42.0.2311.135 Safari/537.36 Edge/12.246", Match: MatchContains, Verdict: VerdictMachine},
		{Name: "apple-mpp", UserAgent: "Mozilla/5.0", Match: MatchExact, Ranges: AppleExampleRanges(), Verdict: VerdictMachine},
		{Name: "safelinks", UserAgent: "safelinks", Match: MatchContains, Verdict: VerdictMachine},
		{Name: "proofpoint", UserAgent: "proofpoint", Match: MatchContains, Verdict: VerdictMachine},
		{Name: "mimecast", UserAgent: "mimecast", Match: MatchContains, Verdict: VerdictMachine},
		{Name: "barracuda", UserAgent: "barracuda", Match: MatchContains, Verdict: VerdictMachine},
		{Name: "early-fetch", Within: DefaultEarlyFetch, Verdict: VerdictMachine},
		{Name: "google-image-proxy", UserAgent: "GoogleImageProxy", Match: MatchContains, Verdict: VerdictProxy},
	}
}
