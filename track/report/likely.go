package report

import (
	"strings"
)

// LikelyFields are the header fields Likely looks at. A watcher can fetch
// just these for every new message and fetch the whole message only when
// Likely says yes.
var LikelyFields = []string{
	"From", "Subject", "Content-Type", "Return-Path", "Auto-Submitted", "X-Failed-Recipients",
}

// likelySubjects are words in the subjects of bounces and receipts.
var likelySubjects = lazyPhraseSet(append(bounceSubjectPhrases[:len(bounceSubjectPhrases):len(bounceSubjectPhrases)],
	"receipt", "notification", "notice", "read:", "gelesen", "lu :", "開封", "受領", "aws notification"))

// Likely reports, from a message header alone (the fields in LikelyFields),
// whether the message may be a delivery or read report. It errs on the side
// of yes: a false yes costs one fetch, a false no loses a report.
func Likely(rawHeader []byte) bool {
	h, _ := parseHeader(normalizeNewlines(rawHeader))
	ct := strings.ToLower(h.get("content-type"))
	switch {
	case strings.HasPrefix(ct, "multipart/report"),
		strings.Contains(ct, "delivery-status"), strings.Contains(ct, "disposition-notification"),
		h.has("x-failed-recipients"):
		return true
	}
	rp := strings.TrimSpace(h.get("return-path"))
	if rp == "<>" || rp == "" && h.has("return-path") {
		return true
	}
	from := firstAddress(h.get("from"))
	if local, _, ok := strings.Cut(from, "@"); ok {
		// Mailing list managers answer from owner-LIST or LIST-admin.
		if strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-admin") || strings.HasSuffix(local, "-owner") {
			return true
		}
		for _, d := range daemonLocalParts {
			if local == d {
				return true
			}
		}
	}
	lf := strings.ToLower(decodeHeaderText(h.get("from")))
	if strings.Contains(lf, "mail delivery") || strings.Contains(lf, "mailer-daemon") || strings.Contains(lf, "postmaster") {
		return true
	}
	subj := decodeHeaderText(h.get("subject"))
	if likelySubjects().any(subj) {
		return true
	}
	for _, s := range receiptSubjects {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(subj)), s.prefix) {
			return true
		}
	}
	as := strings.ToLower(h.get("auto-submitted"))
	return as != "" && as != "no"
}
