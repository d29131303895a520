package relay

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/mail"
	"strings"

	"github.com/emersion/go-message/charset"

	"github.com/mailack/mailack/track"
)

// EnvelopeID returns the DSN envelope ID (RFC 3461 ENVID) the relay gives
// the mail with messageID: a hash of the normalised Message-ID, so that it
// is short, fixed in length and made only of characters that need no
// xtext encoding, whatever the Message-ID holds.
func EnvelopeID(messageID string) string {
	sum := sha256.Sum256([]byte(track.NormalizeMessageID(messageID)))
	return "mailack." + hex.EncodeToString(sum[:16])
}

// wordDecoder decodes RFC 2047 encoded words in any charset go-message
// knows, ISO-2022-JP and Shift_JIS included.
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// parsed is what the relay reads from a submitted message's header.
type parsed struct {
	raw       []byte
	header    fields
	nl        string // the line break the message uses
	messageID string // as written, angle brackets included; "" when missing
	from      *mail.Address
	subject   string // decoded
	// addressed maps each address in To and Cc, normalised, to its field
	// and display name.
	addressed map[string]track.Recipient
	dkim      bool // the message carries a DKIM signature
	dnt       bool // the message asks for read receipts already
	automatic bool // a report or an automatic reply (see untracked)
}

// readMessage parses the header of raw. It never fails: fields that cannot
// be read are treated as absent.
func readMessage(raw []byte) *parsed {
	hdrEnd, _ := splitEntity(raw)
	h := parseHeader(raw[:hdrEnd])
	m := &parsed{
		raw:       raw,
		header:    h,
		nl:        lineBreak(raw[:hdrEnd]),
		messageID: strings.TrimSpace(h.get("Message-ID")),
		addressed: map[string]track.Recipient{},
		dkim:      h.has("DKIM-Signature"),
		dnt:       h.has("Disposition-Notification-To"),
	}
	if track.NormalizeMessageID(m.messageID) == "" {
		m.messageID = ""
	}
	ct, _, _ := mime.ParseMediaType(h.get("Content-Type"))
	auto := strings.ToLower(h.get("Auto-Submitted"))
	m.automatic = ct == "multipart/report" || (auto != "" && auto != "no")
	m.subject = decodeText(h.get("Subject"))
	parser := &mail.AddressParser{WordDecoder: wordDecoder}
	if from, err := parser.ParseList(h.get("From")); err == nil && len(from) > 0 {
		m.from = from[0]
	}
	// Cc first, then To, so that an address in both counts as To.
	for _, f := range []struct {
		name  string
		field track.Field
	}{{"Cc", track.FieldCc}, {"To", track.FieldTo}} {
		for _, v := range headerValues(h, f.name) {
			list, err := parser.ParseList(v)
			if err != nil {
				continue
			}
			for _, a := range list {
				addr := track.NormalizeAddress(a.Address)
				m.addressed[addr] = track.Recipient{Address: addr, Name: a.Name, Field: f.field}
			}
		}
	}
	return m
}

// headerValues returns the values of every field called name.
func headerValues(h fields, name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// decodeText decodes encoded words, keeping the raw text when that fails.
func decodeText(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// untracked reports whether a message is one the relay passes on without
// tracking or changing it: a message with the null sender, a delivery or
// read report (multipart/report, RFC 6522) or an automatic message
// (Auto-Submitted, RFC 3834) such as a vacation reply. Nobody waits for an
// answer to those, and a report must not ask for reports itself.
func (m *parsed) untracked(envelopeFrom string) bool {
	return envelopeFrom == "" || m.automatic
}

// recipients returns the tracked recipients for the envelope recipients
// rcpts: each with its field and name from To and Cc, and as Bcc when the
// header does not name it.
func (m *parsed) recipients(rcpts []string) []track.Recipient {
	out := make([]track.Recipient, 0, len(rcpts))
	for _, rc := range rcpts {
		addr := track.NormalizeAddress(rc)
		r, ok := m.addressed[addr]
		if !ok {
			r = track.Recipient{Address: addr, Field: track.FieldBcc}
		}
		out = append(out, r)
	}
	return out
}

// sender returns the sender's address and name: the first address of
// From. checkOriginators has refused messages without a readable From, so
// there is no fallback to the envelope.
func (m *parsed) sender() (addr, name string) {
	if m.from == nil {
		return "", ""
	}
	return track.NormalizeAddress(m.from.Address), m.from.Name
}

// newMessageID returns a fresh Message-ID in angle brackets, under domain.
func newMessageID(domain string) string {
	return "<" + strings.ToLower(rand.Text()) + ".mailack@" + domain + ">"
}

// domainOf returns the domain of an address, or "".
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}
