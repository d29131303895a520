package report

import (
	"strings"
	"sync"
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

// bounceSubjectPhrases are words in the subjects of bounces.
var bounceSubjectPhrases = []string{
	"undeliver", "returned mail", "return mail", "return message", "returning mail", "returning message",
	"delivery status", "delivery fail", "delivery problem", "delivery notification", "delivery report",
	"mail delivery", "failure notice", "failed mail", "could not deliver", "could not be deliver",
	"not delivered", "not be delivered", "nondeliver", "non-deliver", "delivery has failed",
	"mail system error", "rejected", "bounce", "warning: could not", "delayed mail", "delivery delay",
	"message status", "error sending", "mail failure", "unzustellbar",
	"不達", "配信", "エラー", "未配達", "届きません", "送信できません",
}

var bounceSubjects = sync.OnceValue(func() *phraseSet { return newPhraseSet(bounceSubjectPhrases) })

// bounceBodyPhrases are what a bounce's text says about mail it could not
// deliver.
var bounceBodyPhrases = lazyPhraseSet([]string{
	"could not be delivered", "couldn't be delivered", "wasn't able to deliver",
	"was not delivered", "unable to deliver", "undeliverable",
	"delivery to the following", "delivery has failed", "delivery failed", "delivery problem",
	"permanent error", "permanent fatal error", "permanent failure",
	"the following address had", "the following addresses had",
	"the following address failed", "the following addresses failed",
	"user unknown", "no such user",
	"mailbox full", "mailbox is full", "mailbox unavailable", "mailbox is unavailable",
	"could not deliver",
	"message was rejected", "message was returned", "message was blocked", "message was delayed",
	"message has been rejected", "message has been returned", "message has been blocked", "message has been delayed",
	"delivery delayed", "delivery is delayed",
	"still retried", "still being retried", "still trying", "still being trying",
	"failed to deliver", "this is the mail system",
	"mail delivery system", "mail delivery subsystem", "mail delivery failed",
	"returned to sender",
	"届きませんでした", "配信できません", "送信できません", "宛先不明", "あて先", "送信に失敗",
})

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
	if bounceSubjects().any(m.subject) {
		return true
	}
	// A notification from the null reverse-path (RFC 5321 section 4.5.5)
	// with no subject is a mail system's one-line refusal ("You sent mail
	// to x. That's not a valid user here.").
	if strings.TrimSpace(h.get("return-path")) == "<>" && strings.TrimSpace(m.subject) == "" && !h.has("subject") {
		return true
	}
	return bounceBodyPhrases().any(m.humanText())
}

// returnedStartFields are the fields that may start the header of a
// returned message quoted in a bounce's text, besides any X- field.
var returnedStartFields = []string{
	"return-path", "received", "message-id", "from", "date", "subject", "to",
	"mime-version", "content-type", "delivered-to", "reply-to", "sender", "cc",
	"dkim-signature", "arc-seal", "authentication-results",
}

// isReturnedStart reports whether line is a header line that may start a
// returned message: one of returnedStartFields or an X- field, a colon and
// a blank.
func isReturnedStart(line string) bool {
	i := 0
	for i < len(line) && (isAlnum(line[i]) || line[i] == '-') {
		i++
	}
	if i == 0 || i+1 >= len(line) || line[i] != ':' || line[i+1] != ' ' && line[i+1] != '\t' {
		return false
	}
	name := line[:i]
	if len(name) > 2 && hasPrefixFold(name, "x-") {
		return true
	}
	for _, f := range returnedStartFields {
		if len(f) == len(name) && hasPrefixFold(name, f) {
			return true
		}
	}
	return false
}

// separatorPhrases are the words of the line that introduces a returned
// message, after any quoting and rule characters.
var separatorPhrases = []string{
	"below this line is a copy", "this is a copy of", "original message",
	"copy of message", "copy of the message", "copy of original message", "copy of the original message",
	"unsent message", "returned mail follows", "returned message follows",
	"message header follows", "the header", "the original header", "headers of the original",
	"original mail as follows", "元のメッセージ", "原文",
}

// separatorsByByte holds separatorPhrases by their first byte.
var separatorsByByte = func() (t [256][]string) {
	for _, p := range separatorPhrases {
		t[p[0]] = append(t[p[0]], p)
	}
	return t
}()

