package pixel

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const (
	chromeUA   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	outlookUA  = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
	googleUA   = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
	samplingUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0"
)

var (
	appleV4   = netip.MustParseAddr("17.58.100.1")
	appleV6   = netip.MustParseAddr("2620:149:a:b::1")
	appleV4in = netip.MustParseAddr("::ffff:17.58.100.1") // IPv4 client on a dual-stack listener
	homeV4    = netip.MustParseAddr("203.0.113.9")
)

// hit builds a GET an hour after sending, the kind of fetch a person makes.
func hit(mod func(*Hit)) Hit {
	h := Hit{UserAgent: chromeUA, Method: "GET", Addr: homeV4, Sent: sent, At: sent.Add(time.Hour)}
	if mod != nil {
		mod(&h)
	}
	return h
}

// TestDefaultRules covers each default rule with fetches it must and must
// not claim; want is the rule that decides, "" for none.
func TestDefaultRules(t *testing.T) {
	tests := []struct {
		name    string
		hit     Hit
		rule    string
		verdict Verdict
	}{
		{"person in a browser", hit(nil), "", VerdictHuman},
		{"person in Outlook", hit(func(h *Hit) { h.UserAgent = outlookUA }), "", VerdictHuman},
		{"no user agent, no address", hit(func(h *Hit) { h.UserAgent, h.Addr = "", netip.Addr{} }), "", VerdictHuman},

		{"sender's own copy", hit(func(h *Hit) { h.Sender = true }), "sender-own-open", VerdictSender},
		{"sender's own copy wins over HEAD", hit(func(h *Hit) { h.Sender, h.Method = true, "HEAD" }), "sender-own-open", VerdictSender},

		{"HEAD", hit(func(h *Hit) { h.Method = "HEAD" }), "head-request", VerdictMachine},
		{"head in lower case", hit(func(h *Hit) { h.Method = "head" }), "head-request", VerdictMachine},
		{"GET is not HEAD", hit(func(h *Hit) { h.Method = "GET" }), "", VerdictHuman},

		{"gmail content sampling", hit(func(h *Hit) { h.UserAgent = samplingUA }), "gmail-content-sampling", VerdictMachine},
		{"real Edge is not the sampling bot", hit(func(h *Hit) {
			h.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
		}), "", VerdictHuman},

		{"apple mpp v4", hit(func(h *Hit) { h.UserAgent, h.Addr = "Mozilla/5.0", appleV4 }), "apple-mpp", VerdictMachine},
		{"apple mpp v6", hit(func(h *Hit) { h.UserAgent, h.Addr = "Mozilla/5.0", appleV6 }), "apple-mpp", VerdictMachine},
		{"apple mpp v4-mapped", hit(func(h *Hit) { h.UserAgent, h.Addr = "Mozilla/5.0", appleV4in }), "apple-mpp", VerdictMachine},
		{"bare UA outside Apple", hit(func(h *Hit) { h.UserAgent, h.Addr = "Mozilla/5.0", homeV4 }), "", VerdictHuman},
		{"bare UA without address", hit(func(h *Hit) { h.UserAgent, h.Addr = "Mozilla/5.0", netip.Addr{} }), "", VerdictHuman},
		{"Safari from Apple's network", hit(func(h *Hit) {
			h.UserAgent, h.Addr = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko)", appleV4
		}), "", VerdictHuman},
		{"bare UA in other case", hit(func(h *Hit) { h.UserAgent, h.Addr = "mozilla/5.0", appleV4 }), "", VerdictHuman},

		{"safelinks", hit(func(h *Hit) { h.UserAgent = "Mozilla/5.0 SafeLinks/1.0" }), "safelinks", VerdictMachine},
		{"proofpoint", hit(func(h *Hit) { h.UserAgent = "Proofpoint URL Defense" }), "proofpoint", VerdictMachine},
		{"mimecast", hit(func(h *Hit) { h.UserAgent = "MIMECAST-Scanner" }), "mimecast", VerdictMachine},
		{"barracuda", hit(func(h *Hit) { h.UserAgent = "Barracuda Sentinel (EE)" }), "barracuda", VerdictMachine},
		{"scanner name as a word elsewhere", hit(func(h *Hit) { h.UserAgent = chromeUA + " links" }), "", VerdictHuman},

		{"within seconds of sending", hit(func(h *Hit) { h.At = sent.Add(2 * time.Second) }), "early-fetch", VerdictMachine},
		{"just before the threshold", hit(func(h *Hit) { h.At = sent.Add(DefaultEarlyFetch - time.Millisecond) }), "early-fetch", VerdictMachine},
		{"at the threshold", hit(func(h *Hit) { h.At = sent.Add(DefaultEarlyFetch) }), "", VerdictHuman},
		{"send time unknown", hit(func(h *Hit) { h.Sent, h.At = time.Time{}, sent }), "", VerdictHuman},
		{"clock skew: before sending", hit(func(h *Hit) { h.At = sent.Add(-time.Minute) }), "", VerdictHuman},

		{"google image proxy", hit(func(h *Hit) { h.UserAgent = googleUA }), "google-image-proxy", VerdictProxy},
		{"google image proxy right after delivery", hit(func(h *Hit) { h.UserAgent, h.At = googleUA, sent.Add(time.Second) }), "early-fetch", VerdictMachine},
		{"google image proxy with HEAD", hit(func(h *Hit) { h.UserAgent, h.Method = googleUA, "HEAD" }), "head-request", VerdictMachine},
	}
	rules := DefaultRules()
	if err := Validate(rules); err != nil {
		t.Fatalf("Validate(DefaultRules()) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := FirstMatch(tt.hit, rules)
			if r.Name != tt.rule || ok != (tt.rule != "") {
				t.Errorf("FirstMatch(%+v) = %q, %v; want %q", tt.hit, r.Name, ok, tt.rule)
			}
			if got := Classify(tt.hit, rules); got != tt.verdict {
				t.Errorf("Classify(%+v) = %v, want %v", tt.hit, got, tt.verdict)
			}
		})
	}
}

