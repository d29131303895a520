package report

import (
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"
	"unicode/utf16"
)

// tnefAttr builds one TNEF attribute as [MS-OXTNEF] section 2.1.3.3 lays
// it out: level, ID, length, data, checksum (the sum of the data bytes).
func tnefAttr(id uint32, data []byte) []byte {
	b := []byte{0x01}
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	var sum uint16
	for _, c := range data {
		sum += uint16(c)
	}
	return binary.LittleEndian.AppendUint16(b, sum)
}

// tnefStream builds a TNEF stream: signature, legacy key, attributes.
func tnefStream(attrs ...[]byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, tnefSignature)
	b = binary.LittleEndian.AppendUint16(b, 1)
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

// tnefClassProps builds an attMsgProps value holding PidTagMessageClass
// (0x001A, PT_UNICODE) as [MS-OXTNEF] section 2.1.3.4 encodes a property.
func tnefClassProps(class string) []byte {
	u := utf16.Encode([]rune(class + "\x00"))
	v := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(v[2*i:], c)
	}
	for len(v)%4 != 0 {
		v = append(v, 0)
	}
	b := binary.LittleEndian.AppendUint32(nil, 1)
	b = binary.LittleEndian.AppendUint16(b, 0x001F)
	b = binary.LittleEndian.AppendUint16(b, 0x001A)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func TestTNEFDisposition(t *testing.T) {
	version := tnefAttr(0x00089006, []byte{0, 0, 1, 0})
	tests := []struct {
		name string
		b    []byte
		want Disposition
		read bool
	}{
		{"legacy read receipt", tnefStream(version, tnefAttr(tnefAttMessageClass, []byte("IPM.Microsoft Mail.Read Receipt\x00"))), DispositionDisplayed, true},
		{"IPNRN in properties", tnefStream(version, tnefAttr(tnefAttMsgProps, tnefClassProps("REPORT.IPM.Note.IPNRN"))), DispositionDisplayed, true},
		{"IPNNRN in properties", tnefStream(version, tnefAttr(tnefAttMsgProps, tnefClassProps("REPORT.IPM.Note.IPNNRN"))), DispositionDeleted, true},
		{"ordinary note", tnefStream(version, tnefAttr(tnefAttMessageClass, []byte("IPM.Microsoft Mail.Note\x00"))), "", true},
		{"truncated", tnefStream(version, tnefAttr(tnefAttMessageClass, []byte("IPM.Microsoft Mail.Read Receipt\x00")))[:20], "", false},
		{"not TNEF", []byte("hello, world"), "", false},
		{"length past the end", tnefStream([]byte{1, 0x08, 0x80, 0x07, 0, 0xff, 0xff, 0xff, 0xff}), "", false},
	}
	for _, tt := range tests {
		d, read := tnefDisposition(tt.b)
		if d != tt.want || read != tt.read {
			t.Errorf("%s: tnefDisposition = %q, %v; want %q, %v", tt.name, d, read, tt.want, tt.read)
		}
	}
}

func FuzzTNEF(f *testing.F) {
	f.Add(tnefStream(tnefAttr(tnefAttMsgProps, tnefClassProps("REPORT.IPM.Note.IPNRN"))))
	at := time.Date(2026, 3, 2, 1, 19, 45, 0, time.UTC)
	f.Add(tnefStream(tnefAttr(tnefAttDateSent, tnefDTR(at)), tnefAttr(tnefAttMsgProps, receiptProps(at, at))))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := readTNEF(b) // must not panic
		if d, read := tnefDisposition(b); d != r.disposition || read != r.read {
			t.Fatalf("tnefDisposition = %q, %v; readTNEF = %q, %v", d, read, r.disposition, r.read)
		}
	})
}

// tnefProp appends one property of the attMsgProps list: its tag (type,
// ID) and value, as [MS-OXTNEF] section 2.1.3.4 encodes a fixed-size one.
func tnefProp(b []byte, typ, id uint16, value []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint16(b, id)
	return append(b, value...)
}

// fileTimeOf is t as a FILETIME ([MS-DTYP] section 2.3.3).
func fileTimeOf(t time.Time) []byte {
	v := uint64(t.UnixNano()/100) + 116444736000000000
	return binary.LittleEndian.AppendUint64(nil, v)
}