// isSeparator reports whether line introduces a returned message.
func isSeparator(line string) bool {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '>' || line[i] == '|') {
		i++
	}
	for i < len(line) && (line[i] == '-' || line[i] == '=' || line[i] == '_' || line[i] == '*') {
		i++
	}
	rest := line[skipBlanks(line, i):]
	if rest == "" {
		return false
	}
	for _, p := range separatorsByByte[lowerASCII[rest[0]]] {
		if hasPrefixFold(rest, p) {
			return true
		}
	}
	if after, ok := strings.CutPrefix(rest, "以下"); ok {
		return strings.Contains(after, "原文") || strings.Contains(after, "メッセージ")
	}
	return false
}

// humanText returns the bounce's own text: the first text parts, cut where
// the returned message starts.
func (m *message) humanText() string {
	if m.human != nil {
		return *m.human
	}
	var pieces []string
	n := 0 // the length of the text so far
	m.root.walk(func(p *entity) bool {
		if p.children == nil && (strings.HasPrefix(p.mediaType, "text/plain") || p.mediaType == "text/html" && n == 0) {
			var t string
			if p.mediaType == "text/html" {
				t = cutReturned(stripTags(p.text()))
			} else {
				t = p.text()[:p.returnedAt()]
			}
			pieces = append(pieces, t)
			n += len(t) + 1
		}
		return n < maxTextBytes
	})
	var b strings.Builder
	b.Grow(n)
	for _, t := range pieces {
		b.WriteString(t)
		b.WriteByte('\n')
	}
	s := b.String()
	m.human = &s
	return s
}

// cutReturned cuts a bounce text where the returned message begins: at a
// separator line, or at a run of header lines.
func cutReturned(t string) string {
	starts := 0 // only the first 32 possible header starts are tried
	for pos := 0; pos < len(t); {
		line, next := t[pos:], len(t)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], pos+i+1
		}
		if isSeparator(line) {
			return t[:pos]
		}
		if starts < 32 && isReturnedStart(line) {
			starts++
			if headerRun(t[pos:]) {
				return t[:pos]
			}
		}
		pos = next
	}
	return t
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
		case isReturnedStart(line) || isHeaderLine(line):
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

// isHeaderLine reports whether line looks like a header field: a field
// name, a colon, and ": " somewhere.
func isHeaderLine(line string) bool {
	i := strings.IndexByte(line, ':')
	if i < 0 {
		i = len(line)
	}
	return isFieldNameString(line[:i]) && strings.Contains(line, ": ")
}

// delayPhrases are what a bounce's text says when delivery is still being
// attempted. The first, delayWarning, counts only when " delayed" follows
// on its line.
var delayPhrases = lazyPhraseSet([]string{
	delayWarning,
	"will continue trying", "will continue to try", "will continue retrying",
	"will keep trying", "will keep to try", "will keep retrying",
	"still trying", "still retried", "still attempting",
	"still being trying", "still being retried", "still being attempting",
	"has not yet been delivered", "not been delivered yet",
	"delivery delayed", "delivery is delayed", "delayed mail", "will be retried",
	"temporarily deferred", "retry for", "retry until", "this is a warning",
	"no action is required",
	// Exchange and Microsoft 365 delay notices: "Delivery attempts will
	// continue to be made for 1 day(s)".
	"attempts will continue to be made", "will continue to be attempted",
})

const delayWarning = "warning: message "

// stillTryingPhrases say that delivery goes on in so many words, which
// outweighs a "could not be delivered" before them: Exchange's delay
// notice says the message "could not be delivered to the following
// recipients" and then "Please do not resend your original message.
// Delivery attempts will continue to be made for 5 day(s)".
var stillTryingPhrases = lazyPhraseSet([]string{
	"attempts will continue to be made", "will continue to be attempted",
	"do not resend your original message", "this is a warning message only",
})

// giveUpPhrases are what a bounce's text says when delivery has ended.
var giveUpPhrases = lazyPhraseSet([]string{
	"given up", "giving up", "permanent", "returned to sender",
	"could not be delivered", "undeliverable", "failed permanently", "not be delivered",
})

