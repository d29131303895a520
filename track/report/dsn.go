package report

import (
	"regexp"
	"strings"
	"time"
)

// fieldBlocks splits the body of a message/delivery-status or
// message/disposition-notification part into its blocks of fields (RFC 3464
// section 2.1: the per-message block, then one block per recipient), at
// most maxRecipients+1 of them.
func fieldBlocks(body []byte) []header {
	var blocks []header
	for len(body) > 0 && len(blocks) <= maxRecipients {
		h, rest := parseHeader(body)
		if len(h) > 0 {
			blocks = append(blocks, h)
		}
		if len(rest) >= len(body) {
			break
		}
		body = rest
	}
	return blocks
}

// typedValue strips the type prefix of a typed DSN/MDN value such as
// "rfc822; user@example.com" or "smtp; 550 5.1.1 unknown".
func typedValue(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(t, " @<") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// diagnosticValue returns a Diagnostic-Code value (RFC 3464 section
// 2.3.6): the text without its type when the type is smtp, the whole
// value otherwise. A local delivery agent's diagnostic ("X-Unix; 67",
// Sendmail's exit status of a local mailer) means nothing without its type.
func diagnosticValue(v string) string {
	t, rest, ok := strings.Cut(v, ";")
	if !ok || strings.ContainsAny(t, " @<") {
		return strings.TrimSpace(v)
	}
	if strings.EqualFold(strings.TrimSpace(t), "smtp") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(t) + "; " + strings.TrimSpace(rest)
}

// addressValue returns the address of a typed address field, without angle
// brackets, lower-cased. RFC 6533 utf-8 addresses have their \x{HH} escapes
// decoded.
func addressValue(v string) string {
	a := typedValue(v)
	if strings.Contains(a, `\x{`) {
		a = unescapeUTF8Address(a)
	}
	a = strings.Trim(a, "<> \t\"'")
	if strings.Contains(a, "@") && !strings.ContainsAny(a, " \t<>,;") {
		return strings.ToLower(a) // also keeps UTF-8 local parts (RFC 6531)
	}
	if as := findAddresses(a); len(as) > 0 {
		return as[0]
	}
	return strings.ToLower(a)
}

var utf8Escape = regexp.MustCompile(`\\x\{([0-9A-Fa-f]{1,6})\}`)

func unescapeUTF8Address(a string) string {
	return utf8Escape.ReplaceAllStringFunc(a, func(s string) string {
		var r rune
		for _, c := range s[3 : len(s)-1] {
			r = r<<4 | rune(unhex(byte(c)))
		}
		return string(r)
	})
}

// findStatus returns the first RFC 3463 code in s, or "".
func findStatus(s string) string {
	var code string
	enhancedCodes(s, func(c string) bool {
		code = c
		return false
	})
	return code
}

// lastSpecificStatus returns the last RFC 3463 code in s that says more
// than its class, or the first code when all are generic. A diagnostic that
// quotes several codes ("5.1.0 - Unknown address error 550-'5.1.1 ...")
// ends with the remote server's own. Only the first 16 codes count.
func lastSpecificStatus(s string) string {
	var first, last string
	n := 0
	enhancedCodes(s, func(c string) bool {
		if first == "" {
			first = c
		}
		if !isGenericStatus(c) {
			last = c
		}
		n++
		return n < 16
	})
	if last != "" {
		return last
	}
	return first
}

// isGenericStatus reports whether a status code says no more than its class.
func isGenericStatus(s string) bool {
	return strings.HasSuffix(s, ".0.0") || s == ""
}

// preferStatus chooses between the Status field and a code in the
// diagnostic text. The remote server's own code is the more precise one
// (reporting MTAs often write a catch-all such as 5.1.0 or 4.4.7 in the
// field), so a specific code in the text wins; a generic one does not.
func preferStatus(field, diagnostic string) string {
	field = findStatus(field)
	text := lastSpecificStatus(diagnostic)
	if text != "" && (!isGenericStatus(text) || field == "") {
		return text
	}
	return field
}

// normalizeAction maps an Action field value to an Action, also accepting
// the non-standard values some mailers write.
func normalizeAction(v string) Action {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, " ;("); i > 0 {
		v = v[:i]
	}
	switch v {
	case "failed", "failure", "fail", "expired", "bounced", "undeliverable":
		return ActionFailed
	case "delayed", "delay", "deferred":
		return ActionDelayed
	case "delivered", "deliverable", "success", "succeeded", "sent":
		return ActionDelivered
	case "relayed":
		return ActionRelayed
	case "expanded":
		return ActionExpanded
	}
	return ""
}