// TestDefaultRulesCovered keeps TestDefaultRules complete: every default
// rule must decide at least one of its cases.
func TestDefaultRulesCovered(t *testing.T) {
	src := map[string]bool{}
	for _, r := range DefaultRules() {
		src[r.Name] = true
	}
	for name := range src {
		found := false
		for _, h := range []Hit{
			hit(func(h *Hit) { h.Sender = true }), hit(func(h *Hit) { h.Method = "HEAD" }),
			hit(func(h *Hit) { h.UserAgent = samplingUA }), hit(func(h *Hit) { h.UserAgent, h.Addr = "Mozilla/5.0", appleV4 }),
			hit(func(h *Hit) { h.UserAgent = "safelinks" }), hit(func(h *Hit) { h.UserAgent = "proofpoint" }),
			hit(func(h *Hit) { h.UserAgent = "mimecast" }), hit(func(h *Hit) { h.UserAgent = "barracuda" }),
			hit(func(h *Hit) { h.At = sent }), hit(func(h *Hit) { h.UserAgent = googleUA }),
		} {
			if r, _ := FirstMatch(h, DefaultRules()); r.Name == name {
				found = true
			}
		}
		if !found {
			t.Errorf("default rule %q decides none of the test fetches", name)
		}
	}
}

func TestRuleConditions(t *testing.T) {
	office := netip.MustParsePrefix("192.0.2.0/24")
	tests := []struct {
		name string
		rule Rule
		hit  Hit
		want bool
	}{
		{"exact matches", Rule{UserAgent: chromeUA, Match: MatchExact}, hit(nil), true},
		{"exact is case sensitive", Rule{UserAgent: strings.ToUpper(chromeUA), Match: MatchExact}, hit(nil), false},
		{"prefix matches", Rule{UserAgent: "mozilla/5.0 (x11", Match: MatchPrefix}, hit(nil), true},
		{"prefix anchored", Rule{UserAgent: "X11", Match: MatchPrefix}, hit(nil), false},
		{"contains ignores case", Rule{UserAgent: "CHROME/131", Match: MatchContains}, hit(nil), true},
		{"contains misses", Rule{UserAgent: "Firefox", Match: MatchContains}, hit(nil), false},
		{"range matches", Rule{Ranges: []netip.Prefix{office}}, hit(func(h *Hit) { h.Addr = netip.MustParseAddr("192.0.2.7") }), true},
		{"range misses", Rule{Ranges: []netip.Prefix{office}}, hit(nil), false},
		{"all conditions must hold", Rule{Method: "HEAD", Ranges: []netip.Prefix{office}}, hit(func(h *Hit) { h.Method = "HEAD" }), false},
		{"within matches", Rule{Within: time.Minute}, hit(func(h *Hit) { h.At = sent.Add(59 * time.Second) }), true},
		{"within misses", Rule{Within: time.Minute}, hit(nil), false},
		{"sender misses others", Rule{Sender: true}, hit(nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Matches(tt.hit); got != tt.want {
				t.Errorf("%+v.Matches(%+v) = %v, want %v", tt.rule, tt.hit, got, tt.want)
			}
		})
	}
}

