package report

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Bounces that are not RFC 3464 reports (qmail, Exim, old Sendmail, many
// webmail and carrier systems) say in text which addresses failed and why,
// and return the original message or its header below a separator. The
// reader here finds those three things without knowing each system's exact
// wording: the bounce's human text (above the returned message), the failed
// addresses in it, and each address's error lines.

// daemonLocalParts are local parts of addresses that send bounces.
var daemonLocalParts = []string{
	"mailer-daemon", "postmaster", "post_master", "mail-daemon", "maildaemon", "mailerdaemon",
	"mail.daemon", "bounce", "bounces", "nobody", "mdaemon", "mailadmin",
	"mail-delivery", "mailer", "daemon", "mailerservice", "mail", "root",
}

var bounceSubjectRe = regexp.MustCompile(`(?i)undeliver|returned mail|return(ing)? (mail|message)|delivery (status|fail|problem|notification|report)|mail delivery|failure notice|failed mail|could not (be )?deliver|not (be )?delivered|nondeliver|non-deliver|delivery has failed|mail system error|rejected|bounce|warning: could not|delayed mail|delivery delay|message status|error sending|mail failure|unzustellbar|不達|配信|エラー|未配達|届きません|送信できません`)

var bounceBodyRe = regexp.MustCompile(`(?i)could not be delivered|couldn't be delivered|wasn't able to deliver|was not delivered|unable to deliver|undeliverable|delivery (to the following|has failed|failed|problem)|permanent (fatal )?error|permanent failure|the following address(es)? (had|failed)|user unknown|no such user|mailbox (is )?(full|unavailable)|could not deliver|message (was|has been) (rejected|returned|blocked|delayed)|delivery (is )?delayed|still (being )?(retried|trying)|failed to deliver|this is the mail system|mail delivery (system|subsystem|failed)|returned to sender|届きませんでした|配信できません|送信できません|宛先不明|あて先|送信に失敗`)

// isBounce reports whether the message looks like a bounce.
func (m *message) isBounce() bool {
	h := m.root.hdr
	if h.has("x-failed-recipients") {
		return true
	}
	if local, _, ok := strings.Cut(m.from, "@"); ok {
		for _, d := range daemonLocalParts {
			if local == d {
				return true
			}
		}
	}
	from := strings.ToLower(decodeHeaderText(h.get("from")))
	if strings.Contains(from, "mail delivery") || strings.Contains(from, "mailer-daemon") || strings.Contains(from, "postmaster") {
		return true
	}
	if bounceSubjectRe.MatchString(m.subject) {
		return true
	}
	return bounceBodyRe.MatchString(m.humanText())
}

// returnedStartRe matches the first header line of a returned message
// quoted in a bounce's text.
var returnedStartRe = regexp.MustCompile(`(?im)^(return-path|received|message-id|from|date|subject|to|mime-version|content-type|x-[a-z0-9-]+|delivered-to|reply-to|sender|cc|dkim-signature|arc-seal|authentication-results):[ \t]`)

// separatorRe matches the line that introduces a returned message.
var separatorRe = regexp.MustCompile(`(?im)^[ \t>|]*[-=_*]*[ \t]*(below this line is a copy|this is a copy of|original message|copy of (the )?(original )?message|unsent message|returned (mail|message) follows|message header follows|the (original )?header|headers of the original|original message header|original mail as follows|元のメッセージ|原文|以下.*(原文|メッセージ))`)

// humanText returns the bounce's own text: the first text parts, cut where
// the returned message starts.
func (m *message) humanText() string {
	if m.human != nil {
		return *m.human
	}
	var b strings.Builder
	m.root.walk(func(p *entity) bool {
		if p.children == nil && (strings.HasPrefix(p.mediaType, "text/plain") || p.mediaType == "text/html" && b.Len() == 0) {
			t := p.text()
			if p.mediaType == "text/html" {
				t = stripTags(t)
			}
			b.WriteString(cutReturned(t))
			b.WriteByte('\n')
		}
		return b.Len() < maxPartBytes
	})
	s := b.String()
	m.human = &s
	return s
}

// cutReturned cuts a bounce text where the returned message begins.
func cutReturned(t string) string {
	end := len(t)
	if loc := separatorRe.FindStringIndex(t); loc != nil {
		end = loc[0]
	}
	for _, loc := range returnedStartRe.FindAllStringIndex(t[:end], 32) {
		if headerRun(t[loc[0]:]) {
			end = loc[0]
			break
		}
	}
	return t[:end]
}

// headerRun reports whether s starts with at least three header lines.
func headerRun(s string) bool {
	n := 0
	for n < 3 {
		line, rest, _ := strings.Cut(s, "\n")
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
			return false
		case line[0] == ' ' || line[0] == '\t':
		case returnedStartRe.MatchString(line) || isFieldName([]byte(strings.SplitN(line, ":", 2)[0])) && strings.Contains(line, ": "):
			n++
		default:
			return false
		}
		if rest == "" {
			return n >= 3
		}
		s = rest
	}
	return true
}

