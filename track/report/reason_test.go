package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// reasonCorpusReport is the part of an expected report the reason
// classifier is judged on.
type reasonCorpusReport struct {
	Action     string  `json:"action"`
	Status     *string `json:"status"`
	ReplyCode  *string `json:"replycode"`
	Diagnostic *string `json:"diagnostic"`
	Reason     *string `json:"reason"`
}

type reasonCorpusFile struct {
	Kind    string               `json:"kind"`
	Reports []reasonCorpusReport `json:"reports"`
}

func strOrEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestClassifyReason(t *testing.T) {
	failed := func(status, diag string) ReasonInput {
		return ReasonInput{Action: ActionFailed, Status: status, Diagnostic: diag}
	}
	tests := []struct {
		name string
		in   ReasonInput
		want Reason
	}{
		// Delivered.
		{"delivered action", ReasonInput{Action: ActionDelivered, Status: "2.0.0", Diagnostic: "250 2.0.0 Ok: queued as 4B1F2"}, ReasonDelivered},
		{"2.x status without action", ReasonInput{Status: "2.1.5", Diagnostic: "250 2.1.5 Ok"}, ReasonDelivered},

		// The mailbox does not exist, refused at RCPT TO.
		{"postfix user unknown", failed("5.1.1", "host mx.example.org[192.0.2.1] said: 550 5.1.1 <neko@example.org>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)"), ReasonUserUnknown},
		{"exim no such user after RCPT", failed("", "SMTP error from remote mail server after RCPT TO:<neko@example.org>: host mx.example.org [192.0.2.1]: 550 No such user here"), ReasonUserUnknown},
		{"gmail account does not exist", failed("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking the recipient's email address for typos."), ReasonUserUnknown},
		{"exchange recipient not found", failed("5.1.10", "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'"), ReasonUserUnknown},
		{"qmail no mailbox", failed("", "Sorry, no mailbox here by that name. (#5.1.1)"), ReasonUserUnknown},
		{"status 5.1.1 alone", failed("5.1.1", ""), ReasonUserUnknown},
		{"domino directory", failed("5.1.1", "User neko (neko@example.jp) not listed in Domino Directory"), ReasonUserUnknown},
		{"japanese address not found", failed("", "宛先のメールアドレスが見つかりませんでした。"), ReasonUserUnknown},

		{"qmail badrcptto", failed("", "553 sorry, badrcptto(user mail-box not found) (#5.7.1)"), ReasonUserUnknown},
		{"gmx template after RCPT command", failed("", "SMTP error from remote server after RCPT command: host mx.example.de[192.0.2.9]: 550 user unknown"), ReasonUserUnknown},

		// The word spam, whatever the product, after the other wordings.
		{"spam email", failed("", "554 Spam email. Email Session ID: {0000}"), ReasonSpamDetected},
		{"spam-like header", failed("5.7.1", "550 5.7.1 Your email had spam-like header contents."), ReasonSpamDetected},
		{"appears to be unsolicited", failed("", "500 Mail appears to be unsolicited -- report errors by telephone"), ReasonSpamDetected},
		{"spamhaus stays blocked", failed("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"), ReasonBlocked},

		// Size, quota and mailer wordings.
		{"max message size", failed("", "552 max message size exceeded"), ReasonMesgTooBig},
		{"incoming message size", failed("5.0.0", "This mail message has exceeded the maximum incoming message size."), ReasonMesgTooBig},
		{"reached disk quota", failed("5.0.0", "Reason: recipient reached disk quota"), ReasonMailboxFull},
		{"postfix pipe command output", ReasonInput{Action: ActionFailed, Status: "4.3.0", Diagnostic: "X-Postfix; temporary failure. Command output: filter: unable to connect"}, ReasonMailerError},
		{"message looping", failed("", "554 Message looping (received 6 times)"), ReasonNetworkError},

		// The same words after DATA mean a filter refused the message.
		{"unknown user at end of DATA", failed("5.0.0", "host mx.example.jp[192.0.2.1] said: 550 Unknown user neko@example.jp (in reply to end of DATA command)"), ReasonFiltered},
		{"unknown user at RCPT TO", failed("5.0.0", "host mx.example.jp[192.0.2.1] said: 550 Unknown user neko@example.jp (in reply to RCPT TO command)"), ReasonUserUnknown},
		{"command given by caller", ReasonInput{Action: ActionFailed, Status: "5.0.0", Diagnostic: "550 Unknown user neko@example.jp", Command: "DATA"}, ReasonFiltered},
		{"caller's RCPT beats a vague status", ReasonInput{Action: ActionFailed, Status: "5.2.1", Diagnostic: "550 5.2.1 <neko@example.jp>... User Unknown", Command: "RCPT"}, ReasonUserUnknown},
		{"user unknown with 5.2.1 and no command", failed("5.2.1", "550 5.2.1 <neko@example.jp>... User Unknown"), ReasonFiltered},
		{"au domain filter", failed("", "Each of the following recipients was rejected by a remote mail server."), ReasonFiltered},
		{"japanese refusal setting", failed("", "受信拒否設定により、メールをお届けできませんでした。"), ReasonFiltered},

		{"mailbox quota exceeded", failed("5.2.2", "552 5.2.2 <neko@example.jp>: Recipient address rejected: Mailbox quota exceeded (in reply to RCPT TO command)"), ReasonMailboxFull},
		{"over quota without status", failed("", "host mx02.mail.icloud.com[17.56.9.31] said: 552 user is over quota (in reply to RCPT TO command)"), ReasonMailboxFull},
		{"4.2.2 wins over wording", failed("4.2.2", "Google tried to deliver your message, but it was rejected by the recipient domain."), ReasonMailboxFull},
		{"japanese mailbox full", failed("", "送信先のメールボックスが一杯でお届けできませんでした。"), ReasonMailboxFull},
		{"sender's quota is not the mailbox", failed("4.7.0", "454 Throttling failure: Daily message quota exceeded."), ReasonTooManyConn},

		{"postfix host not found", failed("5.4.4", "Host or domain name not found. Name service error for name=example.invalid type=AAAA: Host not found"), ReasonHostUnknown},
		{"qmail no host", failed("", "Sorry, I couldn't find any host named example.invalid. (#5.1.2)"), ReasonHostUnknown},
		{"domain does not exist after DATA", failed("", "SMTP error from remote mail server after end of data: 553 neko.example.com does not exist"), ReasonHostUnknown},
		{"japanese domain not found", failed("", "ドメインが見つかりません: example.invalid"), ReasonHostUnknown},
		{"dns failure is temporary", failed("", "Name service error for domain example.com: Host not found, try again"), ReasonNetworkError},
		{"too many hops", failed("5.4.6", "554 5.4.6 Too many hops"), ReasonNetworkError},

		{"exim retry timeout", failed("", "retry timeout exceeded"), ReasonExpired},
		{"opensmtpd envelope expired", failed("", "Envelope expired"), ReasonExpired},
		{"connection timed out", failed("4.4.1", "connect to mx.example.jp[192.0.2.1]:25: Connection timed out"), ReasonExpired},
		{"imail attempts", failed("", "Delivery failed 20 attempts: neko@example.com"), ReasonExpired},
		{"delayed with 4.4.7", ReasonInput{Action: ActionDelayed, Status: "4.4.7"}, ReasonExpired},
		{"given up on a temporary error", failed("4.0.0", "451 Please try again later"), ReasonExpired},

		{"scored as spam", failed("5.6.0", "host mta.example.com[192.0.2.2] said: 554 5.6.0 This message has been scored as spam with a probability of more than 90% (in reply to end of DATA command)"), ReasonSpamDetected},
		{"content rejected UBE", failed("5.7.1", "550 5.7.1 Message content rejected, UBE, id=00000-00-000"), ReasonSpamDetected},
		{"dnsbl listing", failed("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"), ReasonBlocked},
		{"refused at greeting", failed("4.0.0", "host mx.example.com[192.0.2.2] refused to talk to me: 554 Access denied"), ReasonBlocked},
		{"banned sending IP", failed("5.7.606", "550 5.7.606 Access denied, banned sending IP [192.0.2.1]."), ReasonBlocked},
		{"HELO name refused", failed("5.0.0", "Connected to 192.0.2.112 but my name was rejected. Remote host said: 501 5.0.0 Invalid domain name"), ReasonBlocked},

		{"yahoo policy reasons", failed("5.7.9", "554 5.7.9 Message not accepted for policy reasons.  See https://senders.yahooinc.com/error-codes"), ReasonPolicyViolation},
		{"relay access denied", failed("5.7.1", "554 5.7.1 <neko@example.org>: Relay access denied"), ReasonNoRelaying},
		{"message too large", failed("5.3.4", "552 5.3.4 Message size exceeds fixed limit"), ReasonMesgTooBig},
		{"1and1 size limit", failed("", "Mail size limit exceeded. For explanation visit http://postmaster.1and1.com/en/error-messages"), ReasonMesgTooBig},
		{"administrative size limit", failed("5.2.3", "552 5.2.3 Message size exceeds fixed maximum message size (10485760)"), ReasonExceedLimit},

		{"gmail disabled account", failed("5.2.1", "550 5.2.1 The email account that you tried to reach is disabled."), ReasonSuspend},
		{"yahoo discontinued", failed("", "554 delivery error: dd Sorry your message to neko@example.com cannot be delivered. This account has been disabled or discontinued [#102]."), ReasonSuspend},
		{"japanese suspended", failed("", "このアカウントは現在利用停止中です。"), ReasonSuspend},

		{"connection rate limit", failed("4.3.2", "452 4.3.2 Connection rate limit exceeded. (in reply to MAIL FROM command)"), ReasonTooManyConn},
		{"qq frequency limited", failed("", "550 Ip frequency limited (in reply to end of DATA command)"), ReasonTooManyConn},
		{"gmail missing PTR", failed("5.7.25", "550-5.7.25 [192.0.2.1] The IP address sending this message does not have a PTR record setup."), ReasonRequirePTR},
		{"postfix unknown client hostname", failed("4.7.1", "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]"), ReasonRequirePTR},
		{"gmail unauthenticated", failed("5.7.26", "550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM."), ReasonAuthFailure},
		{"dmarc policy", failed("5.7.1", "550 5.7.1 This message was not accepted due to domain (example.org) owner DMARC policy (in reply to end of DATA command)"), ReasonAuthFailure},
		{"smtp auth required", failed("5.7.1", "#550 5.7.1 RESOLVER.RST.AuthRequired; authentication required"), ReasonSecurityError},
		{"delivery not authorized", failed("5.7.1", "550 5.7.1 Delivery not authorized, message refused"), ReasonSecurityError},
		{"virus", failed("5.0.0", "host 127.0.0.1[127.0.0.1] said: 550 Virus Detected; Content Rejected (in reply to end of DATA command)"), ReasonVirusDetected},
		{"8-bit header", failed("5.6.9", "550 5.6.9 improper use of 8-bit data in message header"), ReasonContentError},
		{"null MX", failed("5.1.10", "556 5.1.10 Recipient address has null MX"), ReasonNotAccept},
		{"no SMTP service", failed("", "an MX or SRV record indicated no SMTP service"), ReasonNotAccept},
		{"syntax error", failed("5.5.4", "501 5.5.4 Syntax error in parameters"), ReasonSyntaxError},
		{"queue file write error", failed("4.3.0", "451 4.3.0 Error: queue file write error"), ReasonSystemError},
		{"insufficient storage", failed("4.3.1", "452 4.3.1 Insufficient system storage"), ReasonSystemFull},
		{"pipe failed", failed("5.0.0", "X-Unix; Command died with status 75: \"/usr/bin/procmail\""), ReasonMailerError},
		{"sender domain does not exist", failed("5.1.8", "553 5.1.8 <root@example.invalid>... Domain of sender address root@example.invalid does not exist (in reply to MAIL FROM command)"), ReasonRejected},
		{"access denied at MAIL FROM", failed("5.7.1", "host mail.example.ne.jp[192.0.2.2] said: 550 5.7.1 Access denied (in reply to MAIL FROM command)"), ReasonRejected},
		{"recipient moved", failed("5.1.6", "550 5.1.6 recipient no longer on server: neko@example.go.jp (in reply to RCPT TO command)"), ReasonHasMoved},
		{"yahoo user complaints", failed("4.7.0", "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints"), ReasonBadReputation},
		{"receiving rate", failed("5.2.1", "The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered."), ReasonSpeeding},
		{"not RFC 5322 compliant", failed("5.7.1", "This message is not RFC 5322 compliant. There are multiple Subject headers."), ReasonNotCompliantRFC},
		{"no TLS", failed("", "500 Remote server does not support TLS (state 6)."), ReasonFailedSTARTTLS},

		{"nothing to go on", failed("5.0.0", ""), ReasonUndefined},
		{"empty input", ReasonInput{}, ReasonUndefined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyReason(tt.in); got != tt.want {
				t.Errorf("ClassifyReason(%+v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSMTPCommandFromText(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"postfix end of data", "550 Unknown user (in reply to end of DATA command)", "DATA"},
		{"postfix rcpt", "550 5.1.1 User unknown (in reply to RCPT TO command)", "RCPT"},
		{"postfix mail from", "553 5.1.8 Domain of sender address does not exist (in reply to MAIL FROM command)", "MAIL"},
		{"postfix folded", "said: 550 Unknown user (in reply to end of\n    DATA command)", "DATA"},
		{"postfix greeting", "host mx.example.com[192.0.2.2] refused to talk to me: 554 Blocked", "CONN"},
		{"postfix helo", "lost connection with mx.example.com[192.0.2.2] while performing the HELO handshake", "HELO"},
		{"exim rcpt", "SMTP error from remote mail server after RCPT TO:<neko@example.jp>: 550 5.1.1 User unknown", "RCPT"},
		{"exim connect", "SMTP error from remote mail server after initial connection: 554 Access denied", "CONN"},
		{"exim ehlo", "SMTP error from remote mail server after EHLO mail.example.org: 550 Rejected", "EHLO"},
		{"exim end of data", "SMTP error from remote mail server after end of data: 550 Rejected", "DATA"},
		{"qmail sender", "Connected to 192.0.2.1 but sender was rejected.\nRemote host said: 550 Access denied", "MAIL"},
		{"qmail recipient", "192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 User unknown", "RCPT"},
		{"qmail data", "192.0.2.1 failed after I sent the message.\nRemote host said: 554 Rejected", "DATA"},
		{"sendmail transcript, last command wins", ">>> MAIL From:<a@example.org>\n<<< 250 OK\n>>> RCPT To:<b@example.jp>\n<<< 550 5.1.1 User unknown", "RCPT"},
		{"sendmail transcript, DATA refused for want of recipients", ">>> RCPT To:<b@example.jp>\n<<< 550 5.1.1 <b@example.jp>... User unknown\n>>> DATA\n<<< 503 5.0.0 Need RCPT (recipient)", "RCPT"},
		{"dragonfly final data", "mx.example.net [192.0.2.25] did not like our final DATA: 554 5.7.9 Message not accepted", "DATA"},
		{"no command", "550 5.1.1 User unknown", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SMTPCommandFromText(tt.text); got != tt.want {
				t.Errorf("SMTPCommandFromText(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestClassifyReasonLargeInput checks that an oversized diagnostic is
// classified from its beginning without trouble.
func TestClassifyReasonLargeInput(t *testing.T) {
	diag := "550 5.2.2 Mailbox full " + strings.Repeat("x ", 1<<20)
	in := ReasonInput{Action: ActionFailed, Diagnostic: diag}
	if got := ClassifyReason(in); got != ReasonMailboxFull {
		t.Errorf("ClassifyReason(%d-byte diagnostic) = %q, want %q", len(diag), got, ReasonMailboxFull)
	}
}

func BenchmarkClassifyReason(b *testing.B) {
	in := ReasonInput{
		Action:     ActionFailed,
		Status:     "5.0.0",
		Diagnostic: "host mx.example.jp[192.0.2.1] said: 550 Unknown user neko@example.jp (in reply to end of DATA command)",
	}
	for b.Loop() {
		ClassifyReason(in)
	}
}

// TestClassifyReasonCorpus runs the classifier over the expected DSN
// reports of the shared corpus, fed with the fields a parser would find,
// and compares with the labelled reason.
func TestClassifyReasonCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		abs, _ := filepath.Abs(dir)
		t.Skipf("report corpus not found at %s", abs)
	}
	type tally struct{ agree, total int }
	perReason := map[string]*tally{}
	misses := map[string]map[string]int{} // want -> got -> count
	var all tally
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s reasonCorpusFile
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if s.Kind != "dsn" {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		for _, r := range s.Reports {
			if r.Reason == nil {
				continue
			}
			diag := strOrEmpty(r.Diagnostic)
			in := ReasonInput{
				Action:     Action(r.Action),
				Status:     strOrEmpty(r.Status),
				ReplyCode:  strOrEmpty(r.ReplyCode),
				Diagnostic: diag,
				Command:    SMTPCommandFromText(diag),
			}
			got, want := ClassifyReason(in), *r.Reason
			pr := perReason[want]
			if pr == nil {
				pr = &tally{}
				perReason[want] = pr
			}
			pr.total++
			all.total++
			if string(got) == want {
				pr.agree++
				all.agree++
				continue
			}
			if misses[want] == nil {
				misses[want] = map[string]int{}
			}
			misses[want][string(got)]++
			t.Logf("miss %s: ClassifyReason(status %q, reply %q, cmd %q, diag %.160q) = %q, want %q",
				name, in.Status, in.ReplyCode, in.Command, diag, got, want)
		}
	}
	if all.total == 0 {
		t.Fatalf("no labelled DSN reports found in %s", dir)
	}
	reasons := make([]string, 0, len(perReason))
	for k := range perReason {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	var sum strings.Builder
	pct := func(a, n int) float64 { return 100 * float64(a) / float64(n) }
	fmt.Fprintf(&sum, "reason agreement %d/%d = %.1f%%\n", all.agree, all.total, pct(all.agree, all.total))
	for _, k := range reasons {
		pr := perReason[k]
		fmt.Fprintf(&sum, "  %-16s %3d/%3d %5.1f%%", k, pr.agree, pr.total, pct(pr.agree, pr.total))
		if m := misses[k]; len(m) > 0 {
			got := make([]string, 0, len(m))
			for g, n := range m {
				if g == "" {
					g = "(undefined)"
				}
				got = append(got, fmt.Sprintf("%s×%d", g, n))
			}
			sort.Strings(got)
			fmt.Fprintf(&sum, "  missed as %s", strings.Join(got, ", "))
		}
		sum.WriteByte('\n')
	}
	t.Log(sum.String())
	if p := pct(all.agree, all.total); p < 85 {
		t.Errorf("reason agreement %.1f%% (%d/%d), want at least 85%%", p, all.agree, all.total)
	}
}
