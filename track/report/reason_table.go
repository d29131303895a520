package report

// The tables ClassifyReason works from. Phrases are lower case with single
// spaces, as foldReasonText leaves the diagnostic, and are worded as real
// MTAs word their errors. Rules are ordered so that the more specific
// wording wins.
//
// Sources, by order of trust: the enhanced status code (RFC 3463, RFC
// 7372, RFC 7505 and the IANA "Simple Mail Transfer Protocol (SMTP)
// Enumerated Status Codes" registry); the SMTP reply code (RFC 5321
// section 4.2, RFC 7504); then the wording documented by the systems that
// write it: Microsoft's "Email non-delivery reports and SMTP errors in
// Exchange Online", Google's "SMTP errors and codes", Yahoo's "SMTP error
// codes", the Postfix (smtpd, access, local, virtual), Exim (its
// specification), Sendmail (deliver.c, srvrsmtp.c), Courier, qmail
// (qmail-remote, qmail-local), Lotus Notes/Domino router texts, and the
// Japanese carriers' notices. TestVendorTexts checks the rules against
// those texts.

// decisiveStatus maps the subject and detail of an enhanced status code to
// the reason it settles, whatever the text says.
var decisiveStatus = map[string]Reason{
	"1.6":   ReasonHasMoved,    // destination mailbox has moved
	"1.7":   ReasonRejected,    // bad sender's mailbox address syntax
	"1.8":   ReasonRejected,    // bad sender's system address
	"2.2":   ReasonMailboxFull, // mailbox full
	"2.3":   ReasonExceedLimit, // message length exceeds administrative limit
	"3.1":   ReasonSystemFull,  // mail system full
	"3.4":   ReasonMesgTooBig,  // message too big for system
	"4.7":   ReasonExpired,     // RFC 3463 section 3.5: delivery time expired
	"7.20":  ReasonAuthFailure, // no passing DKIM signature
	"7.21":  ReasonAuthFailure, // no acceptable DKIM signature
	"7.22":  ReasonAuthFailure, // no valid author-matched DKIM signature
	"7.23":  ReasonAuthFailure, // SPF validation failed
	"7.24":  ReasonAuthFailure, // SPF validation error
	"7.25":  ReasonRequirePTR,  // reverse DNS validation failed
	"7.26":  ReasonAuthFailure, // multiple authentication checks failed
	"7.27":  ReasonNotAccept,   // sender address has null MX
	"7.509": ReasonAuthFailure, // Exchange Online: DMARC reject
	"7.606": ReasonBlocked,     // Exchange Online: banned sending IP
	"7.607": ReasonBlocked,     // Exchange Online: banned sending IP
	"7.608": ReasonBlocked,     // Exchange Online: banned sending IP
	"7.750": ReasonBlocked,     // Exchange Online: banned sending domain
	"7.13":  ReasonSuspend,     // user account disabled
	"7.28":  ReasonTooManyConn, // mail flood detected
	"7.29":  ReasonAuthFailure, // ARC validation failure
}

// statusDetail maps the subject and detail of an enhanced status code
// (RFC 3463, RFC 7372 and the IANA registry) to a reason.
var statusDetail = map[string]Reason{
	"0.0":  ReasonUndefined,
	"1.0":  ReasonUserUnknown,
	"1.1":  ReasonUserUnknown,
	"1.2":  ReasonHostUnknown,
	"1.3":  ReasonUserUnknown,
	"1.4":  ReasonUserUnknown,
	"1.9":  ReasonSystemError,
	"1.10": ReasonUserUnknown, // RFC 7505 null MX, but Exchange uses it for unknown recipients
	"2.0":  ReasonFiltered,
	"2.1":  ReasonSuspend,
	"2.4":  ReasonSystemError,
	"3.0":  ReasonSystemError,
	"3.2":  ReasonNotAccept,
	"3.3":  ReasonSystemError,
	"3.5":  ReasonSystemError,
	"4.0":  ReasonUndefined, // other or undefined network or routing status
	"4.1":  ReasonNetworkError,
	"4.2":  ReasonNetworkError,
	"4.3":  ReasonNetworkError,
	"4.4":  ReasonHostUnknown,
	"4.5":  ReasonNetworkError,
	"4.6":  ReasonNetworkError,
	"4.7":  ReasonExpired,
	"5.0":  ReasonUndefined,   // other or undefined protocol status
	"5.3":  ReasonTooManyConn, // too many recipients
	"7.0":  ReasonSecurityError,
	"7.1":  ReasonSecurityError,
	"7.7":  ReasonSecurityError,
	"7.8":  ReasonSecurityError,
	"7.9":  ReasonSecurityError,
	"7.10": ReasonFailedSTARTTLS,
	"7.11": ReasonFailedSTARTTLS,
}

