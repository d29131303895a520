package report

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reason is a bounce reason, named as in Sisimai's taxonomy
// (libsisimai.org/en/reason). The values are stable: they show up in logs,
// in Slack messages and in the store.
type Reason string

// The bounce reasons. ReasonUndefined is the empty string: the report does
// not say why delivery failed, or says it in a way we do not recognise.
const (
	ReasonUndefined       Reason = ""
	ReasonAuthFailure     Reason = "authfailure"     // SPF, DKIM or DMARC failed
	ReasonBadReputation   Reason = "badreputation"   // sending IP or domain has a poor reputation
	ReasonBlocked         Reason = "blocked"         // sending host refused (DNSBL, banned IP, rejected at connect or HELO)
	ReasonContentError    Reason = "contenterror"    // malformed content (8-bit headers, MIME errors)
	ReasonDelivered       Reason = "delivered"       // delivered successfully
	ReasonExceedLimit     Reason = "exceedlimit"     // message exceeds the recipient's administrative size limit
	ReasonExpired         Reason = "expired"         // gave up after retrying (queue lifetime, timeouts)
	ReasonFailedSTARTTLS  Reason = "failedstarttls"  // STARTTLS unavailable or failed
	ReasonFiltered        Reason = "filtered"        // refused by the recipient's filter, or the recipient refused after DATA
	ReasonHasMoved        Reason = "hasmoved"        // the recipient has moved (551)
	ReasonHostUnknown     Reason = "hostunknown"     // the recipient's domain does not exist or does not resolve
	ReasonMailboxFull     Reason = "mailboxfull"     // the recipient's mailbox is over quota
	ReasonMailerError     Reason = "mailererror"     // a local delivery program failed
	ReasonMesgTooBig      Reason = "mesgtoobig"      // the message is too big for the receiving system
	ReasonNetworkError    Reason = "networkerror"    // DNS trouble, lost connections, mail loops
	ReasonNoRelaying      Reason = "norelaying"      // relaying denied
	ReasonNotAccept       Reason = "notaccept"       // the domain accepts no mail (null MX, no SMTP service)
	ReasonNotCompliantRFC Reason = "notcompliantrfc" // the message is not RFC 5322 compliant
	ReasonPolicyViolation Reason = "policyviolation" // refused by the receiving site's policy
	ReasonRejected        Reason = "rejected"        // the envelope sender was refused
	ReasonRequirePTR      Reason = "requireptr"      // the sending IP lacks a valid PTR record
	ReasonSecurityError   Reason = "securityerror"   // authentication required or delivery not authorised
	ReasonSpamDetected    Reason = "spamdetected"    // the message was judged to be spam
	ReasonSpeeding        Reason = "speeding"        // the recipient receives mail too fast
	ReasonSuspend         Reason = "suspend"         // the recipient's account is disabled or suspended
	ReasonSyntaxError     Reason = "syntaxerror"     // an SMTP syntax or sequence error
	ReasonSystemError     Reason = "systemerror"     // an internal error at the receiving system
	ReasonSystemFull      Reason = "systemfull"      // the receiving system is out of storage
	ReasonTooManyConn     Reason = "toomanyconn"     // too many connections, recipients or messages
	ReasonUserUnknown     Reason = "userunknown"     // the recipient's mailbox does not exist
	ReasonVacation        Reason = "vacation"        // an auto-reply, not a bounce
	ReasonVirusDetected   Reason = "virusdetected"   // the message carried a virus
)

// ReasonInput is what the classifier looks at for one recipient.
type ReasonInput struct {
	Action     Action // failed, delayed, delivered, relayed, expanded ("" when unknown)
	Status     string // RFC 3463 code as found, e.g. "5.1.1" (may be "" or generic "5.0.0")
	ReplyCode  string // SMTP reply code, e.g. "550" (may be "")
	Diagnostic string // Diagnostic-Code text or the bounce's error text for that recipient
	Command    string // SMTP command the error answered: "CONN", "HELO", "EHLO", "MAIL", "RCPT", "DATA" or ""
}

// reasonMaxText caps how much diagnostic text is examined, so the cost of
// classifying stays bounded whatever the report holds. Diagnostics that
// matter are a few hundred bytes.
const reasonMaxText = 16 << 10

// reasonCase is one ReasonInput prepared for matching.
type reasonCase struct {
	text    string // folded diagnostic: lower case, single spaces
	found   textScan
	code    string // enhanced status code, e.g. "5.1.1", or ""
	name    Reason // what the status code alone says, or ""
	reply   string
	command string
	action  Action
}

