package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mailack/mailack/track"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

// submission is one message as the client gave it.
type submission struct {
	user  string
	from  string
	rcpts []string
	raw   []byte
}

// copyOf is one message the relay sends upstream: who gets it and how its
// bytes are made. Copies are built one at a time, so that per-recipient
// copies of a large message are not all in memory at once.
type copyOf struct {
	rcpts []string
	build func() ([]byte, error)
}

// plan is what the relay decided for a submission.
type plan struct {
	msg    *parsed
	mail   track.Mail // Recipients are filled in once the upstream accepted
	copies []copyOf
	// track is false for messages passed on untouched and untracked.
	track bool
}

// relay processes one submission and returns nil, or the *smtp.SMTPError
// for the client.
func (s *Server) relay(sub submission) error {
	now := s.now()
	msg := readMessage(sub.raw)
	if err := s.checkOriginators(sub.user, msg); err != nil {
		s.log.Warn("message refused", "user", sub.user, "reason", err.Message,
			"message_id", track.NormalizeMessageID(msg.messageID))
		return err
	}
	p := s.plan(sub, msg, now)
	log := s.log.With("message_id", p.mail.MessageID, "user", sub.user)

	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Upstream.Timeout)
	defer cancel()
	res := s.deliver(ctx, sub.from, p.mail.EnvelopeID, p.track, p.copies)
	if p.track && len(res.accepted) > 0 {
		m := p.mail
		m.Requested.DSN = res.dsn
		m.Recipients = p.msg.recipients(res.accepted)
		s.register(log, m)
	}
	if res.err != nil {
		reply := upstreamError(res.err)
		log.Warn("not relayed", "code", reply.Code, "enhanced", fmt.Sprint(reply.EnhancedCode),
			"accepted", len(res.accepted), "recipients", len(sub.rcpts), "err", res.err)
		return reply
	}
	switch {
	case !p.track:
		log.Info("relayed untracked", "recipients", len(sub.rcpts))
	case !res.dsn:
		log.Warn("relayed; upstream does not offer DSN, so no delivery reports were requested", "recipients", len(sub.rcpts))
	default:
		log.Info("relayed", "recipients", len(sub.rcpts), "copies", len(p.copies),
			"read_receipt", p.mail.Requested.ReadReceipt, "pixel", p.mail.Requested.Pixel)
	}
	return nil
}

// plan reads the message and decides the header fields to add, the
// copies to send and the mail to register.
func (s *Server) plan(sub submission, msg *parsed, now time.Time) plan {
	if msg.untracked(sub.from) {
		whole := func() ([]byte, error) { return sub.raw, nil }
		m := track.Mail{MessageID: track.NormalizeMessageID(msg.messageID)}
		return plan{msg: msg, mail: m, copies: []copyOf{{rcpts: sub.rcpts, build: whole}}}
	}
	sender, senderName := msg.sender()
	prefix, id, receipts := s.addedFields(msg, sender, sub.rcpts)
	m := track.Mail{
		MessageID:  track.NormalizeMessageID(id),
		Account:    sub.user,
		Sender:     sender,
		SenderName: senderName,
		Subject:    msg.subject,
		SentAt:     now,
		Requested:  track.Requested{ReadReceipt: receipts},
	}
	m.EnvelopeID = EnvelopeID(m.MessageID)
	base := slices.Concat(prefix, sub.raw)
	part, ok := s.pixelPart(msg, sender)
	if !ok {
		whole := func() ([]byte, error) { return base, nil }
		return plan{msg: msg, mail: m, copies: []copyOf{{rcpts: sub.rcpts, build: whole}}, track: true}
	}
	// The part was found in sub.raw; base has the prefix in front of it.
	part.start += len(prefix)
	part.end += len(prefix)
	m.Requested.Pixel = true
	withPixel := func(recipient string) func() ([]byte, error) {
		return func() ([]byte, error) {
			c := trackpixel.Claims{MessageID: m.MessageID, Recipient: recipient, Sender: sender, Sent: now}
			tok, err := trackpixel.Mint(s.opts.Pixel.Keys, c)
			if err != nil {
				return nil, fmt.Errorf("mint pixel token: %w", err)
			}
			return injectPixel(base, part, trackpixel.Snippet(s.opts.Pixel.BaseURL, tok))
		}
	}
	if !s.opts.Pixel.PerRecipient {
		return plan{msg: msg, mail: m, copies: []copyOf{{rcpts: sub.rcpts, build: withPixel("")}}, track: true}
	}
	copies := make([]copyOf, 0, len(sub.rcpts))
	for _, r := range sub.rcpts {
		copies = append(copies, copyOf{rcpts: []string{r}, build: withPixel(r)})
	}
	return plan{msg: msg, mail: m, copies: copies, track: true}
}

// addedFields returns the header fields to put in front of the message:
// a Message-ID when it has none, and Disposition-Notification-To when the
// policy wants read receipts and the message does not ask already. It also
// returns the Message-ID and whether the mail asks for read receipts.
func (s *Server) addedFields(msg *parsed, sender string, rcpts []string) (prefix []byte, id string, receipts bool) {
	id = msg.messageID
	if id == "" {
		domain := s.opts.MessageIDDomain
		if domain == "" {
			domain = domainOf(sender)
		}
		if domain == "" {
			domain = s.opts.Hostname
		}
		id = newMessageID(domain)
		prefix = append(prefix, "Message-ID: "+id+msg.nl...)
	}
	receipts = msg.dnt
	if !msg.dnt && sender != "" && s.opts.Receipts.Wants(rcpts) {
		prefix = append(prefix, "Disposition-Notification-To: <"+sender+">"+msg.nl...)
		receipts = true
	}
	return prefix, id, receipts
}

// pixelPart returns the HTML part a pixel goes into, if pixels are on for
// this sender and message.
func (s *Server) pixelPart(msg *parsed, sender string) (htmlPart, bool) {
	px := s.opts.Pixel
	if !px.Enabled {
		return htmlPart{}, false
	}
	if px.OptedOut != nil && px.OptedOut(sender) {
		return htmlPart{}, false
	}
	if msg.dkim {
		// Changing the body would break the signature.
		s.log.Info("no pixel: message is DKIM-signed", "message_id", track.NormalizeMessageID(msg.messageID))
		return htmlPart{}, false
	}
	return findHTML(msg.raw)
}

// register starts tracking m.
func (s *Server) register(log *slog.Logger, m track.Mail) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.RegisterTimeout)
	defer cancel()
	if err := s.opts.Registrar.RegisterMail(ctx, m); err != nil {
		// The message is on its way; refusing it now would make the
		// client send it twice. Tracking it is what is lost.
		log.Error("register relayed mail", "err", err)
	}
}

// upstreamError turns an error from the upstream exchange into the reply
// for the client: the upstream's own reply to the message, else a
// temporary failure. A refusal while connecting (EHLO, STARTTLS, our own
// credentials) is about the relay, not the message, so it is temporary
// too.
func upstreamError(err error) *smtp.SMTPError {
	var de *dialError
	if errors.As(err, &de) {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1}, Message: "upstream unavailable, try again later"}
	}
	var be *buildError
	if errors.As(err, &be) {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "message could not be prepared, try again later"}
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &smtp.SMTPError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: "upstream: " + se.Message}
	}
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "upstream connection failed, try again later"}
}