// statusSubject maps the subject of a status code whose detail is not in
// statusDetail.
var statusSubject = map[string]Reason{
	"1": ReasonUserUnknown,
	"2": ReasonFiltered,
	"3": ReasonSystemError,
	"4": ReasonNetworkError,
	"5": ReasonSyntaxError,
	"6": ReasonContentError,
	"7": ReasonSecurityError,
}

// looseReasons are what a status code says when servers often use the code
// loosely; wording in the text, or the SMTP command, is trusted over them.
var looseReasons = map[Reason]bool{
	ReasonUserUnknown:   true,
	ReasonHostUnknown:   true,
	ReasonExpired:       true,
	ReasonSuspend:       true,
	ReasonNetworkError:  true,
	ReasonSystemError:   true,
	ReasonSecurityError: true,
}

// replyReasons maps SMTP reply codes that say something on their own.
var replyReasons = map[string]Reason{
	"500": ReasonSyntaxError,
	"501": ReasonSyntaxError,
	"502": ReasonSyntaxError,
	"503": ReasonSyntaxError,
	"504": ReasonSyntaxError,
	"521": ReasonNotAccept, // RFC 7504: host does not accept mail
	"556": ReasonNotAccept, // RFC 7504: domain does not accept mail
	"530": ReasonSecurityError,
	"534": ReasonSecurityError,
	"535": ReasonSecurityError,
	"538": ReasonSecurityError,
	"551": ReasonHasMoved,
	"552": ReasonMailboxFull,
}

// commandMarker is how a bounce says which SMTP command an error answered.
type commandMarker struct {
	marker  string
	command string
}

var commandMarkers = []commandMarker{
	// Postfix
	{"in reply to end of data command", "DATA"},
	{"in reply to data command", "DATA"},
	{"in reply to bdat command", "DATA"},
	{"in reply to rcpt to command", "RCPT"},
	{"in reply to mail from command", "MAIL"},
	{"in reply to ehlo command", "EHLO"},
	{"in reply to helo command", "HELO"},
	{"in reply to lhlo command", "EHLO"},
	{"while performing the ehlo handshake", "EHLO"},
	{"while performing the helo handshake", "HELO"},
	{"while sending rcpt to", "RCPT"},
	{"while sending mail from", "MAIL"},
	{"while sending end of data", "DATA"},
	{"while sending message body", "DATA"},
	{"while sending data command", "DATA"},
	{"refused to talk to me", "CONN"},
	{"while receiving the initial server greeting", "CONN"},
	// Exim
	{"after end of data", "DATA"},
	{"after pipelined data", "DATA"},
	{"after data", "DATA"},
	{"after rcpt to", "RCPT"},
	{"after pipelined rcpt to", "RCPT"},
	{"after mail from", "MAIL"},
	{"after pipelined mail from", "MAIL"},
	{"after ehlo", "EHLO"},
	{"after helo", "HELO"},
	{"after initial connection", "CONN"},
	// Sendmail and Courier transcripts
	{">>> data", "DATA"},
	{">>> rcpt to", "RCPT"},
	{">>> mail from", "MAIL"},
	{">>> ehlo", "EHLO"},
	{">>> helo", "HELO"},
	// qmail
	{"failed after i sent the message", "DATA"},
	{"does not like recipient", "RCPT"},
	{"but sender was rejected", "MAIL"},
	{"but my name was rejected", "HELO"},
	{"but greeting failed", "CONN"},
	// DragonFly
	{"did not like our final data", "DATA"},
	{"did not like our data", "DATA"},
	{"did not like our rcpt to", "RCPT"},
	{"did not like our mail from", "MAIL"},
	{"did not like our ehlo", "EHLO"},
	{"did not like our helo", "HELO"},
	// 1&1, GMX and T-Online's bounce template: "SMTP error from remote
	// server after RCPT command:"
	{"after rcpt command", "RCPT"},
	{"after mail command", "MAIL"},
	{"after data command", "DATA"},
	// 1&1, Yahoo, others
	{"for text command", "DATA"},
	{"for data command", "DATA"},
	{"for rcpt to command", "RCPT"},
	{"for mail from command", "MAIL"},
	{"error following data command", "DATA"},
	{"error following rcpt command", "RCPT"},
	{"error following mail command", "MAIL"},
	{"[rcpt_to]", "RCPT"},
	{"[mail_from]", "MAIL"},
	{"smtp:rcpt", "RCPT"},
	{"smtp:data", "DATA"},
	{"smtp:mail", "MAIL"},
	// Gmail's SMTP client states
	{"(state 14)", "RCPT"},
	{"(state 18)", "DATA"},
}