var (
	tagRe   = regexp.MustCompile(`(?s)<[^>]*>`)
	styleRe = regexp.MustCompile(`(?is)<(style|script)[^>]*>.*?</(style|script)>`)
)

// stripTags reduces HTML to its text, one line per element.
func stripTags(s string) string {
	s = styleRe.ReplaceAllString(s, "")
	s = tagRe.ReplaceAllString(s, "\n")
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&nbsp;", " ", "&quot;", `"`)
	return r.Replace(s)
}

// delayRe matches text that says delivery is still being attempted.
var delayRe = regexp.MustCompile(`(?i)will (continue|keep) (trying|to try|retrying)|still (being )?(trying|retried|attempting)|has not yet been delivered|not been delivered yet|delivery (is )?delayed|delayed mail|will be retried|warning: message .* delayed|temporarily deferred|retry (for|until)|this is a warning|no action is required`)

var giveUpRe = regexp.MustCompile(`(?i)given up|giving up|permanent|returned to sender|could not be delivered|undeliverable|failed permanently|not be delivered`)

// bounceReports reads a bounce that has no delivery-status part.
func (m *message) bounceReports() []Report {
	if !m.isBounce() {
		return nil
	}
	text := m.humanText()
	rcpts := m.failedRecipients(text)
	if len(rcpts) == 0 {
		return nil
	}
	action := ActionFailed
	if delayRe.MatchString(text) && !giveUpRe.MatchString(text) {
		action = ActionDelayed
	}
	orig := m.originalMessageID()
	var rs []Report
	for _, a := range rcpts {
		r := Report{Kind: KindDSN, Recipient: a, Action: action, OriginalMessageID: orig}
		r.Diagnostic = m.diagnosticFromText(a, rcpts)
		r.Status = preferStatus("", r.Diagnostic)
		if r.Status == "" {
			r.Status = findStatus(text)
		}
		r.ReplyCode = findReplyCode(r.Diagnostic)
		r.Reason = classify(r, "")
		rs = append(rs, r)
	}
	return rs
}

// failedRecipients finds the addresses a bounce reports on. Addresses that
// stand where bounces name the failed recipient (starting a line, after
// "RCPT TO:") are preferred over any address in the text; the bounce's own
// parties and the original sender are dropped unless nothing else is left.
func (m *message) failedRecipients(text string) []string {
	if v := m.root.hdr.get("x-failed-recipients"); v != "" {
		if as := findAddresses(v); len(as) > 0 {
			return as
		}
	}
	weak := map[string]bool{}
	for _, a := range findAddresses(m.root.hdr.get("to")) {
		weak[a] = true
	}
	rh := m.returnedHeader()
	if rh != nil {
		for _, a := range findAddresses(rh.get("from")) {
			weak[a] = true
		}
	}
	filter := func(as []string) []string {
		var strong, rest []string
		for _, a := range as {
			switch {
			case a == m.from:
			case weak[a] || isDaemonAddress(a):
				rest = append(rest, a)
			default:
				strong = append(strong, a)
			}
		}
		if len(strong) > 0 {
			return strong
		}
		return rest
	}
	if out := filter(prominentAddresses(text)); len(out) > 0 {
		return out
	}
	if out := filter(findAddresses(text)); len(out) > 0 {
		return out
	}
	if rh != nil {
		if as := findAddresses(rh.get("to")); len(as) == 1 {
			return as
		}
	}
	return nil
}

// prominentRe matches an address where bounces name failed recipients: at
// the start of a line (optionally bracketed, quoted or bulleted) or after
// "RCPT TO:".
var prominentRe = regexp.MustCompile(`(?im)(?:^[ \t]*(?:[*\-][ \t]*|[245]\d\d[ \-])?["<(]?|rcpt to:[ \t]*<?)(` + addressRe.String() + `)`)

// prominentAddresses returns the addresses in text that prominentRe
// matches, lower-cased and without duplicates.
func prominentAddresses(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, sm := range prominentRe.FindAllStringSubmatch(text, -1) {
		a := strings.ToLower(strings.Trim(sm[1], ".-"))
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func isDaemonAddress(a string) bool {
	local, _, _ := strings.Cut(a, "@")
	for _, d := range daemonLocalParts[:5] {
		if local == d {
			return true
		}
	}
	return false
}

// diagnosticFor returns the error lines that follow the first mention of
// addr in text: the line itself and the lines after it, up to a blank line
// or a line naming another of the report's recipients.
func diagnosticFor(text, addr string, all []string) string {
	lt := strings.ToLower(text)
	i := strings.Index(lt, addr)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(text[:i], '\n') + 1
	var lines []string
	for _, line := range strings.Split(text[start:], "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			if len(lines) > 1 {
				break
			}
			continue
		}
		if len(lines) > 0 && mentionsOther(strings.ToLower(line), addr, all) {
			break
		}
		lines = append(lines, line)
		if len(lines) >= 8 {
			break
		}
	}
	return strings.Join(lines, " ")
}

// mentionsOther reports whether line names a recipient in all other than
// addr.
func mentionsOther(line, addr string, all []string) bool {
	for _, a := range all {
		if a != addr && strings.Contains(line, a) {
			return true
		}
	}
	return false
}

// diagnosticFromText finds the error text for addr in a report's human
// part, for reports whose delivery-status block has no Diagnostic-Code.
// When the text does not put the error next to the address, the whole
// text (shortened) is the diagnostic: it still says what went wrong.
func (m *message) diagnosticFromText(addr string, all []string) string {
	text := m.humanText()
	if d := diagnosticFor(text, addr, all); d != "" && d != addr && d != "<"+addr+">" {
		return d
	}
	return summarize(text, maxDiagnosticBytes)
}

// maxDiagnosticBytes caps a diagnostic taken from a whole text.
const maxDiagnosticBytes = 1000

// summarize collapses runs of white space in s and cuts it to at most n
// bytes at a character boundary.
func summarize(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isNotReport reports whether the message is of a kind that is never a
// delivery or read report: a feedback (ARF) or TLS report, or an automatic
// reply such as an out-of-office notice.
func (m *message) isNotReport() bool {
	switch strings.ToLower(m.root.params["report-type"]) {
	case "feedback-report", "tlsrpt":
		return true
	}
	if m.root.find("message/feedback-report") != nil {
		return true
	}
	return m.isAutoReply()
}

var autoReplySubjectRe = regexp.MustCompile(`(?i)^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|vacation|away from|abwesenheit|absence|réponse automatique|自動応答|自動返信|不在)`)

// isAutoReply reports whether the message is an RFC 3834 automatic reply
// that is not a bounce.
func (m *message) isAutoReply() bool {
	h := m.root.hdr
	if isDaemonAddress(m.from) {
		return false
	}
	if autoReplySubjectRe.MatchString(m.subject) {
		return true
	}
	as := strings.ToLower(h.get("auto-submitted"))
	return strings.HasPrefix(as, "auto-replied") && (h.has("x-autoreply") || h.has("x-autorespond")) ||
		strings.Contains(strings.ToLower(h.get("precedence")), "auto_reply")
}