// reasonStep looks at a prepared case and returns a reason, or "" to let
// the next step decide.
type reasonStep func(c *reasonCase) Reason

// reasonSteps run in order; the first non-empty answer wins. Specific
// evidence comes before general evidence: status codes that settle the
// matter, then phrases that name a cause, then the status code's class,
// the SMTP command and the reply code.
//
// A strict order of trust (any status code, then the reply code, then
// wording) was measured against this one and loses: servers put loose
// codes on specific refusals ("550 5.1.1" on a spam rejection, "5.7.1" on
// an unknown user). On the shared corpus it agrees on 77.9 % of reasons
// (halves 76.6 % / 79.3 %) where this order agrees on 92.4 % (91.7 % /
// 93.1 %); on two other parsers' test suites 80.2 % and 58.8 % against
// 84.7 % and 86.6 %, on real Exim bounces 64.3 % against 92.9 %. Moving
// only settledStatusStep before strongTextStep gives 91.2 % (90.3 % /
// 92.1 %), 84.7 %, 85.7 % and 92.9 %: no better anywhere, worse on both
// halves. The README lists the figures.
var reasonSteps = []reasonStep{
	unixExitStep,
	decisiveStatusStep,
	strongTextStep,
	settledStatusStep,
	weakTextStep,
	commandStep,
	statusNameStep,
	classStep,
	replyCodeStep,
	temporaryStep,
}

// ClassifyReason returns the reason for one recipient's report.
//
// A delivered action or a 2.X.X status gives ReasonDelivered. Otherwise the
// diagnostic text is matched against phrase tables (the most specific
// first), then the enhanced status code, the SMTP command the error
// answered, the reply code and finally the action. When Command is empty it
// is looked for in the diagnostic text.
func ClassifyReason(in ReasonInput) Reason {
	text := string(appendReasonText(make([]byte, 0, min(len(in.Diagnostic), reasonMaxText)), in.Diagnostic))
	return classifyFolded(in, text, reasonIdx().scan(text, len(text)))
}

// classifyFolded is ClassifyReason for a diagnostic already folded and
// scanned.
func classifyFolded(in ReasonInput, text string, found textScan) Reason {
	c := newReasonCase(in, text, found)
	if in.Action == ActionDelivered || strings.HasPrefix(c.code, "2.") {
		return ReasonDelivered
	}
	for _, step := range reasonSteps {
		if r := step(&c); r != ReasonUndefined {
			return r
		}
	}
	return ReasonUndefined
}

func newReasonCase(in ReasonInput, text string, found textScan) reasonCase {
	code := firstStatusCode(in.Status)
	if code == "" || isClassOnlyCode(code) {
		// Sisimai's preference: a specific code in the text beats a
		// generic X.0.0 in the Status field.
		// A success code in the text of a failure is no status of it
		// (RFC 3463 section 3.1): a version number, a quoted subject.
		failure := in.Action == ActionFailed || in.Action == ActionDelayed
		if t := firstStatusCode(text); t != "" && !isClassOnlyCode(t) && (code == "" || t[0] == code[0]) && !(failure && t[0] == '2') {
			code = t
		}
	}
	cmd := strings.ToUpper(strings.TrimSpace(in.Command))
	if cmd == "" {
		cmd = found.command
	}
	return reasonCase{
		text:    text,
		found:   found,
		code:    code,
		name:    statusReason(code),
		reply:   strings.TrimSpace(in.ReplyCode),
		command: cmd,
		action:  in.Action,
	}
}

// foldReasonText lower-cases s and collapses every run of white space to one
// space, so phrases match across line breaks and indentation.
func foldReasonText(s string) string {
	return string(appendFolded(make([]byte, 0, min(len(s), reasonMaxText)), s))
}

// appendReasonText appends s to b as foldReasonText folds it, and drops
// the addresses in angle brackets that stand between the words of an error
// (Courier's "550 User <x@example.com> unknown"): the wording is read
// without them.
func appendReasonText(b []byte, s string) []byte {
	start := len(b)
	b = appendFolded(b, s)
	return dropBracketedAddresses(b, start)
}