// The rules that name a cause whatever the status code says, in order.
var strongRules = []reasonStep{
	sendingLimitRule.apply,
	mailboxFullRule.apply,
	exceedLimitRule.apply,
	mesgTooBigRule.apply,
	suspendRule.apply,
	hasMovedRule.apply,
	noRelayingRule.apply,
	notCompliantRule.apply,
	authFailureRule.apply,
	badReputationRule.apply,
	speedingRule.apply,
	tooManyConnRule.apply,
	requirePTRRule.apply,
	virusRule.apply,
	spamRule.apply,
	policyRule.apply,
	contentErrorRule.apply,
	failedSTARTTLSRule.apply,
	rejectedRule.apply,
	greetingRule.apply,
	notAcceptRule.apply,
	dnsErrorRule.apply,
	hostUnknownRule.apply,
	missingDomainStep,
	noValidRecipientsRule.apply,
	userUnknownStep,
	blockedRule.apply,
	spamWordRule.apply,
}

// The rules trusted only when the status code is missing or vague.
var weakRules = []reasonStep{
	systemFullRule.apply,
	networkErrorRule.apply,
	expiredRule.apply,
	failedAttemptsStep,
	mailerErrorRule.apply,
	systemErrorRule.apply,
	securityErrorRule.apply,
	syntaxErrorRule.apply,
}

// sendingLimitRule is the sender's own quota or rate, which must not be
// read as the recipient's mailbox quota.
var sendingLimitRule = phraseRule{reason: ReasonTooManyConn, phrases: []string{
	"sending quota", "daily message quota", "sending rate exceeded", "maximum sending rate",
	"throttling failure", "sending limit exceeded", "message rate limit",
}}

var mailboxFullRule = phraseRule{reason: ReasonMailboxFull, phrases: []string{
	"mailbox full", "mailbox is full", "mailbox-full", "mailbox has exceeded",
	"mailbox size limit exceeded", "mailbox exceeded", "mailbox is over quota",
	"mailbox quota", "quota exceeded", "quota exceed", "over quota", "overquota",
	"exceeded storage allocation", "exceeds allowed size", "mailfolder is full",
	"disk quota exceeded", "not enough disk space", "out of storage space",
	"storage quota", "inbox is full", "insufficient mailbox space",
	"too much mail data", "user's mailbox is full", "full mailbox", "quotaexceeded",
	"over the allowed quota", "diskspace quota", "buzón lleno", "buzon lleno", "casella piena",
	"caixa postal cheia",
	"would exceed the quota", "exceeded its quota", "exceeded the quota",
	"exceeding their quota", "exceeding its quota", "exceeding the quota", "reached disk quota",
	"mailbox would exceed", "has exceeded his/her disk space limit",
	"boite pleine", "boîte pleine", "postfach voll", "speicherplatz",
	"メールボックスが一杯", "メールボックスがいっぱい", "メールボックスが満杯",
	"容量超過", "容量オーバー", "容量を超え", "容量が不足", "容量不足",
}}

var exceedLimitRule = phraseRule{reason: ReasonExceedLimit, phrases: []string{
	"exceeds administrative limit", "message too large for this recipient",
}}