func TestClassifyOrder(t *testing.T) {
	rules := []Rule{
		{Name: "office", Ranges: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, Verdict: VerdictSender},
		{Name: "head", Method: "HEAD", Verdict: VerdictMachine},
	}
	h := hit(func(h *Hit) { h.Method = "HEAD" })
	if got := Classify(h, rules); got != VerdictSender {
		t.Errorf("Classify(%+v) = %v, want the first rule's %v", h, got, VerdictSender)
	}
	if got := Classify(h, nil); got != VerdictHuman {
		t.Errorf("Classify(%+v, no rules) = %v, want %v", h, got, VerdictHuman)
	}
}

func TestVerdictFlags(t *testing.T) {
	for v, want := range map[Verdict][2]bool{
		VerdictHuman: {false, true}, VerdictProxy: {false, true}, VerdictMachine: {true, false}, VerdictSender: {false, false},
	} {
		if v.Machine() != want[0] || v.Human() != want[1] {
			t.Errorf("%v: Machine, Human = %v, %v; want %v, %v", v, v.Machine(), v.Human(), want[0], want[1])
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		want  []string
	}{
		{"valid", []Rule{{Name: "a", Method: "HEAD", Verdict: VerdictMachine}}, nil},
		{"no name", []Rule{{Method: "HEAD", Verdict: VerdictMachine}}, []string{"no name"}},
		{"duplicate", []Rule{{Name: "a", Method: "HEAD", Verdict: VerdictMachine}, {Name: "a", Sender: true, Verdict: VerdictSender}}, []string{"duplicate name"}},
		{"verdict", []Rule{{Name: "a", Method: "HEAD", Verdict: "bot"}}, []string{`unknown verdict "bot"`}},
		{"match kind", []Rule{{Name: "a", UserAgent: "x", Match: "regexp", Verdict: VerdictMachine}}, []string{`unknown match kind "regexp"`}},
		{"ua without kind", []Rule{{Name: "a", UserAgent: "x", Verdict: VerdictMachine}}, []string{"without a match kind"}},
		{"bad range", []Rule{{Name: "a", Ranges: []netip.Prefix{{}}, Verdict: VerdictMachine}}, []string{"invalid range"}},
		{"negative within", []Rule{{Name: "a", Within: -time.Second, Verdict: VerdictMachine}}, []string{"negative within"}},
		{"matches everything", []Rule{{Name: "a", Verdict: VerdictMachine}}, []string{"no condition"}},
		{"all problems at once", []Rule{{Verdict: "x"}, {Name: "b", Within: -1, Verdict: VerdictHuman}}, []string{"no name", `unknown verdict "x"`, "negative within"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.rules)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("Validate = %v, want ErrInvalidRule", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}
