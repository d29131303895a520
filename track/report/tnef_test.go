package report

import (
	"encoding/binary"
	"testing"
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
	f.Fuzz(func(t *testing.T, b []byte) {
		tnefDisposition(b) // must not panic
	})
}
