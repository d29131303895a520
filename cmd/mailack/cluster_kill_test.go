package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/mailwatch/mailstack"
	"github.com/mailack/mailack/store/cluster"
	"github.com/mailack/mailack/store/etcdtest"
)

// clusterKillsEnv sets how many times TestClusterKillNodes SIGKILLs a
// node (default 3); the figure needs at least 20.
const clusterKillsEnv = "MAILACK_CLUSTER_KILLS"

// incarnation is one process of a cluster node: a node killed and
// restarted has several, one after the other.
type incarnation struct {
	node string
	p    *daemonProc
	// exited is set once the process is known to be dead: no connection
	// of it is open after this time.
	exited time.Time
}

// clusterNode is a named node of the test cluster and its current process.
type clusterNode struct {
	name, cfg string
	cur       *incarnation
}

// TestClusterKillNodes runs three `mailack run` processes in cluster mode
// on a three-member etcd against Dovecot, each mailbox watched by the node
// rendezvous hashing gives it. While sent mail and read receipts stream in,
// one node at a time is SIGKILLed (and restarted at once under its name,
// as systemd would) and an etcd member is stopped and restarted. Then:
// every receipt is applied exactly once (the store's export, and no
// message UID applied twice in the nodes' logs), every notice is posted to
// Slack exactly once (the strict fake's calls), and no mailbox was owned
// by two processes at once (the owning intervals the nodes log, each ended
// at the latest when its process died). The time from each kill until
// every mailbox is watched again and a leader delivers is printed.
func TestClusterKillNodes(t *testing.T) {
	kills := 3
	if v := os.Getenv(clusterKillsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of kills", clusterKillsEnv, v)
		}
		kills = n
	}
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d, %d kills", seed, kills)

	users := []string{"u0", "u1", "u2", "u3", "u4", "u5"}
	s := mailstack.Start(t, mailstack.WithUsers(users...))
	ec, err := etcdtest.Start(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ec.Close)
	bin := buildBinary(t)
	var slackUsers []slackfake.User
	for _, u := range users {
		slackUsers = append(slackUsers, slackfake.User{ID: "U" + strings.ToUpper(u), Name: u, Email: s.Address(u), Locale: "en-US", TZ: "UTC"})
	}
	fake := slackfake.New(slackUsers...)
	api := fake.Serve(t)

	// A fresh key prefix, so that a second run on the same cluster starts
	// from nothing.
	prefix := fmt.Sprintf("killtest-%d/", seed)
	dir := t.TempDir()
	names := []string{"n1", "n2", "n3"}
	nodes := map[string]*clusterNode{}
	for _, name := range names {
		nodes[name] = &clusterNode{name: name, cfg: writeClusterConfig(t, s, dir, name, prefix, ec.Endpoints(), api.URL, users)}
	}
	env := []string{"MAILACK_TEST_PASSWORD=" + s.Password(users[0]), "SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5"}
	var all []*incarnation
	start := func(n *clusterNode) {
		n.cur = &incarnation{node: n.name, p: startDaemon(t, bin, n.cfg, env)}
		all = append(all, n.cur)
	}
	for _, name := range names {
		start(nodes[name])
	}
	// revive restarts a node that stopped by itself, as systemd would: a
	// node that could not renew its lease in time (the etcd member it
	// talked to was stopped) stops, so that it owns nothing twice.
	revived := 0
	revive := func() {
		for _, name := range names {
			n := nodes[name]
			select {
			case err := <-n.cur.p.done:
				n.cur.exited = time.Now()
				revived++
				t.Logf("%s stopped by itself (%v); restarting it", name, err)
				start(n)
			default:
			}
		}
	}
	// share is what each node owns once the cluster is whole.
	share := map[string][]string{}
	for _, u := range users {
		o := cluster.Owner(u, names)
		share[o] = append(share[o], u)
	}
	settled := func() bool {
		revive()
		for _, name := range names {
			code, body := nodes[name].cur.p.get("/readyz")
			if code != 200 || !strings.Contains(body, "\nmailboxes: "+strings.Join(share[name], " ")+"\n") {
				return false
			}
		}
		return true
	}
	waitUntil(t, "every mailbox watched by its node", time.Minute, settled, func() { logReadyz(t, nodes) })
	// Without a token /readyz says no more than ready or not.
	for _, name := range names {
		if code, body := getNoToken(nodes[name].cur.p, "/readyz"); code != 200 || body != "ready\n" {
			t.Errorf("%s: /readyz without a token = %d %q, want 200 and only ready", name, code, body)
		}
	}

	// The stream: each round, every user sends a mail to two recipients
	// asking for read receipts (it lands in their Sent folder); the first
	// receipt arrives at once (the mail's card shows it), the second with
	// the next round (a reply in the card's thread tells of it).
	imap := map[string]*mailstackClient{}
	for _, u := range users {
		imap[u] = &mailstackClient{s: s, user: u}
	}
	var subjects []string
	type receipt struct{ user, id, from string }
	var later []receipt // second receipts, delivered with the next round
	round := 0
	secondReceipts := func() {
		for _, r := range later {
			s.DeliverLMTP(t, r.user, []byte(mailstack.MDN(r.id, r.from, s.Address(r.user), 100000+round)))
		}
		later = nil
	}
	sendRound := func() {
		secondReceipts()
		for _, u := range users {
			subject := fmt.Sprintf("Quote %s-%03d", u, round)
			id := fmt.Sprintf("q-%s-%03d@%s", u, round, s.Domain())
			first, second := fmt.Sprintf("r%03d@example.org", round), fmt.Sprintf("s%03d@example.org", round)
			imap[u].appendSent(t, "From: "+s.Address(u)+"\r\nTo: "+first+", "+second+"\r\nSubject: "+subject+"\r\nDate: "+time.Now().Format(time.RFC1123Z)+
				"\r\nMessage-ID: <"+id+">\r\nDisposition-Notification-To: "+s.Address(u)+"\r\n\r\nPlease find the quote.\r\n")
			s.DeliverLMTP(t, u, []byte(mailstack.MDN(id, first, s.Address(u), round)))
			later = append(later, receipt{u, id, second})
			subjects = append(subjects, subject)
		}
		round++
	}
	// cards are the cards of a subject posted: every call that took
	// effect, whether or not its caller lived to read the answer.
	cards := func(subject string) []slackfake.Call {
		return fake.All(func(c slackfake.Call) bool {
			return c.Method == "chat.postMessage" && c.Posted() && strings.Contains(c.Text(), subject) && c.Param("thread_ts") == ""
		})
	}
	allCarded := func() bool {
		for _, sub := range subjects {
			if len(cards(sub)) == 0 {
				return false
			}
		}
		return true
	}
	leader := func() string {
		for _, name := range names {
			if nodes[name].cur.p.metric("mailack_cluster_leader") == 1 {
				return name
			}
		}
		return ""
	}
	outboxEmpty := func() bool {
		for _, name := range names {
			if nodes[name].cur.p.metric("mailack_outbox_depth") == 0 {
				return true
			}
		}
		return false
	}

	member := rnd.IntN(3)
	var failovers []time.Duration
	for k := range kills {
		for range 1 + rnd.IntN(2) {
			sendRound()
		}
		switch k {
		case 0:
			ec.Stop(member)
			t.Logf("etcd member %d stopped", member)
		case max(1, kills/2):
			if err := ec.Restart(member); err != nil {
				t.Fatal(err)
			}
			t.Logf("etcd member %d restarted", member)
		}
		victim := nodes[names[rnd.IntN(len(names))]]
		led := leader() == victim.name
		if led && rnd.IntN(2) == 0 {
			// Killed while delivering: once the round's first card is
			// posted, the rest are in flight or due.
			first := subjects[len(subjects)-len(users)]
			waitUntil(t, "the round's first card posted", 2*time.Minute, func() bool { return len(cards(first)) > 0 })
		}
		t.Logf("kill %d: SIGKILL %s (leader: %t, mailboxes %v)", k+1, victim.name, led, share[victim.name])
		killed := time.Now()
		victim.cur.p.cmd.Process.Kill()
		<-victim.cur.p.done
		victim.cur.exited = time.Now()
		start(victim)
		// Failed over: every mailbox is watched by a live process again
		// and one leads.
		waitUntil(t, "failover", time.Minute, func() bool { revive(); return everyMailboxOwned(nodes, users) && leader() != "" },
			func() { logReadyz(t, nodes) })
		if led || len(share[victim.name]) > 0 {
			// Something had to move.
			failovers = append(failovers, time.Since(killed))
		}
		waitUntil(t, "the cluster whole again", time.Minute, settled, func() { logReadyz(t, nodes) })
	}
	sendRound()
	secondReceipts()
	waitUntil(t, "every card posted", 2*time.Minute, func() bool { return allCarded() && outboxEmpty() },
		func() { t.Logf("Slack calls: %s", fake.Summary()) })
	for _, name := range names {
		// The ownership metric counts what the node logged.
		p := nodes[name].cur.p
		acquired, released := 0.0, 0.0
		for _, m := range ownershipLine.FindAllStringSubmatch(p.log(), -1) {
			if m[2] == "owning" {
				acquired++
			} else {
				released++
			}
		}
		// A label never counted is not exposed (-1).
		changes := func(change string) float64 {
			return max(p.metric(`mailack_cluster_ownership_changes_total{change="`+change+`"}`), 0)
		}
		if a, r := changes("acquired"), changes("released"); a != acquired || r != released || a == 0 && len(share[name]) > 0 {
			t.Errorf("%s: ownership changes acquired %v, released %v; the log has %v and %v", name, a, r, acquired, released)
		}
	}
	// Any node answers Slack's requests: /track stop typed to a standby
	// stops the mail, answers, and updates its card once.
	fake.AddChannel(slackfake.Channel{ID: "C0GENERAL", Name: "general", Member: true})
	l := leader()
	for i, name := range names {
		if name == l {
			continue
		}
		u := users[i]
		id := fmt.Sprintf("q-%s-%03d@%s", u, 0, s.Domain())
		card := cards(fmt.Sprintf("Quote %s-%03d", u, 0))[0]
		answers := func() int { return len(fake.All(slackfake.Method("chat.postEphemeral", "Stopped tracking"))) }
		before := answers()
		if code := nodes[name].cur.p.post(t, newSlashCommand("U"+strings.ToUpper(u), "stop "+id, fake.ResponseURL(api.URL), time.Now())); code != http.StatusOK {
			t.Fatalf("/track stop on %s = %d", name, code)
		}
		stopped := func(c slackfake.Call) bool {
			return c.Method == "chat.update" && c.OK() && c.Param("ts") == card.TS && strings.Contains(c.Text(), "tracking stopped")
		}
		waitUntil(t, "/track stop answered by "+name, time.Minute, func() bool {
			return answers() > before && len(fake.All(stopped)) > 0
		}, func() { t.Logf("Slack calls: %s", fake.Summary()) })
		if n := len(fake.All(stopped)); n != 1 {
			t.Errorf("card of %s updated %d times by /track stop on %s, want 1", id, n, name)
		}
	}
	for _, name := range names {
		nodes[name].cur.p.stop(t)
		nodes[name].cur.exited = time.Now()
	}

	// Every notice posted exactly once: one card per mail, each mail
	// having one read receipt, and no two posts carrying the same notice
	// or card in their metadata, whenever the leader was killed.
	for _, sub := range subjects {
		if n := len(cards(sub)); n != 1 {
			t.Errorf("%d cards posted for %q, want 1", n, sub)
		}
	}
	checkPostedOnce(t, fake)
	found := 0
	for _, inc := range all {
		found += strings.Count(inc.p.log(), "found in slack; not posted again")
	}
	fmt.Printf("cluster: cards or replies a new leader found in Slack (posted by a killed leader before it acknowledged them) and did not post again: %d\n", found)
	replies := fake.All(func(c slackfake.Call) bool {
		return c.Method == "chat.postMessage" && c.Posted() && c.Param("thread_ts") != ""
	})
	if len(replies) == 0 {
		t.Error("no thread reply posted: the second receipts told of none")
	}
	// Every receipt applied exactly once.
	checkExport(t, bin, nodes[names[0]].cfg, env, len(subjects))
	checkAppliedOnce(t, all)
	checkNoOverlap(t, all)

	fmt.Printf("cluster: Dovecot's log shows at most %d IMAP sessions of one mailbox at once (a watching node holds 2, the test 1)\n",
		maxDovecotSessions(s.Logs()))
	slices.Sort(failovers)
	fmt.Printf("cluster: %d SIGKILLs of 3 mailack nodes (lease TTL 2s, etcd member %d stopped and restarted), %d mails with receipts on %d mailboxes, "+
		"nodes that stopped by themselves: %d\n", kills, member, len(subjects), len(users), revived)
	if len(failovers) > 0 {
		fmt.Printf("cluster: failover after the %d kills of a node that owned mailboxes or led (every mailbox watched again, a leader delivering): min %v, median %v, max %v\n",
			len(failovers), failovers[0].Round(time.Millisecond), failovers[len(failovers)/2].Round(time.Millisecond), failovers[len(failovers)-1].Round(time.Millisecond))
	}
}

