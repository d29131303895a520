package mailwatch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"

	"github.com/mailack/mailack/track"
)

// TrackPolicy says which sent mails an account tracks.
type TrackPolicy struct {
	// All tracks every sent mail, not only those that ask for a receipt.
	All bool
	// TrackingAddress, when set, tracks every mail sent or Bcc'd to it.
	TrackingAddress string
	// PixelMarker, when set, tracks every mail whose body carries it (the
	// pixel URL prefix).
	PixelMarker string
	// Colleagues are the owners of the other watched mailboxes. Mail from
	// one of them found in this Sent folder is a copy of their mail
	// (received, then moved here), which their own mailbox tracks: it is
	// never tracked here. New fills it in.
	Colleagues []string
}

// receiptHeaders are the header fields mail clients use to ask for a read
// receipt: the standard one (RFC 8098) and the older Return-Receipt-To and
// X-Confirm-Reading-To.
var receiptHeaders = []string{"Disposition-Notification-To", "Return-Receipt-To", "X-Confirm-Reading-To"}

var errNoMessageID = errors.New("sent mail has no Message-ID")

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// SentMail decides whether a message found in a Sent folder is tracked and,
// if it is, returns it as a track.Mail. raw needs only the header, plus the
// body when the policy looks for a pixel. The mail's sender is the owner,
// whatever its From field says (mail sent as an alias or on someone's
// behalf is the owner's; so is a copy of someone else's mail put in the
// owner's Sent folder, which therefore cannot claim that person's mail).
// A copy of a colleague's mail (TrackPolicy.Colleagues) is not tracked.
// The owner's own copies (mail sent only to the owner) and reports (mail
// from <>, multipart/report) are never tracked.
func SentMail(account, owner string, raw []byte, p TrackPolicy, now time.Time) (track.Mail, bool, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return track.Mail{}, false, fmt.Errorf("read sent mail header: %w", err)
	}
	ct := strings.ToLower(h.Get("Content-Type"))
	if strings.HasPrefix(ct, "multipart/report") {
		return track.Mail{}, false, nil
	}
	m := track.Mail{Account: account, State: track.StateOpen, CreatedAt: now, UpdatedAt: now}
	for _, k := range receiptHeaders {
		if strings.TrimSpace(h.Get(k)) != "" {
			m.Requested.ReadReceipt = true
		}
	}
	if p.PixelMarker != "" && bytes.Contains(raw, []byte(p.PixelMarker)) {
		m.Requested.Pixel = true
	}
	owner = strings.ToLower(owner)
	tracked := p.All || m.Requested.ReadReceipt || m.Requested.Pixel
	for _, f := range []struct {
		key   string
		field track.Field
	}{{"To", track.FieldTo}, {"Cc", track.FieldCc}, {"Bcc", track.FieldBcc}} {
		for _, a := range addressList(h.Get(f.key)) {
			addr := strings.ToLower(a.Address)
			if p.TrackingAddress != "" && addr == strings.ToLower(p.TrackingAddress) {
				tracked = true
				continue
			}
			if addr == owner || hasRecipient(m.Recipients, addr) {
				continue
			}
			m.Recipients = append(m.Recipients, track.Recipient{Address: addr, Name: a.Name, Field: f.field, Status: track.StatusPending, Best: track.StatusPending})
		}
	}
	if !tracked || len(m.Recipients) == 0 {
		return track.Mail{}, false, nil
	}
	m.MessageID = track.NormalizeMessageID(h.Get("Message-Id"))
	if m.MessageID == "" {
		return track.Mail{}, false, errNoMessageID
	}
	// The sender is whoever owns the mailbox: the From field is written by
	// whoever composed the message, and a copy of another person's mail
	// (received, then dragged to Sent) says From: them. Only the owner's
	// own From lends its display name.
	m.Sender = owner
	if from := addressList(h.Get("From")); len(from) > 0 {
		if !strings.EqualFold(from[0].Address, owner) && slices.ContainsFunc(p.Colleagues, func(c string) bool { return strings.EqualFold(c, from[0].Address) }) {
			return track.Mail{}, false, nil
		}
		if strings.EqualFold(from[0].Address, owner) {
			m.SenderName = from[0].Name
		}
	}
	m.Subject = decodeWords(h.Get("Subject"))
	if t, err := mail.ParseDate(h.Get("Date")); err == nil {
		m.SentAt = t
	} else {
		m.SentAt = now
	}
	return m, true, nil
}

func hasRecipient(rs []track.Recipient, addr string) bool {
	for _, r := range rs {
		if r.Address == addr {
			return true
		}
	}
	return false
}

// addressList parses an address header leniently: a list that does not
// parse as a whole is parsed item by item.
func addressList(v string) []*mail.Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if as, err := p.ParseList(v); err == nil {
		return as
	}
	var out []*mail.Address
	for _, item := range strings.Split(v, ",") {
		if a, err := p.Parse(strings.TrimSpace(item)); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// decodeWords decodes RFC 2047 encoded words in any charset go-message
// knows, keeping the raw text when they do not decode.
func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}
