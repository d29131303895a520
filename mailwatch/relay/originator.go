package relay

import (
	"net/mail"
	"strings"

	"github.com/emersion/go-smtp"
)

// Replies to a message whose originator fields the relay refuses. A
// header that cannot be read is a permanent media error (RFC 3463 §3.7,
// X.6.0); a readable one naming someone else is a policy refusal (X.7.1).
var (
	errNoFrom = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "message has no From field"}
	errManyFrom = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "message has more than one From field"}
	errBadOriginator = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "an originator field (From, Sender, Resent-From, Resent-Sender) cannot be read"}
	errHeaderSenderDenied = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "From, Sender or Resent-From names an address not allowed for this login"}
)

// originatorFields are the header fields that say who a message is from
// (RFC 5322 §3.6.2 and the resent fields of §3.6.6). Every address in
// every one of them must be one the login may send as.
var originatorFields = []string{"From", "Sender", "Resent-From", "Resent-Sender"}

// checkOriginators enforces the login's sender addresses on the header, for
// every message the relay passes on, reports and automatic replies
// included, whatever the envelope sender (RFC 6409 §4.3 lets a submission
// server enforce the submitter's rights to the addresses it uses):
//
//   - exactly one From field (RFC 5322 §3.6: From occurs once), which
//     must be readable: the relay never falls back to the envelope;
//   - every address of every From, Sender, Resent-From and Resent-Sender
//     field belongs to the login; an unreadable one is refused.
//
// Mail clients see these fields, not the envelope, so one address outside
// the login's list would show the message as someone else's.
func (s *Server) checkOriginators(user string, msg *parsed) *smtp.SMTPError {
	switch n := len(headerValues(msg.header, "From")); {
	case n == 0:
		return errNoFrom
	case n > 1:
		return errManyFrom
	}
	parser := &mail.AddressParser{WordDecoder: wordDecoder}
	for _, name := range originatorFields {
		for _, v := range headerValues(msg.header, name) {
			list, err := parser.ParseList(v)
			if err != nil || len(list) == 0 {
				return errBadOriginator
			}
			for _, a := range list {
				if !s.maySendAs(user, a.Address) {
					return errHeaderSenderDenied
				}
			}
		}
	}
	return nil
}

// asciiOnly reports whether s is plain ASCII.
func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// errUTF8Recipient answers a recipient address that is not ASCII: the
// relay does not offer SMTPUTF8, and RFC 6531 §3.5 has an SMTPUTF8-unaware
// submission refuse such a RCPT with 553 and X.6.7 ("non-ASCII addresses
// not permitted for that sender/recipient", RFC 5248). It is permanent:
// retrying cannot help.
var errUTF8Recipient = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
	Message: "non-ASCII addresses are not permitted without SMTPUTF8, which this relay does not offer"}

// errUTF8Sender is errUTF8Recipient for MAIL: 550 there (RFC 6531 §3.5).
var errUTF8Sender = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
	Message: "non-ASCII addresses are not permitted without SMTPUTF8, which this relay does not offer"}

// trimFieldName removes the white space RFC 5322's obsolete syntax allows
// between a field name and its colon (§4.5: obs-optional = field-name
// *WSP ":"), which real MTAs still read as the same field.
func trimFieldName(name string) string { return strings.TrimRight(name, " \t") }
