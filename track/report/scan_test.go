package report

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The scanners replace regular expressions. These tests keep the
// expressions as the reference and check that the scanners agree with them
// on every text of the samples and on fuzzed input. The expressions fold
// case by Unicode rules; the scanners fold ASCII only, which differs only
// for the Kelvin sign and the long s, so inputs holding those are skipped.

var (
	refAddressRe   = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_{|}~.\-\p{So}]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+`)
	refProminentRe = regexp.MustCompile(`(?im)(?:^[ \t]*(?:[*\-][ \t]*|[245]\d\d[ \-])?["<(]?|rcpt to:[ \t]*<?)(` + refAddressRe.String() + `)`)
	refEnhancedRe  = regexp.MustCompile(`\b([245])\.([0-7])\.(\d{1,3})\b`)
	refReplyRe     = regexp.MustCompile(`(?:^|[^\d.])([245][0-9][0-9])(?:[ \-]|$)`)
	refStartRe     = regexp.MustCompile(`(?im)^(return-path|received|message-id|from|date|subject|to|mime-version|content-type|x-[a-z0-9-]+|delivered-to|reply-to|sender|cc|dkim-signature|arc-seal|authentication-results):[ \t]`)
	refSeparatorRe = regexp.MustCompile(`(?im)^[ \t>|]*[-=_*]*[ \t]*(below this line is a copy|this is a copy of|original message|copy of (the )?(original )?message|unsent message|returned (mail|message) follows|message header follows|the (original )?header|headers of the original|original message header|original mail as follows|元のメッセージ|原文|以下.*(原文|メッセージ))`)
	refTagRe       = regexp.MustCompile(`(?s)<[^>]*>`)
	refStyleRe     = regexp.MustCompile(`(?is)<(style|script)[^>]*>.*?</(style|script)>`)
	refMessageIDRe = regexp.MustCompile(`(?i)message-id\s*:\s*<?\s*([^\s<>]+@[^\s<>]+?|[^\s<>@]{8,})\s*>`)
	refDSNFieldRe  = regexp.MustCompile(`(?im)^(reporting-mta|final-recipient):[ \t]*\S`)
	refBounceBody  = regexp.MustCompile(`(?i)could not be delivered|couldn't be delivered|wasn't able to deliver|was not delivered|unable to deliver|undeliverable|delivery (to the following|has failed|failed|problem)|permanent (fatal )?error|permanent failure|the following address(es)? (had|failed)|user unknown|no such user|mailbox (is )?(full|unavailable)|could not deliver|message (was|has been) (rejected|returned|blocked|delayed)|delivery (is )?delayed|still (being )?(retried|trying)|failed to deliver|this is the mail system|mail delivery (system|subsystem|failed)|returned to sender|届きませんでした|配信できません|送信できません|宛先不明|あて先|送信に失敗`)
	refDelayRe     = regexp.MustCompile(`(?i)will (continue|keep) (trying|to try|retrying)|still (being )?(trying|retried|attempting)|has not yet been delivered|not been delivered yet|delivery (is )?delayed|delayed mail|will be retried|warning: message .* delayed|temporarily deferred|retry (for|until)|this is a warning|no action is required|attempts will continue to be made|will continue to be attempted`)
	refSubjectRe   = regexp.MustCompile(`(?i)undeliver|returned mail|return(ing)? (mail|message)|delivery (status|fail|problem|notification|report)|mail delivery|failure notice|failed mail|could not (be )?deliver|not (be )?delivered|nondeliver|non-deliver|delivery has failed|mail system error|rejected|bounce|warning: could not|delayed mail|delivery delay|message status|error sending|mail failure|unzustellbar|不達|配信|エラー|未配達|届きません|送信できません`)
	refLikelyRe    = regexp.MustCompile(`(?i)` + refSubjectRe.String() + `|receipt|notification|notice|read:|gelesen|lu :|開封|受領|aws notification`)
	refAutoReplyRe = regexp.MustCompile(`(?i)^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|vacation|away from|abwesenheit|absence|réponse automatique|自動応答|自動返信|不在)`)
	refGiveUpRe    = regexp.MustCompile(`(?i)given up|giving up|permanent|returned to sender|could not be delivered|undeliverable|failed permanently|not be delivered`)
)

func refCleanAddress(a string) string {
	a = strings.ToLower(strings.Trim(a, ".-'`"))
	if rest, ok := strings.CutPrefix(a, "smtp="); ok && strings.IndexByte(rest, '@') > 0 {
		a = rest
	}
	return a
}

func refFindAddresses(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range refAddressRe.FindAllString(s, -1) {
		a = refCleanAddress(a)
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func refProminent(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, sm := range refProminentRe.FindAllStringSubmatch(s, -1) {
		a := refCleanAddress(sm[1])
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func refLastSpecificStatus(s string) string {
	codes := refEnhancedRe.FindAllString(s, 16)
	for i := len(codes) - 1; i >= 0; i-- {
		if !isGenericStatus(codes[i]) {
			return codes[i]
		}
	}
	if len(codes) > 0 {
		return codes[0]
	}
	return ""
}

func refReplyCode(s string) string {
	if m := refReplyRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func refCutReturned(t string) string {
	end := len(t)
	if loc := refSeparatorRe.FindStringIndex(t); loc != nil {
		end = loc[0]
	}
	for _, loc := range refStartRe.FindAllStringIndex(t[:end], 32) {
		if refHeaderRun(t[loc[0]:]) {
			end = loc[0]
			break
		}
	}
	return t[:end]
}

func refHeaderRun(s string) bool {
	n := 0
	for n < 3 {
		line, rest, _ := strings.Cut(s, "\n")
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
			return false
		case line[0] == ' ' || line[0] == '\t':
		case refStartRe.MatchString(line) || isFieldName([]byte(strings.SplitN(line, ":", 2)[0])) && strings.Contains(line, ": "):
			n++
		default:
			return false
		}
		if rest == "" {
			return n >= 3
		}
		s = rest
	}
	return true
}

func refStripTags(s string) string {
	s = refStyleRe.ReplaceAllString(s, "")
	s = refTagRe.ReplaceAllString(s, "\n")
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&nbsp;", " ", "&quot;", `"`)
	return r.Replace(s)
}

func refQuotedMessageID(s string) string {
	if sm := refMessageIDRe.FindStringSubmatch(s); sm != nil {
		return sm[1]
	}
	return ""
}

func refDSNFieldStart(s string) int {
	if loc := refDSNFieldRe.FindStringIndex(s); loc != nil {
		return loc[0]
	}
	return -1
}

func refCommand(text string) string {
	best, at := "", -1
	for _, m := range commandMarkers {
		if i := lastRefused(text, m.marker); i > at {
			best, at = m.command, i
		}
	}
	return best
}

// refFold is foldReasonText as it was, rune by rune.
func refFold(s string) string {
	if len(s) > reasonMaxText {
		s = s[:reasonMaxText]
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// refClassify is classify as it was before it folded the diagnostic and
// its context together.
func refClassify(r Report, context string) Reason {
	text := r.Diagnostic
	if context != "" && !strings.Contains(text, context) {
		text = strings.TrimSpace(text + " " + context)
	}
	cmd := SMTPCommandFromText(r.Diagnostic)
	if cmd == "" {
		cmd = SMTPCommandFromText(context)
	}
	return ClassifyReason(ReasonInput{Action: r.Action, Status: r.Status, ReplyCode: r.ReplyCode, Diagnostic: text, Command: cmd})
}

// checkScanners compares every scanner with its reference on s.
func checkScanners(t *testing.T, name, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\u212a\u017f") {
		return
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s(%s %.200q) = %q, want %q", what, name, s, got, want)
		}
	}
	check("findAddresses", findAddresses(s), refFindAddresses(s))
	check("prominentAddresses", prominentAddresses(s), refProminent(s))
	check("findStatus", findStatus(s), refEnhancedRe.FindString(s))
	check("lastSpecificStatus", lastSpecificStatus(s), refLastSpecificStatus(s))
	check("findReplyCode", findReplyCode(s), refReplyCode(s))
	check("cutReturned", cutReturned(s), refCutReturned(s))
	check("stripTags", stripTags(s), refStripTags(s))
	check("quotedMessageIDIn", quotedMessageIDIn(s), refQuotedMessageID(s))
	check("dsnFieldStart", dsnFieldStart(s), refDSNFieldStart(s))
	check("bounceBodyPhrases", bounceBodyPhrases().any(s), refBounceBody.MatchString(s))
	check("saysDelayed", saysDelayed(s), refDelayRe.MatchString(s))
	check("giveUpPhrases", giveUpPhrases().any(s), refGiveUpRe.MatchString(s))
	check("bounceSubjects", bounceSubjects().any(s), refSubjectRe.MatchString(s))
	check("likelySubjects", likelySubjects().any(s), refLikelyRe.MatchString(s))
	check("isAutoReplySubject", isAutoReplySubject(s), refAutoReplyRe.MatchString(s))
	h1, _ := parseHeader([]byte(s))
	h2, _ := parseHeader([]byte(s[:headerBlockLen(s)]))
	check("parseHeader of headerBlockLen", renderHeader(h2), renderHeader(h1))
	folded := foldReasonText(s)
	check("foldReasonText", folded, refFold(s))
	found := reasonIdx().scan(folded, len(folded))
	check("command", found.command, refCommand(folded))
	check("deliveryFailed", found.deliveryFailed, strings.Index(folded, deliveryFailedPrefix))
	check("doesNotExist", found.doesNotExist, strings.Index(folded, doesNotExistPhrase))
	for _, cut := range []int{0, len(s) / 3, len(s) / 2, len(s)} {
		r := Report{Action: ActionFailed, Diagnostic: s[:cut]}
		if got, want := classify(r, s[cut:]), refClassify(r, s[cut:]); got != want {
			t.Errorf("classify(%s %.200q | %.200q) = %q, want %q", name, s[:cut], s[cut:], got, want)
		}
	}
	c := reasonCase{text: folded, found: found}
	for i, r := range phraseRules {
		if got, want := c.matches(r), r.match(folded); got != want {
			t.Errorf("rule %d (%s) matches(%s %.200q) = %v, want %v", i, r.reason, name, s, got, want)
		}
	}
}

func renderHeader(h header) []string {
	var out []string
	for i := range h {
		out = append(out, string(h[i].name)+": "+h[i].value())
	}
	return out
}

// scannerSamples returns the decoded texts of the sample messages.
func scannerSamples(tb testing.TB) map[string]string {
	out := map[string]string{}
	for name, raw := range sampleMessages(tb) {
		w := &walker{}
		m := &message{root: w.parseEntity(normalizeNewlines(raw), 0, "text/plain")}
		for i, t := range m.bodyTexts() {
			out[name+"/"+string(rune('0'+i%10))] = t
		}
		out[name+"/human"] = m.humanText()
		out[name+"/raw"] = string(raw)
	}
	return out
}

var scannerEdgeCases = []string{
	"", "@", "a@b", "a@b.c", "a@b.c-", "a@-b.c", "-a@b.co.", "x@abc-.com", "\xff@b.cd", "☃@b.cd",
	"a\xe2\x82@b.cd", "a@b.c@d.e", "rcpt to:<A@B.CD>", "RCPT TO: x@y.z", "- a@b.cd", "550-a@b.cd",
	"550 <a@b.cd>", "250abc@x.com", "-@x.com", "*@x.com", "\n  * \"a@b.cd\"\n", "5.1.1", "x5.1.1",
	".5.1.1", "5.1.1234", "5.1.15.1.2", "5.8.1", "4.4.7 and 5.1.1", "5.0.0 5.0.0 5.1.0",
	"550", "x550 ", "1550 ", ".550-", "550x", "--- Original message ---", "> | -- The header",
	"以下は原文です", "以下\n原文", "From: a\nTo: b\nSubject: c\n", "x-foo: a\nDate: b\nTo: c",
	"X-: a\nb: c\nd: e", "<style>a</style>b<p>c&amp;lt;", "<STYLE x>a</SCRIPT>b<style>", "<a<b>c",
	"<<<<", "&nbsp;&quot;&gt;", "Message-ID: <abc@def>", "message-id:\n <abcdefgh >",
	"Message-Id: <@abc>", "message-id: <a@b@>", "Message-ID: 1234567>", "x-message-id : < a@b >",
	"reporting-mta: dns; x", "final-recipient:   \n", "Final-Recipient: \tx", "warning: message x delayed",
	"warning: message delayed", "warning: message \n delayed", "Undeliverable: x", " \tOut of the Office", "RÉPONSE AUTOMATIQUE",
	"Read: x", "lu : y", "auto-Reply", "automatic reply", "autoreply",
	"message-id:message-id:message-id:x@>", "message-id:message-id:@abcdefghij >", "Message-ID:<message-id:<a@b>",
	"message-id: @x@message-id:abcdefgh>", "rcpt to:rcpt to:<a@b.cd>", "RCPT TO: RCPT to:x@y.zz", "in reply to rcpt to command after data",
	">>> rcpt to <<< 550 x >>> data <<< 503 need rcpt", "delivery failed 20 attempts", "x does not exist",
}

func TestScannersMatchRegexps(t *testing.T) {
	for i, s := range scannerEdgeCases {
		checkScanners(t, "edge case "+string(rune('a'+i%26)), s)
	}
	for name, s := range scannerSamples(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkScanners(t, name, s)
		})
	}
}

func FuzzScanners(f *testing.F) {
	for _, s := range scannerEdgeCases {
		f.Add(s)
	}
	if os.Getenv("REPORT_FUZZ_SAMPLES") != "" {
		for _, s := range scannerSamples(f) {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkScanners(t, "fuzz input", s)
	})
}

// refDecodeQP is decodeQP as it was, one byte at a time.
func refDecodeQP(b []byte, limit int) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b) && len(out) < limit; i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			i++
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			i += 2
		case i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func FuzzDecodeQP(f *testing.F) {
	for _, s := range []string{"", "=", "a=3D", "a=\r\nb", "a=\nb=", "=4", "=zz=41=", "abc=20def=\r"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1<<20 {
			return
		}
		if got, want := decodeQP([]byte(s), limit), refDecodeQP([]byte(s), limit); string(got) != string(want) {
			t.Errorf("decodeQP(%q, %d) = %q, want %q", s, limit, got, want)
		}
	})
}