// saysDelayed reports whether text says delivery is still being attempted.
func saysDelayed(text string) bool {
	found := false
	noDelayedBefore := -1 // the rest of the line up to here holds no " delayed"
	delayPhrases().scan(text, func(p, end int) bool {
		if p != 0 {
			found = true
			return false
		}
		if end < noDelayedBefore {
			return true
		}
		eol := indexByteFrom(text, end, '\n')
		if eol < 0 {
			eol = len(text)
		}
		if indexFold(text[:eol], end, " delayed") >= 0 {
			found = true
			return false
		}
		noDelayedBefore = eol
		return true
	})
	return found
}

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
	if len(rcpts) > maxRecipients {
		rcpts = rcpts[:maxRecipients]
	}
	action := ActionFailed
	if saysDelayed(text) && (!giveUpPhrases().any(text) || stillTryingPhrases().any(text)) {
		action = ActionDelayed
	}
	orig := m.originalMessageID()
	status := findStatus(text)
	mt := m.mentionsOf(rcpts)
	var rs []Report
	for _, a := range rcpts {
		r := Report{Kind: KindDSN, Recipient: a, Action: action, OriginalMessageID: orig}
		r.Diagnostic = m.diagnosticFromText(a, mt)
		r.Status = preferStatus("", r.Diagnostic)
		if r.Status == "" || r.Status[0] == '2' {
			r.Status = status
		}
		if r.Status != "" && r.Status[0] == '2' {
			// A success code (RFC 3463 section 3.1, class 2) does not
			// describe a failure or a delay: "2.0.12" in a text bounce
			// is a version number in the returned subject.
			r.Status = ""
		}
		r.OriginalRecipient = expandedFrom(text, a)
		r.ReplyCode = findReplyCode(r.Diagnostic)
		r.Reason = classify(r, "")
		if r.Reason == ReasonUndefined {
			// Many bounces say why in a paragraph of its own, away
			// from the address (Notes: "was not delivered to: x
			// because: User x not listed in public Name & Address
			// Book"): the whole text says it.
			r.Reason = classify(Report{Action: r.Action, Status: r.Status, ReplyCode: r.ReplyCode}, m.textSummary())
		}
		r.Reason = m.ownDomainReason(r)
		rs = append(rs, r)
	}
	return rs
}

// expandedFrom returns the address a Sendmail bounce says addr was
// expanded from, or "": Sendmail lists an address reached through an
// alias with "(expanded from: alias)" on the line after it (savemail.c,
// errbody).
func expandedFrom(text, addr string) string {
	const marker = "(expanded from:"
	for from, n := 0, 0; n < 16; n++ {
		i := indexFold(text, from, addr)
		if i < 0 {
			return ""
		}
		from = i + len(addr)
		near := text[from:min(len(text), from+160)]
		j := indexFold(near, 0, marker)
		if j < 0 || strings.Count(near[:j], "\n") > 1 {
			continue
		}
		rest := near[j+len(marker):]
		if as := findAddresses(rest[:max(0, strings.IndexByte(rest, ')'))]); len(as) == 1 && as[0] != addr {
			return as[0]
		}
	}
	return ""
}

// textSummary returns the report's human text with its white space
// collapsed, at most maxDiagnosticBytes of it.
func (m *message) textSummary() string {
	if m.summary == nil {
		s := summarize(m.humanText(), maxDiagnosticBytes)
		m.summary = &s
	}
	return *m.summary
}

// ownDomainReason corrects r's reason when the address is in the
// reporting system's own domain. Exim says "Unrouteable address" when no
// router accepts an address (Exim specification, chapter "Routing"): for
// a domain the system delivers itself, that is a user it does not have.
func (m *message) ownDomainReason(r Report) Reason {
	if r.Reason != ReasonHostUnknown || !strings.Contains(strings.ToLower(r.Diagnostic), "unrouteable address") {
		return r.Reason
	}
	_, domain, _ := strings.Cut(r.Recipient, "@")
	host := m.reportingHost()
	if domain != "" && host != "" && (host == domain || strings.HasSuffix(host, "."+domain)) {
		return ReasonUserUnknown
	}
	return r.Reason
}