var mesgTooBigRule = phraseRule{reason: ReasonMesgTooBig, phrases: []string{
	"message too big", "message too large", "message is too big",
	"message is too large", "message size exceeds", "message size limit",
	"mail size limit", "size limit exceeded", "message exceeds maximum",
	"exceeds the maximum message size", "exceeds maximum message size",
	"maximum message size", "exceeded the maximum message size", "max message size",
	"message length exceeds", "email is too large", "mail is too large",
	"message file too big", "too big for system", "message larger than",
	"exceeds size limit", "size too big", "message size limits", "incoming message size",
	"メールサイズが大き", "サイズが大きすぎ", "サイズ制限", "サイズが制限を超え", "サイズ超過",
}}

var suspendRule = phraseRule{reason: ReasonSuspend, phrases: []string{
	"account disabled", "account is disabled", "account has been disabled",
	"disabled or discontinued", "account is inactive", "tried to reach is disabled",
	"tried to reach is inactive", "account is locked", "account locked",
	"temporarily locked", "temporary locked", "account suspended",
	"account has been suspended", "account is suspended", "suspended account",
	"mailbox disabled", "mailbox is disabled", "mailbox has been disabled",
	"mailbox is inactive", "user suspended", "recipient suspended", "deactivated mailbox",
	"mailbox is deactivated", "mailbox has been deactivated",
	"account has expired", "account is frozen", "mailbox is frozen", "mailbox frozen", "boite du destinataire archivee",
	"利用停止", "アカウントが停止", "一時停止",
}}

var hasMovedRule = phraseRule{reason: ReasonHasMoved, phrases: []string{
	"user has moved", "mailbox has moved", "recipient has moved", "address has moved",
	"no longer on server", "address has changed", "not local; please try",
	"has been replaced by",
}}

var noRelayingRule = phraseRule{reason: ReasonNoRelaying, phrases: []string{
	"relay access denied", "relaying denied", "relay denied", "relay not permitted",
	"relaying not permitted", "relaying not allowed", "relay not allowed",
	"relaying is not allowed", "not allowed to relay", "not permitted to relay",
	"not configured to relay", "unable to relay", "cannot relay", "can't relay",
	"we do not relay", "no relaying", "relaying prohibited", "relay prohibited",
	"insecure mail relay", "relaying mail to", "relay rejected",
	"email address is not verified", "中継が拒否", "relaying disallowed", "relay disallowed",
	"allowed rcpthosts", "as a relay, but", "中継を拒否", "リレーを拒否",
}}

var notCompliantRule = phraseRule{reason: ReasonNotCompliantRFC, phrases: []string{
	"rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "not rfc compliant",
	"rfcmessagenoncompliant", "duplicate header", "multiple addresses in from",
	"multiple from headers", "multiple subject headers", "multiple message-id",
	"multiple date headers", "multiple to headers", "- bad header",
}}

var authFailureRule = phraseRule{reason: ReasonAuthFailure, phrases: []string{
	"dmarc policy", "dmarc verification", "dmarc check", "dmarc validation",
	"dmarc authentication", "dmarc fail", "dmarc=fail", "dmarc reject",
	"spf record", "spf check", "spf fail", "spf=fail", "spf validation",
	"spf verification", "spf settings", "bad spf", "spf policy", "spf authentication",
	"sender policy framework", "rejected by spf", "dkim verification", "dkim check", "dkim validation",
	"dkim fail", "dkim=fail", "dkim signature", "authentication checks",
	"authentication information", "sender is unauthenticated", "unauthenticated email",
	"authenticate with either spf or dkim",
}}

var badReputationRule = phraseRule{reason: ReasonBadReputation, phrases: []string{
	"reputation", "user complaints",
}}

var speedingRule = phraseRule{reason: ReasonSpeeding, phrases: []string{
	"receiving mail at a rate", "receiving mail too quickly",
}}

var tooManyConnRule = phraseRule{reason: ReasonTooManyConn, phrases: []string{
	"too many connections", "too many concurrent", "too many simultaneous",
	"too many sessions", "too many smtp sessions", "connection rate limit",
	"connection limit", "rate limit exceeded", "rate limited", "frequency limited",
	"too many recipients", "throttl", "sending quota", "exceeded the rate",
	"too many messages from", "max connections",
}}