// dropBracketedAddresses removes from b[start:] each "<local@domain>"
// without blanks, with the blank before it.
func dropBracketedAddresses(b []byte, start int) []byte {
	i := start
	for {
		k := bytes.IndexByte(b[i:], '<')
		if k < 0 {
			return b
		}
		k += i
		end := bytes.IndexByte(b[k:], '>')
		if end < 0 {
			return b
		}
		end += k
		addr := b[k+1 : end]
		if len(addr) > 254 || bytes.IndexByte(addr, '@') <= 0 || bytes.ContainsAny(addr, " <") {
			i = k + 1
			continue
		}
		from := k
		if from > start && b[from-1] == ' ' {
			from--
		}
		b = append(b[:from], b[end+1:]...)
		i = from
	}
}

// appendFolded appends s to b as foldReasonText folds it.
func appendFolded(b []byte, s string) []byte {
	if len(s) > reasonMaxText {
		s = s[:reasonMaxText]
	}
	// ASCII, the usual case, is folded byte by byte: the result is never
	// longer than s.
	start := len(b)
	b = slices.Grow(b, len(s))
	buf := b[:len(b)+len(s)]
	n := len(b)
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return appendFoldedRunes(buf[:n], s[i:], start, space)
		}
		if asciiSpace(c) {
			space = true
			continue
		}
		if space && n > start {
			buf[n] = ' '
			n++
		}
		space = false
		buf[n] = lowerASCII[c]
		n++
	}
	return buf[:n]
}

// appendFoldedRunes goes on with appendFolded for text that is not all
// ASCII; the folded text started at b[start:], and space tells whether
// white space was just skipped.
func appendFoldedRunes(b []byte, s string, start int, space bool) []byte {
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		i += n
		if r < utf8.RuneSelf && asciiSpace(byte(r)) || r >= utf8.RuneSelf && unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && len(b) > start {
			b = append(b, ' ')
		}
		space = false
		if r < utf8.RuneSelf {
			b = append(b, lowerASCII[r])
		} else {
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	return b
}

// asciiSpace reports whether c is white space as unicode.IsSpace says.
func asciiSpace(c byte) bool {
	return c == ' ' || '\t' <= c && c <= '\r'
}

// firstStatusCode returns the first RFC 3463 code (class "2", "4" or "5",
// subject and detail of one to three digits) in s, or "".
func firstStatusCode(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '2' && c != '4' && c != '5' {
			continue
		}
		if i > 0 && (isASCIIDigit(s[i-1]) || s[i-1] == '.') {
			continue
		}
		if n := statusCodeLen(s[i:]); n > 0 {
			return s[i : i+n]
		}
	}
	return ""
}

