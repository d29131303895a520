package report

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// Outlook and Exchange send some read receipts as Transport Neutral
// Encapsulation Format (TNEF, the winmail.dat attachment): the whole body,
// or one part, is application/ms-tnef, and the receipt's meaning is in the
// TNEF message class. The reader below reads only what a receipt needs
// from the stream, as [MS-OXTNEF] describes it: the signature, then
// attributes of level, ID, length, data and checksum.

// The TNEF values read ([MS-OXTNEF] sections 2.1.3.1 and 2.1.3.3).
const (
	tnefSignature       = 0x223E9F78
	tnefAttMessageClass = 0x00078008 // attMessageClass: atpWord string
	tnefAttMsgProps     = 0x00069003 // attMsgProps: the MAPI properties
	tnefMaxAttributes   = 256        // attributes read at most
)

// tnefClasses are the message classes of receipts: the Exchange/Outlook
// report classes of [MS-OXOMSG] section 2.2.1 (a read notification
// "REPORT.IPM.Note.IPNRN", a not-read notification "IPNNRN") and the
// legacy TNEF class of [MS-OXTNEF] section 2.1.3.3.9 that stands for them.
// Not-read classes come first: "IPNRN" is a part of neither.
var tnefClasses = []struct {
	class string
	d     Disposition
}{
	{"report.ipm.note.ipnnrn", DispositionDeleted},
	{"report.ipm.note.ipnrn", DispositionDisplayed},
	{"ipm.microsoft mail.read receipt", DispositionDisplayed},
}

// tnefDisposition reads a TNEF stream and returns the disposition its
// message class states, or "" when it is not a receipt. read says whether
// the stream could be read up to a message class: a stream that names
// another class is no receipt, whatever the headers say. It reads at most
// tnefMaxAttributes attributes, each within the stream.
func tnefDisposition(b []byte) (d Disposition, read bool) {
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != tnefSignature {
		return "", false
	}
	b = b[6:] // signature and legacy key
	var found Disposition
	for n := 0; n < tnefMaxAttributes && len(b) >= 9 && found == ""; n++ {
		id := binary.LittleEndian.Uint32(b[1:])
		size := binary.LittleEndian.Uint32(b[5:])
		if uint64(size)+11 > uint64(len(b)) {
			return "", read
		}
		data := b[9 : 9+size]
		b = b[11+size:] // the checksum follows the data
		switch id {
		case tnefAttMessageClass:
			read = true
			found = classDisposition(string(bytes.TrimRight(data, "\x00")))
		case tnefAttMsgProps:
			// PidTagMessageClass is one of the properties; its value,
			// ANSI or UTF-16LE, is found as it is written.
			found = classDisposition(string(data))
			if found == "" {
				found = classDisposition(utf16String(data))
			}
		}
	}
	return found, read || found != ""
}

// classDisposition returns the disposition of the receipt class named in s.
func classDisposition(s string) Disposition {
	low := strings.ToLower(s)
	for _, c := range tnefClasses {
		if strings.Contains(low, c.class) {
			return c.d
		}
	}
	return ""
}

// utf16String decodes b as UTF-16LE, replacing what is not text.
func utf16String(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// isTNEF reports whether a part is a TNEF attachment.
func (e *entity) isTNEF() bool {
	switch e.mediaType {
	case "application/ms-tnef", "application/vnd.ms-tnef":
		return true
	}
	name := strings.ToLower(e.params.get("name"))
	return name == "winmail.dat"
}

// tnefReports reads an Outlook receipt wrapped in TNEF: the TNEF message
// class says whether the mail was read. When the TNEF cannot be read, a
// receipt subject ("Read:", 「開封済み:」) with Outlook's TNEF correlator
// and an In-Reply-To still makes one.
func (m *message) tnefReports() []Report {
	var part *entity
	m.root.walk(func(p *entity) bool {
		if p.children == nil && p.isTNEF() {
			part = p
			return false
		}
		return true
	})
	if part == nil && !m.root.hdr.has("x-ms-tnef-correlator") {
		return nil
	}
	var d Disposition
	read := false
	if part != nil {
		d, read = tnefDisposition(part.decoded(maxPartBytes))
	}
	if d == "" && !read && m.root.hdr.has("x-ms-tnef-correlator") && m.inReplyTo != "" {
		d = subjectDisposition(m.subject)
	}
	if d == "" {
		return nil
	}
	r := Report{Kind: KindMDN, Disposition: d, Recipient: m.from}
	r.OriginalMessageID = m.originalFromThread()
	return []Report{r}
}

// subjectDisposition returns the disposition a receipt subject prefix
// states, or "".
func subjectDisposition(subject string) Disposition {
	subj := strings.ToLower(strings.TrimSpace(subject))
	for _, s := range receiptSubjects {
		if strings.HasPrefix(subj, s.prefix) {
			return s.d
		}
	}
	return ""
}
