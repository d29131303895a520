package report

import "testing"

// TestVendorTexts classifies error texts as the mail systems' own
// documentation and message catalogues word them. Each row names its
// source; none comes from the shared corpus.
func TestVendorTexts(t *testing.T) {
	tests := []struct {
		source string
		in     ReasonInput
		want   Reason
	}{
		// Google, "SMTP errors and codes" (support.google.com/a/answer/3726730).
		{"google 5.1.1", ReasonInput{Action: ActionFailed, Status: "5.1.1", Diagnostic: "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces."}, ReasonUserUnknown},
		{"google 5.2.1", ReasonInput{Action: ActionFailed, Status: "5.2.1", Diagnostic: "550 5.2.1 The email account that you tried to reach is disabled."}, ReasonSuspend},
		{"google 5.2.2", ReasonInput{Action: ActionFailed, Status: "5.2.2", Diagnostic: "552 5.2.2 The email account that you tried to reach is over quota."}, ReasonMailboxFull},
		{"google 5.3.4", ReasonInput{Action: ActionFailed, Status: "5.3.4", Diagnostic: "552 5.3.4 Your message exceeded Google's message size limits."}, ReasonMesgTooBig},
		{"google 4.2.1 rate", ReasonInput{Action: ActionDelayed, Status: "4.2.1", Diagnostic: "450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered."}, ReasonSpeeding},
		{"google 5.7.26", ReasonInput{Action: ActionFailed, Status: "5.7.26", Diagnostic: "550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM."}, ReasonAuthFailure},
		{"google 5.7.1 spam", ReasonInput{Action: ActionFailed, Status: "5.7.1", Diagnostic: "550 5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked."}, ReasonSpamDetected},
		{"google 4.7.28 volume", ReasonInput{Action: ActionDelayed, Status: "4.7.28", Diagnostic: "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address."}, ReasonTooManyConn},
		{"google 5.7.25 ptr", ReasonInput{Action: ActionFailed, Status: "5.7.25", Diagnostic: "550 5.7.25 The IP address sending this message does not have a PTR record setup."}, ReasonRequirePTR},
		{"google 5.7.0 tls", ReasonInput{Action: ActionFailed, Status: "5.7.0", Diagnostic: "530 5.7.0 Must issue a STARTTLS command first."}, ReasonFailedSTARTTLS},
		// Microsoft, "Email non-delivery reports and SMTP errors in Exchange Online".
		{"exo 5.1.10", ReasonInput{Action: ActionFailed, Status: "5.1.10", Diagnostic: "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}, ReasonUserUnknown},
		{"exo 5.4.1", ReasonInput{Action: ActionFailed, Status: "5.4.1", Diagnostic: "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)"}, ReasonUserUnknown},
		{"exo 5.2.2", ReasonInput{Action: ActionFailed, Status: "5.2.2", Diagnostic: "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded"}, ReasonMailboxFull},
		{"exo 5.7.1 restricted", ReasonInput{Action: ActionFailed, Status: "5.7.1", Diagnostic: "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required"}, ReasonSecurityError},
		{"exo 5.7.708", ReasonInput{Action: ActionFailed, Status: "5.7.708", Diagnostic: "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP."}, ReasonBlocked},
		{"exo 5.7.509", ReasonInput{Action: ActionFailed, Status: "5.7.509", Diagnostic: "550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a DMARC policy of reject."}, ReasonAuthFailure},
		{"exo 4.4.7", ReasonInput{Action: ActionFailed, Status: "4.4.7", Diagnostic: "Message expired, connection refused"}, ReasonExpired},
		{"exo 5.4.14 loop", ReasonInput{Action: ActionFailed, Status: "5.4.14", Diagnostic: "554 5.4.14 Hop count exceeded - possible mail loop"}, ReasonNetworkError},
		{"exo 5.3.4", ReasonInput{Action: ActionFailed, Status: "5.3.4", Diagnostic: "552 5.3.4 Message size exceeds fixed maximum message size"}, ReasonMesgTooBig},
		{"exo 5.7.606", ReasonInput{Action: ActionFailed, Status: "5.7.606", Diagnostic: "550 5.7.606 Access denied, banned sending IP [192.0.2.1]"}, ReasonBlocked},
		{"exo 5.1.8", ReasonInput{Action: ActionFailed, Status: "5.1.8", Diagnostic: "550 5.1.8 Access denied, bad outbound sender"}, ReasonRejected},
		{"exo 5.2.3", ReasonInput{Action: ActionFailed, Status: "5.2.3", Diagnostic: "550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient"}, ReasonExceedLimit},
		{"exo 5.4.4", ReasonInput{Action: ActionFailed, Status: "5.4.4", Diagnostic: "550 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain"}, ReasonHostUnknown},
		{"exo 5.4.6", ReasonInput{Action: ActionFailed, Status: "5.4.6", Diagnostic: "554 5.4.6 Routing loop detected"}, ReasonNetworkError},
		{"exo 5.4.300", ReasonInput{Action: ActionFailed, Status: "5.4.300", Diagnostic: "550 5.4.300 Message expired"}, ReasonExpired},
		{"exo 5.7.57", ReasonInput{Action: ActionFailed, Status: "5.7.57", Diagnostic: "530 5.7.57 Client not authenticated to send mail during MAIL FROM"}, ReasonSecurityError},
		{"exo 5.7.750", ReasonInput{Action: ActionFailed, Status: "5.7.750", Diagnostic: "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains"}, ReasonBlocked},
		{"exo 5.6.11", ReasonInput{Action: ActionFailed, Status: "5.6.11", Diagnostic: "554 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; remote server doesn't support binary mime"}, ReasonContentError},
		{"exo 4.4.316", ReasonInput{Action: ActionDelayed, Status: "4.4.316", Diagnostic: "451 4.4.316 Connection refused"}, ReasonNetworkError},
		{"exo 5.4.1 relay", ReasonInput{Action: ActionFailed, Status: "5.4.1", Diagnostic: "550 5.4.1 Relay Access Denied"}, ReasonNoRelaying},
		// Yahoo, "SMTP error codes" (senders.yahooinc.com/smtp-error-codes).
		{"yahoo 554 dd", ReasonInput{Action: ActionFailed, Diagnostic: "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0] - mta1.mail.example.yahoo.com"}, ReasonUserUnknown},
		{"yahoo 552 not found", ReasonInput{Action: ActionFailed, Diagnostic: "552 1 Requested mail action aborted, mailbox not found"}, ReasonUserUnknown},
		{"yahoo TSS04", ReasonInput{Action: ActionDelayed, Status: "4.7.0", Diagnostic: "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints"}, ReasonBadReputation},
		{"yahoo 553 BL21", ReasonInput{Action: ActionFailed, Status: "5.7.1", Diagnostic: "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list"}, ReasonBlocked},
		{"yahoo 554 disabled", ReasonInput{Action: ActionFailed, Diagnostic: "554 30 Sorry, your message to x@yahoo.com cannot be delivered. This mailbox is disabled (554.30)."}, ReasonSuspend},
		// Postfix, smtpd(8) and its access(5) and local(8) texts.
		{"postfix local", ReasonInput{Action: ActionFailed, Status: "5.1.1", Diagnostic: "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in local recipient table", Command: "RCPT"}, ReasonUserUnknown},
		{"postfix relay", ReasonInput{Action: ActionFailed, Status: "5.7.1", Diagnostic: "554 5.7.1 <x@example.org>: Relay access denied", Command: "RCPT"}, ReasonNoRelaying},
		{"postfix size", ReasonInput{Action: ActionFailed, Status: "5.3.4", Diagnostic: "552 5.3.4 Message size exceeds fixed limit"}, ReasonMesgTooBig},
		{"postfix ptr", ReasonInput{Action: ActionFailed, Status: "4.7.1", Diagnostic: "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]"}, ReasonRequirePTR},
		{"postfix rcpt domain", ReasonInput{Action: ActionFailed, Status: "4.1.2", Diagnostic: "450 4.1.2 <x@nowhere.example>: Recipient address rejected: Domain not found", Command: "RCPT"}, ReasonHostUnknown},
		{"postfix sender domain", ReasonInput{Action: ActionFailed, Status: "4.1.8", Diagnostic: "450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not found", Command: "RCPT"}, ReasonRejected},
		{"postfix mailbox full", ReasonInput{Action: ActionFailed, Status: "5.2.2", Diagnostic: "cannot update mailbox /var/mail/x for user x. error writing message: File too large"}, ReasonMailboxFull},
		{"postfix dnsbl", ReasonInput{Action: ActionFailed, Status: "5.7.1", Diagnostic: "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"}, ReasonBlocked},
		{"postfix conn refused", ReasonInput{Action: ActionDelayed, Status: "4.4.1", Diagnostic: "connect to mx.example.org[192.0.2.25]:25: Connection refused"}, ReasonNetworkError},
		{"postfix host not found", ReasonInput{Action: ActionFailed, Status: "5.4.4", Diagnostic: "Host or domain name not found. Name service error for name=nowhere.example type=A: Host not found"}, ReasonHostUnknown},
		// Exim, its specification's bounce texts.
		{"exim retry", ReasonInput{Action: ActionFailed, Diagnostic: "retry timeout exceeded"}, ReasonExpired},
		{"exim mx non-existent", ReasonInput{Action: ActionFailed, Diagnostic: "all relevant MX records point to non-existent hosts"}, ReasonHostUnknown},
		{"exim quota", ReasonInput{Action: ActionFailed, Diagnostic: "mailbox is full (MTA-imposed quota exceeded while writing to file /var/mail/x)"}, ReasonMailboxFull},
		{"exim size", ReasonInput{Action: ActionFailed, Diagnostic: "message too big: read=52000000 max=50000000"}, ReasonMesgTooBig},
		// Sendmail, its deliver.c, srvrsmtp.c and usersmtp.c texts.
		{"sendmail user unknown", ReasonInput{Action: ActionFailed, Status: "5.1.1", Diagnostic: "550 5.1.1 <x@example.org>... User unknown"}, ReasonUserUnknown},
		{"sendmail host unknown", ReasonInput{Action: ActionFailed, Status: "5.1.2", Diagnostic: "550 5.1.2 <x@nowhere.example>... Host unknown (Name server: nowhere.example: host not found)"}, ReasonHostUnknown},
		{"sendmail too large", ReasonInput{Action: ActionFailed, Status: "5.2.3", Diagnostic: "552 5.2.3 Message size exceeds maximum value"}, ReasonExceedLimit},
		{"sendmail timeout", ReasonInput{Action: ActionDelayed, Status: "4.4.1", Diagnostic: "Deferred: Connection timed out with mx.example.org."}, ReasonNetworkError},
		// qmail, qmail-remote and qmail-local texts (cr.yp.to).
		{"qmail no mailbox", ReasonInput{Action: ActionFailed, Diagnostic: "Sorry, no mailbox here by that name. (#5.1.1)"}, ReasonUserUnknown},
		{"qmail no host", ReasonInput{Action: ActionFailed, Diagnostic: "Sorry, I couldn't find any host named nowhere.example. (#5.1.2)"}, ReasonHostUnknown},
		{"qmail over quota", ReasonInput{Action: ActionFailed, Diagnostic: "The users mailfolder is over the allowed quota (size). (#5.2.2)"}, ReasonMailboxFull},
		{"qmail queue", ReasonInput{Action: ActionFailed, Diagnostic: "I'm not going to try again; this message has been in the queue too long."}, ReasonExpired},
		// Courier, its courier(8) and courierdsn texts.
		{"courier unknown", ReasonInput{Action: ActionFailed, Status: "5.0.0", Diagnostic: "550 User <x@example.org> unknown", Command: "RCPT"}, ReasonUserUnknown},
		{"courier mailbox full", ReasonInput{Action: ActionFailed, Diagnostic: "maildrop: maildir over quota."}, ReasonMailboxFull},
		// Notes/Domino router texts.
		{"domino not listed", ReasonInput{Action: ActionFailed, Diagnostic: "User x (x@notes.example.org) not listed in Domino Directory"}, ReasonUserUnknown},
		// Japanese carriers' documented texts (NTT docomo, au/KDDI, SoftBank).
		{"docomo too much data", ReasonInput{Action: ActionFailed, Status: "5.2.0", Diagnostic: "552 5.2.0 Too much mail data"}, ReasonMailboxFull},
		{"softbank invalid recipient", ReasonInput{Action: ActionFailed, Diagnostic: "550 5.1.1 <x@softbank.ne.jp>... Invalid recipient", Command: "RCPT"}, ReasonUserUnknown},
		{"docomo unknown", ReasonInput{Action: ActionFailed, Diagnostic: "550 Unknown user x@docomo.ne.jp", Command: "RCPT"}, ReasonUserUnknown},
		{"au not exist", ReasonInput{Action: ActionFailed, Diagnostic: "<x@ezweb.ne.jp>: 宛先のメールアドレスは存在しません"}, ReasonUserUnknown},
		// RFC 3463 codes whose meaning no wording changes.
		{"rfc3463 5.2.2", ReasonInput{Action: ActionFailed, Status: "5.2.2", Diagnostic: "552 sorry"}, ReasonMailboxFull},
		{"rfc3463 5.1.6", ReasonInput{Action: ActionFailed, Status: "5.1.6", Diagnostic: "551 not here"}, ReasonHasMoved},
		{"rfc7504 521", ReasonInput{Action: ActionFailed, Diagnostic: "521 example.org does not accept mail"}, ReasonNotAccept},
	}
	for _, tt := range tests {
		if got := ClassifyReason(tt.in); got != tt.want {
			t.Errorf("%s: ClassifyReason(%q) = %q, want %q", tt.source, tt.in.Diagnostic, got, tt.want)
		}
	}
}
