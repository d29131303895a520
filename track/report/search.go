package report

import "strings"

// SearchTerm is a condition on one header field that an IMAP server can
// test itself (SEARCH HEADER, RFC 9051 section 6.4.4): the message has the
// field, the field contains Contains (a case-insensitive substring; empty
// means any value) and, when Lacks is set, no such field contains Lacks.
type SearchTerm struct {
	Field    string
	Contains string
	Lacks    string
}

// SearchTerms returns header conditions such that every message Likely
// may take for a report matches at least one of them, and, with answers,
// every message that may be a reply or an automatic reply as read from
// LikelyFields with In-Reply-To and References. A watcher can have the
// server find the messages that match one (a candidate superset) and read
// the header fields of those alone.
//
// The terms rely on the server searching as RFC 9051 section 6.4.4 says:
// a case-insensitive substring match against the header value with its
// encoded words decoded. A server that declares I18NLEVEL=1 or higher
// (RFC 5255 section 4) compares with i;unicode-casemap (RFC 5051: titlecase
// and compatibility decomposition), which folds at least what Likely's
// ASCII-only case folding folds. Word-based search (Gmail's) does not
// qualify: there a phrase inside a word is not found.
func SearchTerms(answers bool) []SearchTerm {
	var out []SearchTerm
	add := func(field string, contains ...string) {
		for _, c := range contains {
			out = append(out, SearchTerm{Field: field, Contains: c})
		}
	}
	// Likely, condition by condition.
	add("Content-Type", "multipart/report", "delivery-status", "disposition-notification")
	add("X-Failed-Recipients", "")
	// The null reverse-path: "<>", or an empty field. A server may write
	// an address field normalised, so also: a Return-Path without "@".
	add("Return-Path", "<>")
	out = append(out, SearchTerm{Field: "Return-Path", Lacks: "@"})
	add("From", "owner-", "-admin", "-owner", "mail delivery", "mailer-daemon", "postmaster")
	for _, d := range daemonLocalParts {
		add("From", d+"@")
	}
	// Short words that cover many of the phrases below: a server tests
	// each term on its own, so fewer terms cost it less, and a subject
	// they let through in excess costs one header fetch.
	add("Subject", subjectCover...)
	add("Subject", bounceSubjectPhrases...)
	add("Subject", "receipt", "notification", "notice", "read:", "gelesen", "lu :", "開封", "受領", "aws notification")
	for _, s := range receiptSubjects {
		add("Subject", s.prefix)
	}
	// A subject in raw ISO-2022-JP, which Likely decodes and a server
	// reads as the ASCII of its escape sequences (ESC $ B, ESC $ @,
	// ESC $ ( D): every such subject is a candidate.
	add("Subject", "$B", "$@", "$(")
	add("Auto-Submitted", "")
	if !answers {
		return dedupeTerms(out)
	}
	// Parse on LikelyFields, In-Reply-To and References: a reply by its
	// threading fields or its subject's reply prefix (answerReports), an
	// automatic reply by its subject (isAutoReply's prefixes, the Notes
	// subject; Auto-Submitted is above).
	add("In-Reply-To", "")
	add("References", "")
	for _, p := range replyPrefixes {
		// HasReplyPrefix: the prefix, an optional counter ([2], (2), ^2),
		// optional spaces, a colon (ASCII or full-width). The counters
		// and the spaces are covered by the terms after the loop.
		add("Subject", p+":", p+"：")
	}
	add("Subject", "]:", "]：", "):", ")：", "^", " :", " ：", " is out of the office", "は不在です")
	add("Subject", "auto")
	add("Subject", autoReplySubjects...)
	return dedupeTerms(out)
}

// dedupeTerms drops repeated terms (a phrase in two lists), and terms a
// shorter term on the same field contains, as either matches the same.
func dedupeTerms(ts []SearchTerm) []SearchTerm {
	out := ts[:0:0]
	for i, t := range ts {
		covered := false
		for j, u := range ts {
			if i == j || u.Lacks != "" || t.Lacks != "" || !strings.EqualFold(u.Field, t.Field) {
				continue
			}
			lt, lu := strings.ToLower(t.Contains), strings.ToLower(u.Contains)
			if strings.Contains(lt, lu) && (len(lu) < len(lt) || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, t)
		}
	}
	return out
}

// subjectCover are words each found in several phrases of Likely's subject
// lists (likelySubjects, receiptSubjects).
var subjectCover = []string{"deliver", "return", "fail", "notif", "delay", "reject", "bounce", "error", "status"}