// actionFromStatus infers an action when a report has no usable Action
// field: a 2.x.x status is a success, anything else a failure.
func actionFromStatus(status string) Action {
	if strings.HasPrefix(status, "2.") {
		return ActionDelivered
	}
	return ActionFailed
}

// dsnReports reads an RFC 3464 or RFC 6533 delivery status part, or returns
// nil when the message has none.
func (m *message) dsnReports() []Report {
	var blocks []header
	if part := m.root.find("message/delivery-status", "message/global-delivery-status"); part != nil {
		// A report on many recipients is long (about 300 bytes a
		// recipient): it is read whole, as far as the message is.
		blocks = fieldBlocks(part.decoded(MaxMessageBytes))
	} else {
		blocks = m.inlineDSNBlocks()
	}
	var perMsg header
	var rs []Report
	for _, b := range blocks {
		if !b.has("final-recipient") && !b.has("original-recipient") {
			perMsg = append(perMsg, b...)
			continue
		}
		perMsg = append(perMsg, b...) // single-block reports mix both kinds
		rs = append(rs, dsnRecipient(b))
	}
	if len(rs) == 0 {
		// A delivery-status part without recipient blocks: read the
		// bounce text instead.
		return nil
	}
	envid := typedValue(perMsg.get("original-envelope-id"))
	orig := m.originalMessageID()
	mt := m.mentionsOf(recipients(rs))
	for i := range rs {
		rs[i].EnvelopeID = envid
		rs[i].OriginalMessageID = orig
		if rs[i].Diagnostic == "" {
			rs[i].Diagnostic = m.diagnosticFromText(rs[i].Recipient, mt)
			// Text found near the address may belong to another
			// recipient: only a code of the same class refines the field.
			if st := preferStatus(rs[i].Status, rs[i].Diagnostic); rs[i].Status == "" || isGenericStatus(rs[i].Status) && st[0] == rs[i].Status[0] {
				rs[i].Status = st
			}
			if rs[i].ReplyCode == "" {
				rs[i].ReplyCode = findReplyCode(rs[i].Diagnostic)
			}
		}
		if rs[i].Action == ActionDelayed && rs[i].Status == "4.4.7" && m.saysExpired(rs[i].Diagnostic) {
			// OpenSMTPD reports the end of its retries as "Action:
			// delayed", "Status: 4.4.7", "Envelope expired": RFC 3463
			// 4.4.7 is a message given up as too old, so a failure,
			// unless the text calls itself a delay warning.
			rs[i].Action = ActionFailed
		}
		gaveUp := rs[i].Action == ActionDelayed && m.fromNullmailer()
		if gaveUp {
			rs[i].Action = ActionFailed
		}
		rs[i].Reason = classify(rs[i], m.diagnosticFor(rs[i].Recipient, mt))
		rs[i].Reason = m.ownDomainReason(rs[i])
		if gaveUp {
			rs[i].Reason = ReasonExpired
		}
	}
	return rs
}

// fromNullmailer reports whether the report was written by nullmailer-dsn,
// whose text begins "This is the nullmailer delivery system". nullmailer
// sends no delay warnings: nullmailer-send(8) writes a report only when a
// message fails permanently or has been queued longer than its
// queuelifetime, and then moves it to the failed queue for good. A report
// of its own with "Action: delayed" (the last attempt failed with a 4xx
// reply) is therefore a message given up when it expired.
func (m *message) fromNullmailer() bool {
	return strings.Contains(m.humanLower(), "this is the nullmailer delivery system")
}

// saysExpired reports whether a diagnostic or the report's text says the
// message expired.
//
// The recipient's own line decides first: OpenSMTPD 6.8 writes the line
// "<rcpt>: Envelope expired" (the error its queue sets when an envelope
// outlives its "queue ttl", smtpd.conf(5)) into its delay-warning
// template, "this is only a temporary failure report", and a line that
// says the envelope expired outweighs the template around it.
func (m *message) saysExpired(diagnostic string) bool {
	if indexFold(diagnostic, 0, "expired") >= 0 {
		return true
	}
	if low := m.humanLower(); strings.Contains(low, "temporary failure") || strings.Contains(low, " is delayed") || saysDelayed(low) {
		return false
	}
	return indexFold(m.humanText(), 0, "expired") >= 0
}

