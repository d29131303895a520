package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailack/mailack/bot/slackfake"
	"github.com/mailack/mailack/mailwatch/mailstack"
)

// TestDaemonAnswers runs the built binary against Dovecot: an
// out-of-office notice moves one recipient's deadline, a reply delivered to
// the sender's inbox ends the other's wait and updates the card in place
// with a thread reply, and the same reply delivered twice changes nothing.
func TestDaemonAnswers(t *testing.T) {
	s := mailstack.Start(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	fake := slackfake.New(slackfake.User{ID: "UALICE", Name: "Alice", Email: "alice@test.example", Locale: "en-US", TZ: "UTC"})
	slackAPI := fake.Serve(t)
	showSlack := func() { t.Logf("slack saw: %s", fake.Summary()) }
	updates := func() int { return len(fake.All(slackfake.Method("chat.update"))) }
	cfg := writeDaemonConfig(t, s, dir, slackSection(slackAPI.URL))
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(b), "tracking:\n", "tracking:\n  default_deadline: 48h\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := slackDaemonEnv(s.Password("alice"))
	p := startDaemon(t, bin, cfgPath, env)
	waitUntil(t, "/readyz", 15*time.Second, func() bool { c, _ := p.get("/readyz"); return c == 200 })

	now := time.Now().UTC()
	date := now.Format(time.RFC1123Z)
	c := s.Login(t, "alice")
	id := "quote-77@test.example"
	mailstack.Append(t, c, "Sent Items", "From: alice@test.example\r\nTo: bob@partner.example, carol@other.example\r\nSubject: Quote for December\r\n"+
		"Date: "+date+"\r\nMessage-ID: <"+id+">\r\nDisposition-Notification-To: alice@test.example\r\n\r\nPlease find the quote.\r\n")
	waitUntil(t, "registration", 15*time.Second, func() bool { return p.metric("mailack_mails_registered_total") == 1 })

	back := now.AddDate(0, 0, 5)
	oof := "From: Carol <carol@other.example>\r\nTo: alice@test.example\r\nSubject: Automatic reply: Quote for December\r\nDate: " + date + "\r\n" +
		"Message-ID: <oof-1@other.example>\r\nIn-Reply-To: <" + id + ">\r\nAuto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
		fmt.Sprintf("I am out of the office until %s with limited access to e-mail.\r\n", back.Format("Monday, January 2, 2006"))
	s.DeliverLMTP(t, "alice", []byte(oof))
	waitUntil(t, "the out-of-office notice applied", 20*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="applied"}`) == 1
	}, func() { t.Logf("daemon log:\n%s", p.log()) })
	waitUntil(t, "the card showing the absence", 20*time.Second, func() bool {
		return len(fake.All(slackfake.Method("*", "*carol@other.example* — away until "+back.Format("Mon 2 Jan")+" (automatic reply)"))) > 0
	}, showSlack)

	reply := "From: Bob <bob@partner.example>\r\nTo: alice@test.example\r\nSubject: RE: Quote for December\r\nDate: " + date + "\r\n" +
		"Message-ID: <re-1@partner.example>\r\nIn-Reply-To: <" + id + ">\r\nReferences: <" + id + ">\r\nThread-Index: AQHbZ1a2b3c4\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks, received. I'll come back to you.\r\n"
	s.DeliverLMTP(t, "alice", []byte(reply))
	waitUntil(t, "the reply applied", 20*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="applied"}`) == 2
	}, func() { t.Logf("daemon log:\n%s", p.log()) })
	waitUntil(t, "the card updated in place with the reply, and its thread reply", 20*time.Second, func() bool {
		card := fake.All(slackfake.Method("chat.update", "*bob@partner.example* — replied at"))
		thread := fake.All(func(c slackfake.Call) bool {
			return slackfake.Method("chat.postMessage", "bob@partner.example")(c) && c.Param("thread_ts") != ""
		})
		return len(card) > 0 && len(thread) > 0
	}, showSlack)

	before := updates()
	s.DeliverLMTP(t, "alice", []byte(reply))
	waitUntil(t, "the second copy of the reply read", 20*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="duplicate"}`) == 1
	}, func() { t.Logf("daemon log:\n%s", p.log()) })
	if n := p.metric(`mailack_report_outcomes_total{outcome="applied"}`); n != 2 {
		t.Errorf("applied outcomes after the reply read twice = %v, want 2", n)
	}
	p.stop(t)
	if n := updates(); n != before {
		t.Errorf("card updated %d times after the duplicate, want %d", n, before)
	}

	ex := exportAnswers(t, bin, filepath.Join(dir, "mailack.db"))
	if len(ex.Mails) != 1 || len(ex.Mails[0].Evidence) != 2 {
		t.Fatalf("export = %+v, want one mail with two pieces of evidence", ex)
	}
	m := ex.Mails[0].Mail
	rs := map[string]exportedRecipient{}
	for _, r := range m.Recipients {
		rs[r.Address] = r
	}
	if r := rs["bob@partner.example"]; r.Status != "replied" {
		t.Errorf("bob = %+v, want replied", r)
	}
	carol := rs["carol@other.example"]
	wantDue := time.Date(back.Year(), back.Month(), back.Day()+1, 0, 0, 0, 0, time.UTC).Add(48 * time.Hour)
	if carol.Status != "away" || !carol.DueAt.Equal(wantDue) || carol.AwayUntil.Format(time.DateOnly) != back.Format(time.DateOnly) {
		t.Errorf("carol = %+v, want away until %s with her deadline at %v (mail's %v)", carol, back.Format(time.DateOnly), wantDue, m.DueAt)
	}
	for _, ev := range ex.Mails[0].Evidence {
		if ev.Source != "reply" && ev.Source != "autoreply" || ev.ReplyID == "" {
			t.Errorf("evidence %+v, want a reply or an automatic reply with its Message-ID", ev)
		}
	}
}

type exportedRecipient struct {
	Address   string
	Status    string
	AwayUntil time.Time
	DueAt     time.Time
}

type exportedAnswers struct {
	Mails []struct {
		Mail struct {
			DueAt      time.Time
			Recipients []exportedRecipient
		} `json:"mail"`
		Evidence []struct{ ID, Source, ReplyID string } `json:"evidence"`
	} `json:"mails"`
}

func exportAnswers(t *testing.T, bin, db string) exportedAnswers {
	t.Helper()
	var ex exportedAnswers
	exportInto(t, bin, db, &ex)
	return ex
}

// TestDaemonReplyBeforeSent runs the built binary against Dovecot: a reply
// is delivered to the sender's inbox before the mail it answers is stored
// in her Sent folder (a client that uploads its sent copy late). The reply
// waits as an orphan, and once the mail is registered its card and the
// store show it replied.
func TestDaemonReplyBeforeSent(t *testing.T) {
	s := mailstack.Start(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	fake := slackfake.New(slackfake.User{ID: "UALICE", Name: "Alice", Email: "alice@test.example", Locale: "en-US", TZ: "UTC"})
	slackAPI := fake.Serve(t)
	cfg := writeDaemonConfig(t, s, dir, slackSection(slackAPI.URL))
	env := slackDaemonEnv(s.Password("alice"))
	p := startDaemon(t, bin, cfg, env)
	logs := func() { t.Logf("daemon log:\n%s", p.log()) }
	waitUntil(t, "Inbox and Sent Items watched", 15*time.Second, func() bool { return p.metric("mailack_imap_folders_watching") == 2 }, logs)

	date := time.Now().UTC().Format(time.RFC1123Z)
	id := "quote-88@test.example"
	s.DeliverLMTP(t, "alice", []byte("From: Bob <bob@partner.example>\r\nTo: alice@test.example\r\nSubject: RE: Quote for January\r\nDate: "+date+"\r\n"+
		"Message-ID: <re-88@partner.example>\r\nIn-Reply-To: <"+id+">\r\nReferences: <"+id+">\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nReceived, thanks.\r\n"))
	waitUntil(t, "the reply kept as an orphan", 20*time.Second, func() bool {
		return p.metric(`mailack_report_outcomes_total{outcome="orphaned"}`) == 1
	}, logs)

	c := s.Login(t, "alice")
	mailstack.Append(t, c, "Sent Items", "From: alice@test.example\r\nTo: bob@partner.example\r\nSubject: Quote for January\r\n"+
		"Date: "+date+"\r\nMessage-ID: <"+id+">\r\nDisposition-Notification-To: alice@test.example\r\n\r\nPlease find the quote.\r\n")
	waitUntil(t, "the card showing the reply", 20*time.Second, func() bool {
		return len(fake.All(slackfake.Method("*", "*bob@partner.example* — replied at"))) > 0
	}, func() { t.Logf("slack saw: %s", fake.Summary()); logs() })
	p.stop(t)

	ex := exportAnswers(t, bin, filepath.Join(dir, "mailack.db"))
	if len(ex.Mails) != 1 || len(ex.Mails[0].Evidence) != 1 || ex.Mails[0].Evidence[0].ReplyID != "re-88@partner.example" {
		t.Fatalf("export = %+v, want one mail with the reply as evidence", ex)
	}
	if rs := ex.Mails[0].Mail.Recipients; len(rs) != 1 || rs[0].Status != "replied" {
		t.Errorf("recipients = %+v, want bob replied", rs)
	}
}
