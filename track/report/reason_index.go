package report

import (
	"strings"
	"sync"
)

// The classifier looks for a few hundred phrases in every diagnostic.
// reasonIdx finds all of them in one pass over the folded text, whatever
// their number, instead of one search per phrase.

// deliveryFailedPrefix and doesNotExistPhrase are phrases that steps read in
// place: where they first occur matters, not only whether they do.
const (
	deliveryFailedPrefix = "delivery failed "
	doesNotExistPhrase   = " does not exist"
)

// phraseRules lists every phrase rule the classifier applies, so that one
// pass can tell which of them match.
var phraseRules = []*phraseRule{
	&sendingLimitRule, &mailboxFullRule, &exceedLimitRule, &mesgTooBigRule,
	&suspendRule, &hasMovedRule, &noRelayingRule, &notCompliantRule,
	&authFailureRule, &badReputationRule, &speedingRule, &tooManyConnRule,
	&requirePTRRule, &virusRule, &spamRule, &spamWordRule, &policyRule, &contentErrorRule,
	&failedSTARTTLSRule, &noValidRecipientsRule, &userUnknownStrong, &userUnknownWeak, &filteredPhrases,
	&rejectedRule, &greetingRule, &notAcceptRule, &dnsErrorRule,
	&hostUnknownRule, &blockedRule, &systemFullRule, &networkErrorRule,
	&expiredRule, &mailerErrorRule, &systemErrorRule, &securityErrorRule,
	&syntaxErrorRule,
}

// reasonIdx is built on first use: building it takes longer than most
// programs that import the package run before they read a report.
var reasonIdx = sync.OnceValue(func() *reasonIndex { return newReasonIndex(phraseRules, commandMarkers) })

// reasonIndex maps each phrase it looks for to what the phrase stands for:
// rules that hold it, an SMTP command marker, or a phrase read in place.
type reasonIndex struct {
	set     *phraseSet
	targets [][]phraseTarget // by phrase number
	rules   map[*phraseRule]int
}

type phraseTarget struct {
	kind targetKind
	n    int // rule number, index in commandMarkers, or which phrase read in place
}

type targetKind uint8

const (
	ruleTarget targetKind = iota
	markerTarget
	placeTarget
)

// maxPhraseRules is how many rules a textScan can record.
const maxPhraseRules = 128

// textScan is what one pass over a folded diagnostic found.
type textScan struct {
	rules          [maxPhraseRules / 64]uint64 // bit n: rule n matches
	command        string                      // the SMTP command the last marker before the split names, or ""
	commandAfter   string                      // the same after the split
	deliveryFailed int                         // offset of the first deliveryFailedPrefix, or -1
	doesNotExist   int                         // offset of the first doesNotExistPhrase, or -1
}

func newReasonIndex(rules []*phraseRule, markers []commandMarker) *reasonIndex {
	ix := &reasonIndex{rules: map[*phraseRule]int{}}
	var phrases []string
	number := map[string]int{}
	add := func(p string, t phraseTarget) {
		n, ok := number[p]
		if !ok {
			n = len(phrases)
			number[p] = n
			phrases = append(phrases, p)
			ix.targets = append(ix.targets, nil)
		}
		ix.targets[n] = append(ix.targets[n], t)
	}
	for i, r := range rules[:min(len(rules), maxPhraseRules)] {
		ix.rules[r] = i
		for _, p := range r.phrases {
			add(p, phraseTarget{ruleTarget, i})
		}
	}
	for i, m := range markers {
		add(m.marker, phraseTarget{markerTarget, i})
	}
	add(deliveryFailedPrefix, phraseTarget{placeTarget, 0})
	add(doesNotExistPhrase, phraseTarget{placeTarget, 1})
	ix.set = newPhraseSet(phrases)
	return ix
}

// scan reads a folded text once. The text may join two texts at a space
// at offset split (len(text) when it is one text, -1 when the first is
// empty): SMTP command markers are then read in each part on its own.
func (ix *reasonIndex) scan(text string, split int) textScan {
	ts := textScan{deliveryFailed: -1, doesNotExist: -1}
	var before, after lastMarker
	transcript := false // a Sendmail-style ">>> COMMAND" marker occurs
	ix.set.scan(text, func(p, end int) bool {
		start := end - ix.set.lens[p]
		for _, t := range ix.targets[p] {
			switch t.kind {
			case ruleTarget:
				ts.rules[t.n/64] |= 1 << (t.n % 64)
			case markerTarget:
				switch {
				case strings.HasPrefix(commandMarkers[t.n].marker, ">>>"):
					transcript = true
				case end <= split:
					before.see(t.n, start)
				case start > split:
					after.see(t.n, start)
				}
			case placeTarget:
				at := &ts.deliveryFailed
				if t.n == 1 {
					at = &ts.doesNotExist
				}
				if *at < 0 {
					*at = start
				}
			}
		}
		return true
	})
	if transcript {
		for n, m := range commandMarkers {
			if !strings.HasPrefix(m.marker, ">>>") {
				continue
			}
			if split > 0 {
				before.see(n, lastRefused(text[:split], m.marker))
			}
			if split+1 < len(text) {
				if i := lastRefused(text[split+1:], m.marker); i >= 0 {
					after.see(n, split+1+i)
				}
			}
		}
	}
	ts.command, ts.commandAfter = before.command(), after.command()
	return ts
}

// lastMarker keeps the command marker that occurs last, the earlier one in
// commandMarkers when two start at the same offset.
type lastMarker struct {
	n, at int
	seen  bool
}

func (l *lastMarker) see(n, at int) {
	if at >= 0 && (!l.seen || at > l.at || at == l.at && n < l.n) {
		l.n, l.at, l.seen = n, at, true
	}
}

func (l *lastMarker) command() string {
	if !l.seen {
		return ""
	}
	return commandMarkers[l.n].command
}

// matches reports whether the case's text holds any of the rule's phrases.
func (c *reasonCase) matches(p *phraseRule) bool {
	n, ok := reasonIdx().rules[p]
	if !ok {
		return p.match(c.text)
	}
	return c.found.rules[n/64]&(1<<(n%64)) != 0
}