// statusCodeLen returns the length of the status code at the start of s, or 0.
func statusCodeLen(s string) int {
	if len(s) < 5 || s[1] != '.' {
		return 0
	}
	i := 2
	for part := 0; part < 2; part++ {
		start := i
		for i < len(s) && isASCIIDigit(s[i]) && i-start < 4 {
			i++
		}
		if n := i - start; n == 0 || n > 3 {
			return 0
		}
		if part == 0 {
			if i >= len(s) || s[i] != '.' {
				return 0
			}
			i++
		}
	}
	if i < len(s) && (isASCIIDigit(s[i]) || s[i] == '.' && i+1 < len(s) && isASCIIDigit(s[i+1])) {
		return 0 // part of a longer number such as a version or an address
	}
	return i
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

// isClassOnlyCode reports whether code says nothing beyond its class (X.0.0).
func isClassOnlyCode(code string) bool {
	return len(code) == 5 && code[1:] == ".0.0"
}

// classOf returns the class digit of a status code or reply code.
func classOf(code string) byte {
	if code == "" {
		return 0
	}
	return code[0]
}

// decisiveStatusStep answers for status codes whose meaning no wording
// overrides, such as X.2.2 (mailbox full) or X.7.25 (reverse DNS).
func decisiveStatusStep(c *reasonCase) Reason {
	if c.code == "" {
		return ReasonUndefined
	}
	return decisiveStatus[c.code[2:]]
}

// unixExitStep reads the exit status of a local mailer as Sendmail reports
// it ("Diagnostic-Code: X-Unix; 67"). The values are those of sysexits.h
// (4.4BSD; Sendmail's deliver.c maps a mailer's exit status through them):
// EX_NOUSER (67) is an unknown user, EX_NOHOST (68) an unknown host,
// EX_TEMPFAIL (75) a temporary failure, EX_NOPERM (77) a refusal; any
// other status, such as 2 ("unknown mailer error 2"), is the mailer's own
// failure.
func unixExitStep(c *reasonCase) Reason {
	rest, ok := strings.CutPrefix(c.text, "x-unix; ")
	if !ok {
		return ReasonUndefined
	}
	n := 0
	for n < len(rest) && isASCIIDigit(rest[n]) {
		n++
	}
	if n == 0 || n > 3 || n < len(rest) && rest[n] != ' ' {
		return ReasonUndefined
	}
	switch rest[:n] {
	case "67":
		return ReasonUserUnknown
	case "68":
		return ReasonHostUnknown
	case "75":
		return ReasonUndefined // EX_TEMPFAIL: let the status decide
	case "77":
		return ReasonSecurityError
	}
	return ReasonMailerError
}

// strongTextStep matches phrases that name a cause whatever the status.
func strongTextStep(c *reasonCase) Reason {
	for _, rule := range strongRules {
		if r := rule(c); r != ReasonUndefined {
			return r
		}
	}
	return ReasonUndefined
}

// settledStatusStep returns what the status code says when the code is
// specific enough that vaguer wording should not override it.
func settledStatusStep(c *reasonCase) Reason {
	if c.name == ReasonUndefined || looseReasons[c.name] {
		return ReasonUndefined
	}
	return c.name
}

// weakTextStep matches phrases that are only trusted when the status code
// is missing or vague.
func weakTextStep(c *reasonCase) Reason {
	for _, rule := range weakRules {
		if r := rule(c); r != ReasonUndefined {
			return r
		}
	}
	return ReasonUndefined
}

// commandStep uses the SMTP command the error answered: refusals at
// connection or greeting are about the sending host, refusals of MAIL
// FROM are about the sender.
func commandStep(c *reasonCase) Reason {
	if c.action == ActionDelayed {
		return ReasonUndefined // still being retried: nothing was refused yet
	}
	switch c.command {
	case "CONN", "HELO", "EHLO":
		return ReasonBlocked
	case "MAIL":
		return ReasonRejected
	}
	return ReasonUndefined
}

// statusNameStep returns what the status code says, however vague.
func statusNameStep(c *reasonCase) Reason {
	return c.name
}

// classStep falls back on the diagnostic type and on the subject of a
// status code too vague for statusReason, such as 5.5.0 or 5.7.0.
func classStep(c *reasonCase) Reason {
	if strings.HasPrefix(c.text, "x-unix;") || strings.HasPrefix(c.text, "x-postfix;") {
		return ReasonMailerError // a local delivery agent, not an SMTP server
	}
	if len(c.code) < 3 {
		return ReasonUndefined
	}
	switch c.code[2] {
	case '5':
		return ReasonSyntaxError
	case '6':
		return ReasonContentError
	case '7':
		return ReasonSecurityError
	}
	return ReasonUndefined
}

// replyCodeStep falls back on the SMTP reply code (RFC 5321 section 4.2.3,
// RFC 7504).
func replyCodeStep(c *reasonCase) Reason {
	return replyReasons[c.reply]
}

// temporaryStep ends the search: a delayed report, or a failed one whose
// last error was temporary, means the sender gave up waiting.
func temporaryStep(c *reasonCase) Reason {
	if c.action == ActionDelayed {
		return ReasonExpired
	}
	if classOf(c.code) == '4' || c.code == "" && classOf(c.reply) == '4' {
		return ReasonExpired
	}
	return ReasonUndefined
}

// statusReason returns what an enhanced status code says on its own: the
// exact subject and detail first, then the subject alone.
func statusReason(code string) Reason {
	if len(code) < 5 {
		return ReasonUndefined
	}
	rest := code[2:]
	if r, ok := statusDetail[rest]; ok {
		return r
	}
	subject, _, _ := strings.Cut(rest, ".")
	return statusSubject[subject]
}

// SMTPCommandFromText finds which SMTP command an error text answered, as
// MTAs write it in their bounces: "(in reply to end of DATA command)" gives
// "DATA", "after RCPT TO:<...>" gives "RCPT", "refused to talk to me" gives
// "CONN". It returns "CONN", "HELO", "EHLO", "MAIL", "RCPT", "DATA" or "".
// When the text names several commands, as an SMTP transcript does, the
// last one wins: it is the one the final error answered.
func SMTPCommandFromText(s string) string {
	return commandFromFolded(foldReasonText(s))
}

func commandFromFolded(text string) string {
	return reasonIdx().scan(text, len(text)).command
}

// lastRefused returns where marker last occurs in text, or -1. In an SMTP
// transcript it passes over a DATA refused only because every RCPT TO
// before it had been: "<<< 503 Need RCPT" or "no valid recipients" names
// the earlier error, not a new one.
func lastRefused(text, marker string) int {
	end := len(text)
	for {
		i := strings.LastIndex(text[:end], marker)
		if i < 0 || !strings.HasPrefix(marker, ">>>") {
			return i
		}
		reply := text[i+len(marker):]
		if len(reply) > 200 {
			reply = reply[:200] // the command's own arguments and reply
		}
		k := strings.Index(reply, "<<<")
		if k < 0 {
			return i
		}
		reply = reply[k:]
		if len(reply) > 80 {
			reply = reply[:80]
		}
		if !strings.HasPrefix(reply, "<<< 503") && !strings.Contains(reply, "no valid recipients") {
			return i
		}
		end = i
	}
}

// phraseRule gives reason when the folded text holds any of phrases. A
// rule with skip set does not apply to errors answering those SMTP
// commands.
type phraseRule struct {
	reason  Reason
	phrases []string
	skip    []string
}

// apply is the rule as a reasonStep.
func (p *phraseRule) apply(c *reasonCase) Reason {
	if p.skips(c.command) || !c.matches(p) {
		return ReasonUndefined
	}
	return p.reason
}

// match reports whether text holds any of the rule's phrases.
func (p *phraseRule) match(text string) bool {
	for _, ph := range p.phrases {
		if strings.Contains(text, ph) {
			return true
		}
	}
	return false
}

func (p *phraseRule) skips(command string) bool {
	for _, s := range p.skip {
		if s == command {
			return true
		}
	}
	return false
}

// userUnknownStep tells a missing mailbox from a filter. A mailbox that
// does not exist is refused at RCPT TO; the same words after DATA, or with
// no sign of RCPT TO and a status that is not X.1.X, mean a filter or
// policy refused the message (Sisimai's "filtered").
func userUnknownStep(c *reasonCase) Reason {
	if c.command == "MAIL" {
		return ReasonUndefined
	}
	strong := c.matches(&userUnknownStrong)
	weak := strong || c.matches(&userUnknownWeak)
	if c.name == ReasonUserUnknown {
		if !strong && (c.matches(&blockedRule) || c.matches(&rejectedRule) || c.matches(&notAcceptRule)) {
			return ReasonUndefined // the code is loose; a later rule knows better
		}
		return ReasonUserUnknown
	}
	switch {
	case strong && c.command != "DATA":
		return ReasonUserUnknown
	case weak && c.command == "RCPT":
		return ReasonUserUnknown
	case weak || c.matches(&filteredPhrases):
		return ReasonFiltered
	}
	return ReasonUndefined
}

// missingDomainStep reads "example.com does not exist" as a domain that
// does not exist, not a mailbox: the word before the phrase is a host
// name rather than an address.
func missingDomainStep(c *reasonCase) Reason {
	if hostUnknownRule.skips(c.command) {
		return ReasonUndefined
	}
	i := c.found.doesNotExist
	if i <= 0 {
		return ReasonUndefined
	}
	word := c.text[strings.LastIndexByte(c.text[:i], ' ')+1 : i]
	if looksLikeHostName(word) {
		return ReasonHostUnknown
	}
	return ReasonUndefined
}

// looksLikeHostName reports whether s looks like a domain name: dot-separated
// labels of letters, digits and hyphens, ending in a letter.
func looksLikeHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if !strings.Contains(s, ".") || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || isASCIIDigit(c) || c == '-' || c == '.') {
			return false
		}
	}
	last := s[len(s)-1]
	return 'a' <= last && last <= 'z'
}

// failedAttemptsStep reads "Delivery failed 20 attempts" (IMail) as a
// message given up after retrying.
func failedAttemptsStep(c *reasonCase) Reason {
	const prefix, suffix = deliveryFailedPrefix, " attempts"
	i := c.found.deliveryFailed
	if i < 0 {
		return ReasonUndefined
	}
	rest := c.text[i+len(prefix):]
	n := 0
	for n < len(rest) && isASCIIDigit(rest[n]) {
		n++
	}
	if n == 0 || !strings.HasPrefix(rest[n:], suffix) {
		return ReasonUndefined
	}
	return ReasonExpired
}