// reportingHost returns the host that wrote the report, lower-cased: its
// Reporting-MTA, else the domain of its From address.
func (m *message) reportingHost() string {
	if part := m.root.find("message/delivery-status", "message/global-delivery-status"); part != nil {
		blocks := fieldBlocks(part.decoded(maxHeaderBytes))
		if len(blocks) > 0 {
			if v := typedValue(blocks[0].get("reporting-mta")); v != "" {
				return strings.ToLower(strings.TrimSuffix(v, "."))
			}
		}
	}
	_, domain, _ := strings.Cut(m.from, "@")
	return domain
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
	for _, a := range senderMentions(text) {
		weak[a] = true
	}
	// Addresses the bounce suggests instead of the failed one, or gives
	// as examples in help text, are never failed recipients.
	suggested := map[string]bool{}
	for _, a := range suggestedAddresses(text) {
		suggested[a] = true
	}
	// filter splits addresses into those that may be the failed
	// recipients and those that only are when nothing else is named.
	filter := func(as []string) (strong, rest []string) {
		for _, a := range as {
			switch {
			case a == m.from || suggested[a]:
			case weak[a] || isDaemonAddress(a) || isHelpAddress(a):
				rest = append(rest, a)
			default:
				strong = append(strong, a)
			}
		}
		return strong, rest
	}
	// The text names the original's recipients before it names those
	// that failed (Exchange: "Your message To: a, b ... did not reach the
	// following recipient(s): b"): only the addresses after the phrase
	// that introduces the failed ones count.
	var candidates [][]string
	if i := failedListStart(text); i >= 0 {
		candidates = append(candidates, prominentAddresses(text[i:]), findAddresses(text[i:]))
	}
	candidates = append(candidates, prominentAddresses(text), findAddresses(text))
	var rest []string
	for _, as := range candidates {
		strong, r := filter(as)
		if len(strong) > 0 {
			return strong
		}
		if rest == nil {
			rest = r
		}
	}
	// A name without a domain where the failed recipient stands comes
	// before the bounce's own parties: AOL's "not accepting mail from
	// sender@example.com: screenname" names the sender, not the failed
	// recipient.
	if a := m.screenName(text); a != "" {
		return []string{a}
	}
	if len(rest) > 0 {
		return rest
	}
	if rh != nil && !isListMessage(rh) {
		// The original's only recipient, when it had one; of a mail to
		// several, the bounce does not say which failed. A mailing
		// list's address is not a recipient that failed: the list's
		// own recipients are who it reached.
		to := findAddresses(rh.get("to"))
		if len(to) == 1 && len(findAddresses(rh.get("cc"))) == 0 {
			return to
		}
	}
	// A bounce from a mail system that names nobody: one report with no
	// recipient, which says that the message bounced and leaves who to
	// the correlator. From anyone else it is no report.
	if m.fromMailSystem() {
		return []string{""}
	}
	return nil
}

// isListMessage reports whether h is the header of a message sent through
// a mailing list: it carries List-Id (RFC 2919) or List-Post (RFC 2369),
// or Precedence: list as list managers write it. Precedence: bulk is not
// enough: newsletters sent to one person carry it too.
func isListMessage(h header) bool {
	return h.has("list-id") || h.has("list-post") ||
		strings.EqualFold(strings.TrimSpace(h.get("precedence")), "list")
}

// fromMailSystem reports whether the message comes from a mail system
// rather than a person: the null reverse-path (RFC 5321 section 4.5.5) or
// a daemon's address.
func (m *message) fromMailSystem() bool {
	if strings.TrimSpace(m.root.hdr.get("return-path")) == "<>" || isDaemonAddress(m.from) {
		return true
	}
	from := strings.ToLower(m.root.hdr.get("from"))
	return strings.Contains(from, "mailer-daemon") || strings.Contains(from, "mail delivery")
}

// senderMentions returns the addresses a bounce's text names as the
// sender: after "mail from" ("MAIL FROM:<a>", "not accepting mail from
// a"), "sender" ("Sender address: a") or AOL's "Sorry a. Your mail to the
// following recipients could not be delivered". They are not failed
// recipients.
func senderMentions(text string) []string {
	var out []string
	for _, marker := range []string{"mail from", "sender", "sorry"} {
		search := newFoldSearch(text, marker)
		for i, n := search.next(0), 0; i >= 0 && n < 64; i, n = search.next(i+len(marker)), n+1 {
			j := i + len(marker)
			for j < len(text) && j < i+len(marker)+16 && strings.IndexByte(" \t:<\"'", text[j]) >= 0 {
				j++
			}
			if end := addressAt(text, j); end > j {
				out, _ = appendAddress(out, nil, text[j:end])
			}
		}
	}
	return out
}

// failedListIntros are the phrases after which bounces list the
// recipients that failed, when they name the original's recipients
// before: Exchange 2000/2003 ("Your message ... To: ... did not reach
// the following recipient(s)"), Notes ("Your message ... was not
// delivered to:").
var failedListIntros = lazyPhraseSet([]string{
	"did not reach the following recipient", "was not delivered to:",
})