// dsnFieldStart returns the offset of the first line of t that starts a
// delivery-status block written into a bounce's text instead of its own
// MIME part (a Reporting-MTA or Final-Recipient field with a value), or -1.
func dsnFieldStart(t string) int {
	for pos := 0; pos < len(t); {
		for _, name := range []string{"reporting-mta:", "final-recipient:"} {
			if hasPrefixFold(t[pos:], name) {
				if i := skipBlanks(t, pos+len(name)); i < len(t) && !isSpaceByte(t[i]) {
					return pos
				}
			}
		}
		i := strings.IndexByte(t[pos:], '\n')
		if i < 0 {
			break
		}
		pos += i + 1
	}
	return -1
}

// dsnFields are the fields that mark a block as delivery status.
var dsnFields = []string{"reporting-mta", "final-recipient", "original-recipient", "action", "status", "arrival-date", "diagnostic-code", "remote-mta", "received-from-mta", "original-envelope-id", "last-attempt-date"}

// inlineDSNBlocks reads delivery-status blocks from the text of a report
// whose MIME structure is broken (the blocks are in a text part).
func (m *message) inlineDSNBlocks() []header {
	for _, t := range m.bodyTexts() {
		start := dsnFieldStart(t)
		if start < 0 {
			continue
		}
		var out []header
		for _, b := range fieldBlocks([]byte(t[start:])) {
			if !hasAny(b, dsnFields) {
				break
			}
			out = append(out, b)
		}
		return out
	}
	return nil
}

func hasAny(h header, keys []string) bool {
	for _, k := range keys {
		if h.has(k) {
			return true
		}
	}
	return false
}

// dsnRecipient reads one per-recipient block.
func dsnRecipient(b header) Report {
	r := Report{Kind: KindDSN}
	r.Recipient = addressValue(b.get("final-recipient"))
	r.OriginalRecipient = addressValue(b.get("original-recipient"))
	if r.Recipient == "" {
		r.Recipient = r.OriginalRecipient
	}
	r.Diagnostic = diagnosticValue(b.get("diagnostic-code"))
	r.Status = preferStatus(b.get("status"), r.Diagnostic)
	r.Action = normalizeAction(b.get("action"))
	if r.Action == "" {
		r.Action = actionFromStatus(r.Status)
	}
	r.ReplyCode = findReplyCode(r.Diagnostic)
	r.RemoteMTA = typedValue(b.get("remote-mta"))
	if t, err := parseDate(b.get("last-attempt-date")); err == nil {
		r.LastAttempt = t.UTC()
	} else if t, err := time.Parse(time.RFC1123Z, b.get("last-attempt-date")); err == nil {
		r.LastAttempt = t.UTC()
	}
	return r
}

// recipients returns the recipients of rs.
func recipients(rs []Report) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Recipient
	}
	return out
}

// classify computes the reason of a DSN report. context is the report's
// human-readable text about the recipient: mail systems often put the
// failed SMTP command ("in reply to RCPT TO command") or their plainest
// wording there rather than in the Diagnostic-Code.
func classify(r Report, context string) Reason {
	in := ReasonInput{Action: r.Action, Status: r.Status, ReplyCode: r.ReplyCode}
	if len(r.Diagnostic)+1+len(context) > reasonMaxText {
		// Too long to fold whole: fold and scan each text on its own.
		in.Diagnostic = r.Diagnostic
		if context != "" && !strings.Contains(in.Diagnostic, context) {
			in.Diagnostic = strings.TrimSpace(in.Diagnostic + " " + context)
		}
		in.Command = SMTPCommandFromText(r.Diagnostic)
		if in.Command == "" {
			in.Command = SMTPCommandFromText(context)
		}
		return ClassifyReason(in)
	}
	join := context != "" && !strings.Contains(r.Diagnostic, context)
	buf := make([]byte, 0, len(r.Diagnostic)+1+len(context))
	buf = appendReasonText(buf, r.Diagnostic)
	split := len(buf)
	if join {
		// The diagnostic and the context, one space apart, as
		// foldReasonText would fold them joined.
		if split > 0 {
			buf = append(buf, ' ')
		}
		buf = appendReasonText(buf, context)
		switch {
		case split == 0:
			split = -1
		case len(buf) == split+1:
			buf = buf[:split] // the context folds to nothing
		}
	}
	text := string(buf)
	found := reasonIdx().scan(text, split)
	in.Command = found.command
	switch {
	case in.Command != "":
	case split < len(text):
		in.Command = found.commandAfter
	case context != "":
		in.Command = SMTPCommandFromText(context)
	}
	return classifyFolded(in, text, found)
}