var requirePTRRule = phraseRule{reason: ReasonRequirePTR, phrases: []string{
	"reverse dns", "reverse-dns", "ptr record", "no ptr", "rdns", "reverse lookup",
	"reverse hostname", "cannot find your hostname", "unverifyable sending ip",
	"unverifiable sending ip", "mismatches client ip", "forward dns entry does not point",
	"no reverse",
}}

var virusRule = phraseRule{reason: ReasonVirusDetected, phrases: []string{
	"virus detected", "virus found", "a virus", "contains virus", "virus infected",
	"infected with", "- infected", "malware detected", "malware found", "contains malware",
	"ウイルス", "ウィルス",
}}

// spamRule: "blacklisted url in message" is the URI blocklist (SURBL,
// URIBL) rejection of Exim's and SpamAssassin's ACL examples: the content,
// not the sending host, is listed.
var spamRule = phraseRule{reason: ReasonSpamDetected, phrases: []string{
	"blacklisted url", "blocklisted url", "listed url in message", "uribl", "surbl",
	"spam & virus firewall", "spam firewall", "scored as spam", "spam detected",
	"detected as spam", "identified as spam", "classified as spam", "considered spam",
	"considered as spam", "marked as spam", "message is spam", "looks like spam",
	"likely spam", "suspected spam", "rejected as spam", "appears to be spam",
	"spam message", "spam content", "spam score", "spamassassin",
	"message content rejected", "mail content denied", "consider spam", "likely unsolicited",
	"unsolicited mail", "due to spam", "spam filter", "content filter", "mail rejete", "mail rejeté", "迷惑メール", "スパム",
}}

// spamWordRule is the word itself: whatever the filter's product or
// wording ("554 Spam email", "spam-like header contents", "Probable
// Spam", "scored 8.4 spam points", "Mail appears to be unsolicited",
// "classification as Bulk mail"), a refusal that calls the message spam,
// unsolicited or bulk mail is a content
// filter's (Sisimai's spamdetected, libsisimai.org/en/reason). It is tried
// after every other wording, so that the block lists named after spam
// (Spamhaus, SpamCop) stay blocked.
var spamWordRule = phraseRule{reason: ReasonSpamDetected, phrases: []string{
	"spam", "unsolicited", "bulk mail", "bulk email", "mass mailer",
}}

var policyRule = phraseRule{reason: ReasonPolicyViolation, phrases: []string{
	"local policy violation", "denied by policy", "policy reasons", "message not allowed",
	"host network not allowed", "illegal attachment", "prohibited attachment",
	"content presents a potential", "header error", "rejected by policy",
	"violates our policy", "organization policy", "due to local policy",
	"anti-spoofing policy", "- banned", "closed mailing list",
}}

var contentErrorRule = phraseRule{reason: ReasonContentError, phrases: []string{
	"improper use of 8-bit data", "8-bit data in message header", "headers too large",
	"header too large", "media error", "invalid mime", "mime error", "malformed mime",
}}

var failedSTARTTLSRule = phraseRule{reason: ReasonFailedSTARTTLS, phrases: []string{
	"does not support tls", "starttls failed", "tls negotiation failed",
	"must issue a starttls command first", "tls required", "encryption required",
	"tls handshake failed",
}}

// noValidRecipientsRule: Postfix's smtpd answers DATA with "554 5.5.1
// Error: no valid recipients" when it refused every RCPT TO before it
// (smtpd.c); Exchange and others word it alike. The recipient was refused
// at RCPT TO, whatever command the final reply answered.
var noValidRecipientsRule = phraseRule{reason: ReasonUserUnknown, phrases: []string{
	"no valid recipients", "no valid recipient",
}}

