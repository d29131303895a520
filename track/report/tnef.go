package report

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"
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
	tnefAttDateSent     = 0x00038005 // attDateSent: atpDate, PidTagClientSubmitTime
	tnefMaxAttributes   = 256        // attributes read at most
	tnefMaxProperties   = 1024       // MAPI properties read at most
)

// The MAPI properties read from attMsgProps ([MS-OXPROPS]): the time the
// read or not-read notification was generated (PidTagReportTime, 0x0032,
// [MS-OXOMSG] section 2.2.2.27) and the time the receipt was submitted
// (PidTagClientSubmitTime, 0x0039, [MS-OXOMSG] section 2.2.3.11), both
// PtypTime in UTC.
const (
	propReportTime       = 0x0032
	propClientSubmitTime = 0x0039
	ptypTime             = 0x0040
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
// another class is no receipt, whatever the headers say.
func tnefDisposition(b []byte) (d Disposition, read bool) {
	t := readTNEF(b)
	return t.disposition, t.read
}

// tnefReceipt is what a TNEF stream says about a receipt.
type tnefReceipt struct {
	disposition Disposition
	read        bool      // the stream was read up to a message class
	readAt      time.Time // when the mail was read; zero when not stated
}

// readTNEF reads a TNEF stream: the message class and the time of the
// receipt. The time is PidTagReportTime when the MAPI properties carry it,
// else PidTagClientSubmitTime, else attDateSent ([MS-OXTNEF] section
// 2.1.3.3.4; [MS-OXCMAIL] section 2.1.3.2.7 has writers copy
// PidTagClientSubmitTime to it): a receipt is submitted when its mail is
// read. It reads at most tnefMaxAttributes attributes, each within the
// stream.
func readTNEF(b []byte) tnefReceipt {
	var t tnefReceipt
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != tnefSignature {
		return t
	}
	b = b[6:] // signature and legacy key
	var reportTime, submitTime, dateSent time.Time
	for n := 0; n < tnefMaxAttributes && len(b) >= 9; n++ {
		id := binary.LittleEndian.Uint32(b[1:])
		size := binary.LittleEndian.Uint32(b[5:])
		if uint64(size)+11 > uint64(len(b)) {
			break
		}
		data := b[9 : 9+size]
		b = b[11+size:] // the checksum follows the data
		switch id {
		case tnefAttMessageClass:
			t.read = true
			if t.disposition == "" {
				t.disposition = classDisposition(string(bytes.TrimRight(data, "\x00")))
			}
		case tnefAttDateSent:
			dateSent = tnefDate(data)
		case tnefAttMsgProps:
			// PidTagMessageClass is one of the properties; its value,
			// ANSI or UTF-16LE, is found as it is written.
			if t.disposition == "" {
				t.disposition = classDisposition(string(data))
			}
			if t.disposition == "" {
				t.disposition = classDisposition(utf16String(data))
			}
			reportTime, submitTime = tnefPropTimes(data)
		}
	}
	t.read = t.read || t.disposition != ""
	for _, at := range []time.Time{reportTime, submitTime, dateSent} {
		if !at.IsZero() {
			t.readAt = at
			break
		}
	}
	return t
}

// tnefDate decodes an atpDate value, the DTR structure of [MS-OXTNEF]
// section 2.1.3.3.4: seven 16-bit words, year, month, day, hour, minute,
// second and day of the week. It returns the zero time for a value that
// is not a date.
func tnefDate(b []byte) time.Time {
	if len(b) < 12 {
		return time.Time{}
	}
	w := func(i int) int { return int(binary.LittleEndian.Uint16(b[2*i:])) }
	y, mo, d, h, mi, s := w(0), w(1), w(2), w(3), w(4), w(5)
	if y < 1990 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
}

// fileTime converts a FILETIME (100-nanosecond intervals since 1601-01-01
// UTC, [MS-DTYP] section 2.3.3) to a time; zero for values before 1990 or
// after 2200, which no receipt carries.
func fileTime(v uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	if v < epochDiff {
		return time.Time{}
	}
	t := time.Unix(0, 0).Add(time.Duration((v-epochDiff)%10_000_000) * 100).
		Add(time.Duration((v-epochDiff)/10_000_000) * time.Second).UTC()
	if t.Year() < 1990 || t.Year() > 2200 {
		return time.Time{}
	}
	return t
}

// tnefPropTimes walks an attMsgProps value, the property list of
// [MS-OXTNEF] section 2.1.3.4 (a count, then each property's tag, its
// name when it is a named property, and its value), and returns
// PidTagReportTime and PidTagClientSubmitTime. It stops at the first
// property it cannot step over and reads at most tnefMaxProperties.
func tnefPropTimes(b []byte) (report, submit time.Time) {
	if len(b) < 4 {
		return
	}
	count := binary.LittleEndian.Uint32(b)
	b = b[4:]
	for i := uint32(0); i < count && i < tnefMaxProperties; i++ {
		if len(b) < 4 {
			return
		}
		typ := binary.LittleEndian.Uint16(b)
		id := binary.LittleEndian.Uint16(b[2:])
		b = b[4:]
		if id >= 0x8000 {
			// A named property: GUID, kind, then an ID or a name.
			if len(b) < 20 {
				return
			}
			kind := binary.LittleEndian.Uint32(b[16:])
			b = b[20:]
			if kind == 0 {
				if len(b) < 4 {
					return
				}
				b = b[4:]
			} else {
				// A name: its size, then the name padded to four bytes.
				if len(b) < 4 {
					return
				}
				size := (uint64(binary.LittleEndian.Uint32(b)) + 3) &^ 3
				if size+4 > uint64(len(b)) {
					return
				}
				b = b[4+size:]
			}
		}
		if typ == ptypTime && len(b) >= 8 {
			v := fileTime(binary.LittleEndian.Uint64(b))
			switch id {
			case propReportTime:
				report = v
			case propClientSubmitTime:
				submit = v
			}
		}
		var ok bool
		if b, ok = skipPropValue(b, typ); !ok {
			return
		}
	}
	return
}

// skipPropValue steps over one property value of type typ as [MS-OXTNEF]
// section 2.1.3.4 encodes it: fixed-size values padded to four bytes;
// strings, binaries and objects as a count of values, each with its size
// and padded data; multi-valued types as a count of values.
func skipPropValue(b []byte, typ uint16) ([]byte, bool) {
	multi := typ&0x1000 != 0
	base := typ &^ 0x1000
	fixed := 0
	switch base {
	case 0x0002, 0x0003, 0x0004, 0x000A, 0x000B: // short, long, float, error, boolean
		fixed = 4
	case 0x0005, 0x0006, 0x0007, 0x0014, 0x0040: // double, currency, apptime, int64, time
		fixed = 8
	case 0x0048: // GUID
		fixed = 16
	case 0x001E, 0x001F, 0x0102, 0x000D: // string8, unicode, binary, object
		return skipCounted(b)
	default:
		return b, false
	}
	n := uint64(1)
	if multi {
		if len(b) < 4 {
			return b, false
		}
		n = uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	if n*uint64(fixed) > uint64(len(b)) {
		return b, false
	}
	return b[n*uint64(fixed):], true
}

// skipCounted steps over a count of values, each a 32-bit size and that
// many bytes padded to a multiple of four.
func skipCounted(b []byte) ([]byte, bool) {
	if len(b) < 4 {
		return b, false
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	for i := uint32(0); i < n; i++ {
		if len(b) < 4 {
			return b, false
		}
		size := uint64(binary.LittleEndian.Uint32(b))
		padded := (size + 3) &^ 3
		if padded+4 > uint64(len(b)) {
			return b, false
		}
		b = b[4+padded:]
	}
	return b, true
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
	var t tnefReceipt
	if part != nil {
		t = readTNEF(part.decoded(maxPartBytes))
	}
	d, read := t.disposition, t.read
	if d == "" && !read && m.root.hdr.has("x-ms-tnef-correlator") && m.inReplyTo != "" {
		d = subjectDisposition(m.subject)
	}
	if d == "" {
		return nil
	}
	r := Report{Kind: KindMDN, Disposition: d, Recipient: m.from}
	r.OriginalMessageID = m.originalFromThread()
	// The time inside the TNEF is when the receipt was generated, that is
	// when the mail was read; it replaces the Date header in fill.
	r.Date = t.readAt
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
