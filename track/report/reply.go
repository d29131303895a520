package report

import (
	"strings"
	"unicode/utf8"
)

// Replies and automatic replies are answers to a sent mail rather than
// reports about it. The header decides which a message is; the body is read
// only for the date an automatic reply says its sender is back (awayUntil).
//
// A message is a reply (KindReply) when a person wrote it in answer: it
// carries In-Reply-To or References (RFC 5322 section 3.6.4), or, written by
// a mailer that sets neither (Japanese mobile carriers, some webmail), a
// subject that starts with a reply prefix (RFC 5322 section 3.6.5 and the
// localised forms clients write). Mailing-list mail (List-Id, RFC 2919),
// bulk mail and mail from a mailer daemon are never replies.
//
// A message is an automatic reply (KindAutoReply) when it says so:
// Auto-Submitted with any value but "no" (RFC 3834 section 5), X-Autoreply
// or X-Autorespond (vacation programs and Redmine's and GitLab's lists),
// Exchange's X-Auto-Response-Suppress together with its "Automatic reply:"
// or 「自動応答:」 subject (the field only asks others not to answer the
// message, [MS-OXCMAIL] section 2.1.3.2.20, so it is no proof alone), the
// "… is out of the office" subject of HCL Notes, or Precedence bulk or junk
// with out-of-office wording, as Japanese groupware writes its notices
// without any of the fields above.

// AutoReply says what an automatic reply is.
type AutoReply string

// The automatic reply types.
const (
	// AutoReplyAway is an out-of-office or vacation notice: the person is
	// away and will answer later.
	AutoReplyAway AutoReply = "away"
	// AutoReplyAck is any other automatic answer: a helpdesk
	// acknowledgement, a challenge-response request. No person has read
	// the mail yet.
	AutoReplyAck AutoReply = "acknowledgement"
)

// ReplyFields are the header fields the reply and automatic-reply decision
// reads, on top of LikelyFields. A watcher that fetches LikelyFields and
// these can tell from them alone whether a message is a reply, and needs
// the body only for an automatic reply's date.
var ReplyFields = []string{
	"Message-ID", "Date", "In-Reply-To", "References", "List-Id", "Precedence",
	"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress",
}

// replyPrefixes start the subjects of replies, lower-cased, without the
// colon: Latin "re" (RFC 5322 section 3.6.5) and the words clients use in
// other languages (German AW, Nordic SV and VS, Dutch Antw, Italian R and
// RIF, Polish Odp, Turkish YNT, Chinese 回复 and 回覆, Korean 답장, Japanese
// 返信 as some Japanese clients and carriers write it).
var replyPrefixes = []string{
	"re", "aw", "sv", "vs", "antw", "r", "rif", "odp", "ynt", "res",
	"回复", "回覆", "답장", "返信", "ｒｅ", "ＲＥ", "Ｒｅ",
}

// HasReplyPrefix reports whether subject starts with a reply prefix: "Re:",
// "RE:", "Re[2]:", "Re(2):", "Re^2:", "AW:", "SV:", 「返信:」 and the like,
// with an ASCII or full-width colon.
func HasReplyPrefix(subject string) bool {
	s := strings.TrimLeft(subject, " \t")
	for _, p := range replyPrefixes {
		if len(s) < len(p) || !strings.EqualFold(s[:len(p)], p) {
			continue
		}
		rest := s[len(p):]
		// A counter: Re[2]:, Re(2):, Re^2:.
		if len(rest) > 0 && (rest[0] == '[' || rest[0] == '(' || rest[0] == '^') {
			i := 1
			for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
				i++
			}
			if i == 1 {
				continue
			}
			if rest[0] != '^' {
				if i >= len(rest) || rest[i] != ']' && rest[i] != ')' {
					continue
				}
				i++
			}
			rest = rest[i:]
		}
		rest = strings.TrimLeft(rest, " ")
		if r, _ := utf8.DecodeRuneInString(rest); r == ':' || r == '：' {
			return true
		}
	}
	return false
}

// awayWords mark an automatic reply's subject as an out-of-office notice.
// Exchange writes "Automatic reply:" and 「自動応答:」 only for its
// out-of-office assistant; the rest are the words people put in their
// vacation subjects.
var awayWords = newPhraseSet([]string{
	"out of office", "out of the office", "out-of-office", "automatic reply", "autoreply", "auto reply",
	"vacation", "holiday", "on leave", "away from", "away until", "away till", "currently away", "am away", "be away",
	"out until", "absent", "absence", "abwesenheit",
	"不在", "休暇", "出張", "外出", "休業", "休み", "自動応答", "自動返信", "年末年始", "夏季休暇", "お盆",
})

// bulkAwayWords mark a bulk message's subject as an out-of-office notice:
// narrower than awayWords, as newsletters advertise holidays and
// vacations.
var bulkAwayWords = newPhraseSet([]string{
	"out of office", "out of the office", "out-of-office", "automatic reply", "autoreply", "auto reply",
	"不在", "休暇中", "出張中", "外出中", "自動応答", "自動返信",
})

// ackWords mark an automatic reply as an acknowledgement by a system: a
// helpdesk ticket, a received-request notice, a challenge-response.
var ackWords = newPhraseSet([]string{
	"ticket", "case #", "case number", "request #", "request number", "we have received", "we received your",
	"has been received", "confirm that you", "verify that you", "to verify", "challenge",
	"受け付け", "受付", "受領しました", "お問い合わせ番号", "問合せ番号", "チケット", "承りました",
})

