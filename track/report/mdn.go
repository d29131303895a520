package report

import (
	"strings"
)

// mdnReports reads an RFC 8098 disposition notification part, or returns nil
// when the message has none.
func (m *message) mdnReports() []Report {
	part := m.root.find("message/disposition-notification", "message/global-disposition-notification")
	if part == nil {
		return nil
	}
	var f header
	for _, b := range fieldBlocks(part.decoded(maxPartBytes)) {
		f = append(f, b...)
	}
	r := Report{Kind: KindMDN}
	r.Recipient = addressValue(f.get("final-recipient"))
	r.OriginalRecipient = addressValue(f.get("original-recipient"))
	if r.Recipient == "" {
		r.Recipient = r.OriginalRecipient
	}
	if r.Recipient == "" {
		r.Recipient = m.from
	}
	r.ActionMode, r.SendingMode, r.Disposition = parseDisposition(f.get("disposition"))
	if r.Disposition == "" {
		r.Disposition = m.textDisposition()
	}
	r.UserAgent = typedValue(f.get("reporting-ua"))
	r.Diagnostic = strings.TrimSpace(f.get("failure") + " " + f.get("error") + " " + f.get("warning"))
	r.OriginalMessageID = cleanMessageID(f.get("original-message-id"))
	if r.OriginalMessageID == "" {
		r.OriginalMessageID = m.originalFromThread()
	}
	if m.isSieveReject(r) {
		return []Report{m.rejection(r)}
	}
	return []Report{r}
}

// isSieveReject reports whether an MDN is a Sieve "reject" (RFC 5429
// section 2.1): sent automatically with disposition "deleted", its text
// saying the message was rejected (Pigeonhole: "Your message to <x> was
// automatically rejected: ..."). It refuses delivery; the recipient
// never saw the message.
func (m *message) isSieveReject(r Report) bool {
	if r.Disposition != DispositionDeleted || r.ActionMode != ModeAutomatic {
		return false
	}
	low := strings.ToLower(m.humanText())
	return strings.Contains(low, "automatically rejected") || strings.Contains(low, "was rejected")
}

// rejection turns a Sieve reject MDN into the bounce it stands for.
func (m *message) rejection(r Report) Report {
	b := Report{Kind: KindDSN, Recipient: r.Recipient, OriginalRecipient: r.OriginalRecipient,
		OriginalMessageID: r.OriginalMessageID, Action: ActionFailed, UserAgent: r.UserAgent}
	b.Diagnostic = r.Diagnostic
	if b.Diagnostic == "" {
		b.Diagnostic = m.textSummary()
	}
	b.Status = findStatus(b.Diagnostic)
	b.ReplyCode = findReplyCode(b.Diagnostic)
	b.Reason = classify(b, "")
	if b.Reason == ReasonUndefined {
		b.Reason = ReasonFiltered // refused by the recipient's own filter
	}
	return b
}

// originalFromThread finds the original of a receipt that does not name it:
// the returned header, then In-Reply-To, then the last References entry.
func (m *message) originalFromThread() string {
	if h := m.returnedHeader(); h != nil {
		if id := cleanMessageID(h.get("message-id")); id != "" {
			return id
		}
	}
	if m.inReplyTo != "" {
		return m.inReplyTo
	}
	if n := len(m.references); n > 0 {
		return m.references[n-1]
	}
	return ""
}

// parseDisposition reads a Disposition field value such as
// "manual-action/MDN-sent-manually; displayed/error".
func parseDisposition(v string) (action, sending Mode, d Disposition) {
	modes, typ, ok := strings.Cut(strings.ToLower(v), ";")
	if !ok {
		typ, modes = modes, ""
	}
	am, sm, _ := strings.Cut(modes, "/")
	action = modeOf(am)
	sending = modeOf(sm)
	typ = strings.TrimSpace(typ)
	if i := strings.IndexAny(typ, "/ ;"); i >= 0 {
		typ = typ[:i]
	}
	switch Disposition(typ) {
	case DispositionDisplayed, DispositionDeleted, DispositionDispatched,
		DispositionProcessed, DispositionDenied, DispositionFailed:
		d = Disposition(typ)
	}
	return action, sending, d
}