// userUnknownStrong is wording that only ever means the mailbox does not
// exist: Exchange's NDR texts (learn.microsoft.com "Email non-delivery
// reports in Exchange Online", 5.1.1/5.1.10 "RecipNotFound"), Lotus Notes
// and Domino ("not listed in public Name & Address Book", "not listed in
// Domino Directory", "Invalid final delivery userid" from its router),
// qmail ("no mailbox here by that name", qmail-local), and the Japanese
// carriers' wording.
var userUnknownStrong = phraseRule{reason: ReasonUserUnknown, phrases: []string{
	"invalid final delivery userid", "not a valid user here",
	"unknown recipient", "recipient not found", "recipnotfound", "recipientnotfound",
	"no mailbox here by that name", "address couldn't be found", "address could not be found",
	"not listed in domino directory", "not listed in public name & address book",
	"and other recipients in the same domain", "unknown user:", "this user doesn't have a",
	"recipient address rejected: access denied", "mailbox not found", "no such mailbox",
	"no mailbox found", "no mail box available",
	// qmail's badrcptto patch refuses listed recipients at RCPT TO with
	// "553 sorry, badrcptto".
	"badrcptto",
	"wasn't found at", "account does not exist at the organization",
	"ディレクトリには見つかりません", "アドレスは存在しません",
	"宛先がみつかりません", "宛先が見つかりません", "宛先不明", "存在しないメールアドレス",
	"ユーザが存在しません", "ユーザーが存在しません", "ユーザが見つかりません",
	"ユーザーが見つかりません", "アドレスが存在しません", "アドレスが見つかりません",
}}

// userUnknownWeak is wording that means the mailbox does not exist when
// RCPT TO was refused, and a filter when it comes later.
var userUnknownWeak = phraseRule{reason: ReasonUserUnknown, phrases: []string{
	"user unknown", "unknown user", "no such user", "no such recipient",
	"no such account", "invalid recipient", "recipient unknown", "mailbox unavailable",
	"mailbox does not exist", "user does not exist", "user not exist", "user not found",
	"account does not exist", "tried to reach does not exist", "does not exist",
	"not a valid recipient", "unknown or illegal alias", "invalid address",
	"invalid user", "invalid mailbox", "address unknown", "destinataire invalide",
	"destinataire inconnu", "utilisateur inconnu", "empfänger unbekannt",
	"benutzer unbekannt", "usuario desconocido", "user not known", "is not a known user",
}}

// filteredPhrases is wording for a recipient-side filter.
var filteredPhrases = phraseRule{reason: ReasonFiltered, phrases: []string{
	"was rejected by a remote mail server", "only accepting mail from specific",
	"due to the recipient's policy", "refused due to recipient preferences",
	"you have been blocked by the recipient", "user reject", "refuse to receive mail",
	"受信拒否",
}}

var rejectedRule = phraseRule{reason: ReasonRejected, phrases: []string{
	"sender address rejected", "domain of sender address", "sender domain",
	"sender verify failed", "sender verification failed", "sender rejected",
	"unroutable sender address", "unrouteable sender address", "from: domain is invalid",
	"purported responsible address", "is not a registered gateway user",
	"an address that has been blacklisted", "send mail as", "groups.google.com/support",
	"group you tried to contact", "permission to post", "invalid sender",
	"sender address is invalid", "bad sender", "envelope sender",
}}

// greetingRule is a refusal of the sending host's HELO name, whatever the
// wording says about hosts.
var greetingRule = phraseRule{reason: ReasonBlocked, phrases: []string{
	"helo command rejected", "ehlo command rejected", "my name was rejected", "invalid helo",
	"bad helo", "helo name",
}}

var notAcceptRule = phraseRule{reason: ReasonNotAccept, phrases: []string{
	"does not accept mail", "does not accept e-mail", "does not accept email", "no smtp service", "null mx",
	"rfc 7505", "rfc7505", "not accepting network messages",
	"couldn't find a mail exchanger",
}}

// dnsErrorRule is a temporary DNS failure, which must not be read as a
// domain that does not exist.
var dnsErrorRule = phraseRule{reason: ReasonNetworkError, phrases: []string{
	"host not found, try again", "dns error", "dns query failed",
	"malformed or unexpected name server reply", "host name lookup failure",
	"temporary failure in name resolution", "name server timeout",
}}