// mailstackClient appends to a user's Sent folder, logging in once.
type mailstackClient struct {
	s    *mailstack.Stack
	user string
	c    *imapclient.Client
}

func (m *mailstackClient) appendSent(t *testing.T, raw string) {
	t.Helper()
	if m.c == nil {
		m.c = m.s.Login(t, m.user)
	}
	mailstack.Append(t, m.c, "Sent Items", raw)
}

func writeClusterConfig(t *testing.T, s *mailstack.Stack, dir, node, prefix string, endpoints []string, slackURL string, users []string) string {
	t.Helper()
	host, port, _ := strings.Cut(s.IMAPAddr(), ":")
	var b strings.Builder
	fmt.Fprintf(&b, `log:
  level: debug
store:
  path: %s
  etcd:
    endpoints: [%s]
    prefix: %s
    node: %s
    lease_ttl: 2s
tracking:
  sweep_interval: 1s
  default_deadline: 720h
http:
  listen: 127.0.0.1:0
  admin_token: ${%s}
slack:
  enabled: true
  mode: http
  bot_token: ${SLACK_BOT_TOKEN}
  signing_secret: ${SLACK_SIGNING_SECRET}
  api_url: %s/
accounts:
`, filepath.Join(dir, node+".db"), strings.Join(endpoints, ", "), prefix, node, testTokenEnv, slackURL)
	for _, u := range users {
		fmt.Fprintf(&b, "  - {name: %s, host: %s, port: %s, tls: insecure, username: %s, owner: %s, password: '${MAILACK_TEST_PASSWORD}'}\n",
			u, host, port, u, s.Address(u))
	}
	path := filepath.Join(dir, node+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var readyMailboxes = regexp.MustCompile(`(?m)^mailboxes: (.*)$`)

// everyMailboxOwned reports whether the running processes' /readyz
// together list every mailbox exactly once.
func everyMailboxOwned(nodes map[string]*clusterNode, users []string) bool {
	var owned []string
	for _, n := range nodes {
		_, body := n.cur.p.get("/readyz")
		if m := readyMailboxes.FindStringSubmatch(body); m != nil {
			owned = append(owned, strings.Fields(m[1])...)
		}
	}
	slices.Sort(owned)
	return slices.Equal(owned, users)
}

func getNoToken(p *daemonProc, path string) (int, string) {
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func logReadyz(t *testing.T, nodes map[string]*clusterNode) {
	for name, n := range nodes {
		code, body := n.cur.p.get("/readyz")
		t.Logf("%s /readyz %d:\n%s", name, code, body)
	}
}

// checkExport reads the cluster's store with `mailack export`: every mail
// is tracked, read by its two recipients, with one piece of evidence
// each.
func checkExport(t *testing.T, bin, cfg string, env []string, mails int) {
	t.Helper()
	cmd := exec.Command(bin, "export", "--json", "--config", cfg)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	var ex exported
	if err := json.Unmarshal(out, &ex); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if len(ex.Mails) != mails {
		t.Errorf("exported %d mails, want %d", len(ex.Mails), mails)
	}
	for _, m := range ex.Mails {
		read := 0
		for _, r := range m.Mail.Recipients {
			if r.Status == "read" {
				read++
			}
		}
		if len(m.Mail.Recipients) != 2 || read != 2 || len(m.Evidence) != 2 {
			t.Errorf("mail %s: recipients %+v, %d evidence; want both read, with one evidence each", m.Mail.MessageID, m.Mail.Recipients, len(m.Evidence))
		}
	}
}

var appliedLine = regexp.MustCompile(`msg="message applied" .*account=(\S+) folder=("[^"]*"|\S+) uid=(\d+)`)

// checkAppliedOnce fails when any process logged applying a message that
// any process (itself included) had applied before: a message is applied
// with its checkpoint in one transaction, so whoever watches the folder
// next starts after it.
func checkAppliedOnce(t *testing.T, all []*incarnation) {
	t.Helper()
	seen := map[string]string{}
	for i, inc := range all {
		for _, m := range appliedLine.FindAllStringSubmatch(inc.p.log(), -1) {
			k := m[1] + " " + m[2] + " uid " + m[3]
			who := fmt.Sprintf("%s (process %d)", inc.node, i)
			if prev, ok := seen[k]; ok {
				t.Errorf("%s applied by %s and again by %s", k, prev, who)
			}
			seen[k] = who
		}
	}
	if len(seen) == 0 {
		t.Error("no process logged applying a message")
	}
}

var ownershipLine = regexp.MustCompile(`(?m)^time=(\S+) .*msg=("handed over"|owning) .*mailbox=(\S+)`)

// checkNoOverlap fails when two processes owned a mailbox at once. A
// process owns a mailbox from the moment it logs "owning" (its watcher
// starts after) until it logs "handed over" (its watcher stopped and
// closed its connections before) or it exited.
func checkNoOverlap(t *testing.T, all []*incarnation) {
	t.Helper()
	type span struct {
		who        string
		start, end time.Time
	}
	spans := map[string][]span{}
	for i, inc := range all {
		open := map[string]time.Time{}
		who := fmt.Sprintf("%s (process %d)", inc.node, i)
		for _, m := range ownershipLine.FindAllStringSubmatch(inc.p.log(), -1) {
			at, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil {
				t.Fatalf("log time %q: %v", m[1], err)
			}
			if m[2] == "owning" {
				open[m[3]] = at
				continue
			}
			spans[m[3]] = append(spans[m[3]], span{who, open[m[3]], at})
			delete(open, m[3])
		}
		for mb, at := range open {
			spans[mb] = append(spans[mb], span{who, at, inc.exited})
		}
	}
	for mb, ss := range spans {
		slices.SortFunc(ss, func(a, b span) int { return a.start.Compare(b.start) })
		last := 0 // the span that ends last among those before i
		for i := 1; i < len(ss); i++ {
			if ss[i].start.Before(ss[last].end) {
				t.Errorf("mailbox %s owned by %s from %s while %s owned it until %s", mb, ss[i].who, ss[i].start.Format(time.StampMilli),
					ss[last].who, ss[last].end.Format(time.StampMilli))
			}
			if ss[i].end.After(ss[last].end) {
				last = i
			}
		}
	}
}

var (
	dovecotLogin = regexp.MustCompile(`imap-login: Info: Login: user=<([^>]+)>.* session=<([^>]+)>`)
	dovecotEnd   = regexp.MustCompile(`imap\(([^)]+)\)<\d+><([^>]+)>: Info: (Disconnected|Logged out)`)
)

// maxDovecotSessions returns the most IMAP sessions one user had open at
// once, in the order of Dovecot's log. Dovecot logs a session's end when
// its process has noticed it, which on a busy machine may come after the
// next owner's login: this is a figure, not a proof (checkNoOverlap is).
func maxDovecotSessions(logs string) int {
	open := map[string]map[string]bool{}
	most := 0
	for line := range strings.Lines(logs) {
		if m := dovecotLogin.FindStringSubmatch(line); m != nil {
			if open[m[1]] == nil {
				open[m[1]] = map[string]bool{}
			}
			open[m[1]][m[2]] = true
			most = max(most, len(open[m[1]]))
		} else if m := dovecotEnd.FindStringSubmatch(line); m != nil {
			delete(open[m[1]], m[2])
		}
	}
	return most
}

// checkPostedOnce fails when two messages that took effect in Slack carry
// the same metadata (a card's mail, a reply's notice), or a message
// carries none.
func checkPostedOnce(t *testing.T, fake *slackfake.Server) {
	t.Helper()
	seen := map[string]int{}
	posts := fake.All(func(c slackfake.Call) bool { return c.Method == "chat.postMessage" && c.Posted() })
	for _, c := range posts {
		var m struct {
			Type    string         `json:"event_type"`
			Payload map[string]any `json:"event_payload"`
		}
		if err := json.Unmarshal([]byte(c.Param("metadata")), &m); err != nil || m.Type == "" {
			t.Errorf("a message posted without metadata: %q", c.Param("metadata"))
			continue
		}
		seen[fmt.Sprint(m.Type, m.Payload)]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s posted %d times, want once", k, n)
		}
	}
	fmt.Printf("cluster: %d messages posted to Slack, each card and thread reply once\n", len(posts))
}
