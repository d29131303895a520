package report

import "strings"

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
	&requirePTRRule, &virusRule, &spamRule, &policyRule, &contentErrorRule,
	&failedSTARTTLSRule, &userUnknownStrong, &userUnknownWeak, &filteredPhrases,
	&rejectedRule, &greetingRule, &notAcceptRule, &dnsErrorRule,
	&hostUnknownRule, &blockedRule, &systemFullRule, &networkErrorRule,
	&expiredRule, &mailerErrorRule, &systemErrorRule, &securityErrorRule,
	&syntaxErrorRule,
}

var reasonIdx = newReasonIndex(phraseRules, commandMarkers)

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
	command        string                      // the SMTP command the last marker names, or ""
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

// scan reads a folded text once.
func (ix *reasonIndex) scan(text string) textScan {
	ts := textScan{deliveryFailed: -1, doesNotExist: -1}
	best, bestAt := -1, -1
	transcript := false // a Sendmail-style ">>> COMMAND" marker occurs
	ix.set.scan(text, func(p, end int) bool {
		start := end - ix.set.lens[p]
		for _, t := range ix.targets[p] {
			switch t.kind {
			case ruleTarget:
				ts.rules[t.n/64] |= 1 << (t.n % 64)
			case markerTarget:
				if strings.HasPrefix(commandMarkers[t.n].marker, ">>>") {
					transcript = true
				} else if start > bestAt || start == bestAt && t.n < best {
					best, bestAt = t.n, start
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
			if i := lastRefused(text, m.marker); i > bestAt || i == bestAt && i >= 0 && n < best {
				best, bestAt = n, i
			}
		}
	}
	if best >= 0 {
		ts.command = commandMarkers[best].command
	}
	return ts
}

// matches reports whether the case's text holds any of the rule's phrases.
func (c *reasonCase) matches(p *phraseRule) bool {
	n, ok := reasonIdx.rules[p]
	if !ok {
		return p.match(c.text)
	}
	return c.found.rules[n/64]&(1<<(n%64)) != 0
}