var hostUnknownRule = phraseRule{
	reason: ReasonHostUnknown,
	phrases: []string{
		"host unknown", "unknown host", "host not found", "host or domain name not found",
		"domain not found", "domain does not exist", "no such domain",
		"couldn't find any host named", "illegal host/domain name", "unrouteable address",
		"unroutable address", "domain is not reachable", "dns lookup failure",
		"bad destination system address", "invalid domain", "name or service not known",
		"nxdomain", "no mx record", "domain may not exist", "nonexistent domain",
		"non-existent domain", "non-existent hosts", "couldn't find any host by that name",
		"could not be found in domain name service", "ドメインが見つかりません", "ドメインが存在しません",
		"ホストが見つかりません",
	},
	// A domain refused at MAIL FROM or HELO is the sender's own.
	skip: []string{"MAIL", "HELO", "EHLO", "CONN"},
}

var blockedRule = phraseRule{reason: ReasonBlocked, phrases: []string{
	"blacklisted", "blacklist", "blocklist", "block list", "blocked using",
	"client host blocked", "client host rejected", "is listed in", "is listed on",
	"is listed at", "are listed in", "listed by", "rbl",
	"dnsbl", "spamhaus", "spamcop", "sorbs", "banned sending ip", "ip address blacklisted",
	"please use the smtp server of your isp", "open relay", "not accepting connections",
	"service refuse", "dynamic ip", "dynamic address", "dialup",
	"dial-up", "residential", "(bl)", "ip blocked", "my name was rejected",
	"your ip address", "blocked ip", "weren't sent", "traffic not accepted from this ip",
	"banned sender", "permanently deferred", "blocked for spam", "has been blocked", "is blocked",
}}

var systemFullRule = phraseRule{reason: ReasonSystemFull, phrases: []string{
	"insufficient system storage", "system storage", "mail system full", "disk full",
	"no space left on device", "file system full", "insufficient disk space",
}}

var networkErrorRule = phraseRule{reason: ReasonNetworkError, phrases: []string{
	"lost connection", "too many hops", "mail loop", "loop detected", "routing loop",
	"forwarded more than the maximum", "hop count exceeded", "connection refused",
	"loops back to myself", "forwarding loop", "message is looping", "message looping", "network error on destination",
	"network is unreachable", "no route to host", "connection reset",
	// Sendmail's "Deferred: Connection timed out with host" (deliver.c):
	// the host did not answer (RFC 3463 X.4.1), it is not an expiry.
	"connection timed out with",
}}

var expiredRule = phraseRule{reason: ReasonExpired, phrases: []string{
	"retry timeout exceeded", "retry time exceeded", "message expired", "delivery expired",
	"delivery time expired", "envelope expired", "queue.expired", "in the queue too long",
	"could not deliver for the last", "all hosts have been failing",
	"was not delivered within", "unable to deliver this message after",
	"could not be delivered for", "did not accept our requests to connect",
	"unable to connect successfully", "timed out", "timeout",
	"no further delivery attempts", "配送期限", "有効期限", "期限切れ", "タイムアウト",
}}

var mailerErrorRule = phraseRule{reason: ReasonMailerError, phrases: []string{
	"pipe to |", "unknown mailer error", "mailer error", "operating system error",
	"command died with status", "command failed", "x-unix;",
	// Postfix's pipe(8) and local(8) quote what a delivery command
	// printed: "temporary failure. Command output: ...".
	"command output:",
}}

var systemErrorRule = phraseRule{reason: ReasonSystemError, phrases: []string{
	"internal system error", "system error", "internal error", "server error",
	"queue file write error", "could not load drd", "local error", "transaction failed",
	"duplicated message-id", "service unavailable", "service currently unavailable",
	"local problem", "configuration problem", "insufficient system resources", "system failure",
	"configuration error",
}}

var securityErrorRule = phraseRule{reason: ReasonSecurityError, phrases: []string{
	"authentication required", "unauthenticated senders", "delivery not authorized",
	"not authorized", "authentication level", "authentication requirements",
	"authrequired", "not authenticated", "must authenticate", "authentication is required",
}}

var syntaxErrorRule = phraseRule{reason: ReasonSyntaxError, phrases: []string{
	"syntax error", "command unrecognized", "command not recognized",
	"unrecognized command", "improper sequence of commands", "bad sequence of commands",
	"command parameter not implemented", "command not implemented", "malformed address",
	"syntactically", "invalid command", "line too long",
}}