// tnefDTR is t as the DTR of an atpDate attribute ([MS-OXTNEF] section
// 2.1.3.3.4).
func tnefDTR(t time.Time) []byte {
	var b []byte
	for _, v := range []int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), int(t.Weekday())} {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

// receiptProps builds an attMsgProps value for a read notification:
// PidTagMessageClass, a named property (to be stepped over), a string
// property and, when set, PidTagClientSubmitTime and PidTagReportTime.
func receiptProps(submit, report time.Time) []byte {
	class := tnefClassProps("REPORT.IPM.Note.IPNRN")[4:] // without the count
	n := uint32(3)
	b := append([]byte{}, class...)
	// A named property with a string name ([MS-OXTNEF] section 2.1.3.4:
	// GUID, kind 1, name size, name padded to four bytes), a PT_LONG.
	b = binary.LittleEndian.AppendUint16(b, 0x0003)
	b = binary.LittleEndian.AppendUint16(b, 0x8001)
	b = append(b, make([]byte, 16)...)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 6)
	b = append(b, 'x', 0, 'y', 0, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, 42)
	// PidTagSubject as PT_STRING8: one value, its size, padded data.
	b = tnefProp(b, 0x001E, 0x0037, nil)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 6)
	b = append(b, "Read: \x00\x00"...)
	if !submit.IsZero() {
		b = tnefProp(b, 0x0040, 0x0039, fileTimeOf(submit))
		n++
	}
	if !report.IsZero() {
		b = tnefProp(b, 0x0040, 0x0032, fileTimeOf(report))
		n++
	}
	return append(binary.LittleEndian.AppendUint32(nil, n), b...)
}

func TestTNEFReadTime(t *testing.T) {
	version := tnefAttr(0x00089006, []byte{0, 0, 1, 0})
	sent := time.Date(2026, 3, 2, 1, 15, 30, 0, time.UTC)
	submit := time.Date(2026, 3, 2, 1, 20, 0, 0, time.UTC)
	report := time.Date(2026, 3, 2, 1, 19, 45, 0, time.UTC)
	tests := []struct {
		name string
		b    []byte
		want time.Time
	}{
		{"PidTagReportTime first", tnefStream(version, tnefAttr(tnefAttDateSent, tnefDTR(sent)), tnefAttr(tnefAttMsgProps, receiptProps(submit, report))), report},
		{"PidTagClientSubmitTime next", tnefStream(version, tnefAttr(tnefAttDateSent, tnefDTR(sent)), tnefAttr(tnefAttMsgProps, receiptProps(submit, time.Time{}))), submit},
		{"attDateSent last", tnefStream(version, tnefAttr(tnefAttDateSent, tnefDTR(sent)), tnefAttr(tnefAttMessageClass, []byte("IPM.Microsoft Mail.Read Receipt\x00"))), sent},
		{"none", tnefStream(version, tnefAttr(tnefAttMsgProps, tnefClassProps("REPORT.IPM.Note.IPNRN"))), time.Time{}},
		{"bad date", tnefStream(version, tnefAttr(tnefAttDateSent, make([]byte, 14)), tnefAttr(tnefAttMsgProps, tnefClassProps("REPORT.IPM.Note.IPNRN"))), time.Time{}},
	}
	for _, tt := range tests {
		got := readTNEF(tt.b)
		if got.disposition != DispositionDisplayed || !got.readAt.Equal(tt.want) {
			t.Errorf("%s: readTNEF = %q at %v; want displayed at %v", tt.name, got.disposition, got.readAt, tt.want)
		}
	}
}

// TestTNEFReceiptDate parses a whole Outlook receipt whose TNEF states
// the reading time: the report's date is that time, not the Date header.
func TestTNEFReceiptDate(t *testing.T) {
	report := time.Date(2026, 3, 2, 1, 19, 45, 0, time.UTC)
	stream := tnefStream(tnefAttr(0x00089006, []byte{0, 0, 1, 0}), tnefAttr(tnefAttMsgProps, receiptProps(time.Time{}, report)))
	msg := "From: Hanako Sato <hanako@example.jp>\r\n" +
		"To: taro@example.com\r\n" +
		"Subject: =?UTF-8?B?6ZaL5bCB5riI44G/OiDopovnqY3jgoI=?=\r\n" +
		"Date: Mon, 2 Mar 2026 11:30:00 +0900\r\n" +
		"Message-ID: <receipt-1@example.jp>\r\n" +
		"In-Reply-To: <quote-7@example.com>\r\n" +
		"X-MS-TNEF-Correlator: <00000000A1B2@example.jp>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(stream) + "\r\n"
	rs, err := Parse([]byte(msg))
	if err != nil || len(rs) != 1 {
		t.Fatalf("Parse = %v, %v; want one report", rs, err)
	}
	r := rs[0]
	if r.Kind != KindMDN || r.Disposition != DispositionDisplayed || r.OriginalMessageID != "quote-7@example.com" {
		t.Errorf("report = %+v; want a displayed MDN for quote-7@example.com", r)
	}
	if !r.Date.Equal(report) {
		t.Errorf("Date = %v; want the TNEF's report time %v", r.Date, report)
	}
}