func modeOf(s string) Mode {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "manual"), strings.HasSuffix(s, "manually"):
		return ModeManual
	case strings.HasPrefix(s, "automatic"), strings.HasSuffix(s, "automatically"):
		return ModeAutomatic
	}
	return ""
}

// receiptSubjects are the subject prefixes mail clients put on read
// receipts, positive and negative, in the languages our users meet.
var receiptSubjects = []struct {
	prefix string
	d      Disposition
}{
	{"not read:", DispositionDeleted},
	{"read:", DispositionDisplayed},
	{"read receipt:", DispositionDisplayed},
	{"return receipt", DispositionDisplayed},
	{"read-receipt:", DispositionDisplayed},
	{"未開封:", DispositionDeleted},
	{"未開封：", DispositionDeleted},
	{"開封済み:", DispositionDisplayed},
	{"開封済み：", DispositionDisplayed},
	{"開封確認:", DispositionDisplayed},
	{"開封確認：", DispositionDisplayed},
	{"ungelesen:", DispositionDeleted},
	{"gelesen:", DispositionDisplayed},
	{"non lu :", DispositionDeleted},
	{"non lu:", DispositionDeleted},
	{"lu :", DispositionDisplayed},
	{"lu:", DispositionDisplayed},
	{"no leído:", DispositionDeleted},
	{"leído:", DispositionDisplayed},
	{"non letto:", DispositionDeleted},
	{"letto:", DispositionDisplayed},
	{"não lida:", DispositionDeleted},
	{"lida:", DispositionDisplayed},
	{"已读:", DispositionDisplayed},
	{"已读：", DispositionDisplayed},
	{"未读:", DispositionDeleted},
	{"읽음:", DispositionDisplayed},
}

// receiptPhrases are body phrases that confirm a text receipt, with the
// disposition they state. Checked in order: negative forms first.
var receiptPhrases = []struct {
	phrase string
	d      Disposition
}{
	{"deleted without being read", DispositionDeleted},
	{"開封されずに削除", DispositionDeleted},
	{"ohne gelesen zu werden", DispositionDeleted},
	{"supprimé sans avoir été lu", DispositionDeleted},
	{"was read on", DispositionDisplayed},
	{"has been displayed", DispositionDisplayed},
	{"was displayed", DispositionDisplayed},
	{"開封されました", DispositionDisplayed},
	{"に開封", DispositionDisplayed},
	{"wurde am", DispositionDisplayed},
	{"gelesen", DispositionDisplayed},
	{"a été lu", DispositionDisplayed},
	// Lotus Notes' return receipt: "Your document: X was received by: Y
	// at: Z", sent when the recipient opens the document.
	{"was received by:", DispositionDisplayed},
}

// textDisposition reads the disposition a receipt's human text states.
func (m *message) textDisposition() Disposition {
	for _, t := range m.bodyTexts() {
		lt := strings.ToLower(t)
		for _, p := range receiptPhrases {
			if strings.Contains(lt, p.phrase) {
				return p.d
			}
		}
	}
	return ""
}

// textMDNReports recognises receipts that are not multipart/report, as
// Outlook and Exchange send them in some setups: a localised subject prefix
// confirmed by the body text, linked to the original by In-Reply-To.
func (m *message) textMDNReports() []Report {
	if subjectDisposition(m.subject) == "" {
		return nil
	}
	d := m.textDisposition()
	if d == "" {
		return nil
	}
	r := Report{Kind: KindMDN, Disposition: d, Recipient: m.from}
	r.OriginalMessageID = m.originalFromThread()
	r.UserAgent = m.root.hdr.get("x-mailer")
	return []Report{r}
}