// failedListStart returns where the first of failedListIntros ends in
// text, or -1.
func failedListStart(text string) int {
	at := -1
	failedListIntros().scan(lowerText(text), func(_, end int) bool {
		at = end
		return false
	})
	return at
}

// screenNameHeadings introduce a failed recipient named without a
// domain, as AOL's bounces did: Sendmail's heading ("----- The following
// addresses had permanent fatal errors ----- screenname") on the line
// before the name, and AOL's own "Your mail to the following recipients
// could not be delivered because they are not accepting mail from
// sender@example.com:" (or "... mail with attachments or embedded
// images:") followed by the name on the next line. The bool
// says whether the heading ends at a colon further on.
var screenNameHeadings = []struct {
	phrase  string
	toColon bool
}{
	{"following addresses had permanent fatal errors", false},
	{"following address had permanent fatal errors", false},
	{"are not accepting mail", true},
}

// screenName reads a bounce that names the failed recipient without a
// domain: the first word of the line after one of screenNameHeadings, in
// the reporting system's own domain (its From address's).
func (m *message) screenName(text string) string {
	_, domain, _ := strings.Cut(m.from, "@")
	if domain == "" {
		return ""
	}
	for _, h := range screenNameHeadings {
		i := indexFold(text, 0, h.phrase)
		if i < 0 {
			continue
		}
		rest := text[i+len(h.phrase):]
		if h.toColon {
			c := strings.IndexByte(rest, ':')
			if c < 0 || c > 256 {
				continue
			}
			rest = rest[c+1:]
		}
		_, rest, _ = strings.Cut(rest, "\n")
		line, _, _ := strings.Cut(strings.TrimLeft(rest, " \t\r\n"), "\n")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name := strings.Trim(fields[0], "<>\"")
		if name == "" || len(name) > 64 || !isDotAtom(name) {
			continue
		}
		return strings.ToLower(name) + "@" + domain
	}
	return ""
}

// helpLocalParts are the local parts of the addresses bounces give for
// help ("contact postmaster@ or helpdesk@ if you think this is an
// error"; RFC 2142 role mailboxes).
var helpLocalParts = []string{
	"abuse", "help", "helpdesk", "support", "webmaster", "hostmaster", "noc", "security",
	"admin", "administrator", "servicedesk", "it-support", "no-reply", "noreply",
}

func isHelpAddress(a string) bool {
	local, _, _ := strings.Cut(a, "@")
	for _, h := range helpLocalParts {
		if local == h {
			return true
		}
	}
	return false
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

// isNotReport reports whether the message is of a kind that is never a
// delivery or read report: a feedback (ARF) or TLS report, or an automatic
// reply such as an out-of-office notice.
func (m *message) isNotReport() bool {
	switch strings.ToLower(m.root.params.get("report-type")) {
	case "feedback-report", "tlsrpt":
		return true
	}
	if m.root.find("message/feedback-report") != nil {
		return true
	}
	return m.isAutoReply()
}

// autoReplySubjects are the words automatic replies start their subjects
// with.
var autoReplySubjects = []string{
	"autoreply", "auto reply", "auto-reply", "automaticreply", "automatic reply", "automatic-reply",
	"autoresponse", "auto response", "auto-response", "automaticresponse", "automatic response", "automatic-response",
	"autoantwort", "auto antwort", "auto-antwort", "automaticantwort", "automatic antwort", "automatic-antwort",
	"out of office", "out of the office", "vacation", "away from", "abwesenheit", "absence",
	"réponse automatique", "自動応答", "自動返信", "不在",
}

// isAutoReplySubject reports whether subject starts, after white space,
// with one of autoReplySubjects in any case.
func isAutoReplySubject(subject string) bool {
	s := strings.TrimLeft(subject, " \t\n\f\r")
	for _, p := range autoReplySubjects {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

// isAutoReply reports whether the message is an RFC 3834 automatic reply
// that is not a bounce.
func (m *message) isAutoReply() bool {
	h := m.root.hdr
	if isDaemonAddress(m.from) {
		return false
	}
	if isAutoReplySubject(m.subject) {
		return true
	}
	as := strings.ToLower(h.get("auto-submitted"))
	return strings.HasPrefix(as, "auto-replied") && (h.has("x-autoreply") || h.has("x-autorespond")) ||
		strings.Contains(strings.ToLower(h.get("precedence")), "auto_reply")
}