// notesAwaySubject is the subject HCL (Lotus) Notes gives its
// out-of-office notices: "Name is out of the office." and its Japanese
// form 「… は不在です」.
func notesAwaySubject(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, " is out of the office") || strings.Contains(s, "は不在です")
}

// exchangeAwaySubject is the subject Exchange's out-of-office assistant
// writes, in English and Japanese.
func exchangeAwaySubject(s string) bool {
	s = strings.TrimSpace(s)
	return hasPrefixFold(s, "automatic reply:") || strings.HasPrefix(s, "自動応答:") || strings.HasPrefix(s, "自動応答：")
}

// isListMail reports whether the message came through a mailing list
// (RFC 2919 List-Id; RFC 2369 List-Post) or is bulk mail.
func (m *message) isListMail() bool {
	h := m.root.hdr
	return h.has("list-id") || h.has("list-post")
}

// precedence returns the Precedence field, lower-cased.
func (m *message) precedence() string {
	return strings.ToLower(strings.TrimSpace(m.root.hdr.get("precedence")))
}

// autoSubmitted reports whether the header marks the message as sent
// automatically by a field made for it.
func (m *message) autoSubmitted() bool {
	h := m.root.hdr
	as := strings.ToLower(strings.TrimSpace(h.get("auto-submitted")))
	if as != "" && !strings.HasPrefix(as, "no") {
		return true
	}
	if h.has("x-autoreply") || h.has("x-autorespond") {
		return true
	}
	if h.has("x-auto-response-suppress") && exchangeAwaySubject(m.subject) {
		return true
	}
	return strings.Contains(m.precedence(), "auto_reply")
}

// isAutomaticAnswer reports whether the message is an automatic reply,
// by its header alone (see the package comment above).
func (m *message) isAutomaticAnswer() bool {
	if isDaemonAddress(m.from) {
		return false
	}
	if m.autoSubmitted() || notesAwaySubject(m.subject) {
		return true
	}
	switch p := m.precedence(); {
	case p == "bulk" || p == "junk":
		return bulkAwayWords.any(m.subject)
	}
	return false
}

// answerReports returns the reply or automatic reply the message is, or
// nil. It runs after every report reader found nothing.
func (m *message) answerReports() []Report {
	if m.from == "" || isDaemonAddress(m.from) || isListManager(m.from) {
		return nil
	}
	if m.isAutomaticAnswer() {
		if m.isListMail() && !m.autoSubmitted() {
			return nil
		}
		return m.autoReplyReports()
	}
	if m.isListMail() || m.precedence() == "bulk" || m.precedence() == "junk" || m.precedence() == "list" {
		return nil
	}
	if m.inReplyTo == "" && len(m.references) == 0 && !HasReplyPrefix(m.subject) {
		return nil // a new conversation
	}
	return []Report{{Kind: KindReply, Recipient: m.from, OriginalMessageID: m.parentID()}}
}

// isListManager reports whether addr is a mailing-list manager's own
// address (owner-LIST, LIST-admin, LIST-owner, LIST-request, RFC 2142
// and the list managers' conventions), whose notices answer nobody.
func isListManager(addr string) bool {
	local, _, _ := strings.Cut(addr, "@")
	return strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-admin") ||
		strings.HasSuffix(local, "-owner") || strings.HasSuffix(local, "-request")
}

// autoReplyReports returns the automatic reply the message is, with the
// date its sender is back when the text gives one.
func (m *message) autoReplyReports() []Report {
	if m.from == "" {
		return nil
	}
	r := Report{Kind: KindAutoReply, Recipient: m.from, OriginalMessageID: m.parentID(), AutoReply: m.autoReplyType()}
	if r.AutoReply == AutoReplyAway {
		r.AwayUntil = awayUntil(m.subject+"\n"+m.answerText(), m.date)
	}
	return []Report{r}
}

// autoReplyType tells an out-of-office notice from other automatic
// answers, by the subject first and the text after.
func (m *message) autoReplyType() AutoReply {
	switch {
	case exchangeAwaySubject(m.subject), notesAwaySubject(m.subject):
		return AutoReplyAway
	case ackWords.any(m.subject):
		return AutoReplyAck
	case awayWords.any(m.subject):
		return AutoReplyAway
	}
	t := m.answerText()
	if awayWords.any(t) {
		return AutoReplyAway
	}
	return AutoReplyAck
}

// maxAnswerText caps how much of an automatic reply's text is read: the
// notice comes first, any quoted original after it.
const maxAnswerText = 8 << 10

// answerText returns the start of the message's own text.
func (m *message) answerText() string {
	t := m.humanText()
	if len(t) > maxAnswerText {
		t = t[:maxAnswerText]
		for len(t) > 0 && !utf8.RuneStart(t[len(t)-1]) {
			t = t[:len(t)-1]
		}
	}
	return t
}

// parentID is the Message-ID a reply answers: In-Reply-To, else the last
// References entry (RFC 5322 section 3.6.4).
func (m *message) parentID() string {
	if m.inReplyTo != "" {
		return m.inReplyTo
	}
	if n := len(m.references); n > 0 {
		return m.references[n-1]
	}
	return ""
}

// autoReplyOnly returns the automatic reply a message that is no report
// is, or nil for the other messages that are no report (feedback and TLS
// reports).
func (m *message) autoReplyOnly() []Report {
	if m.isAutoReply() {
		return m.autoReplyReports()
	}
	return nil
}
