package mailwatch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailack/mailack/mailwatch/mailstack"
)

// TestWatchFolderRecreatedWhileSelected deletes and recreates the watched
// folder while the watcher has it selected, over IDLE and by polling.
// Dovecot 2.3 then keeps the old folder's view in the watcher's session and
// only answers "* NO Internal error" (or ends the session with BYE when it
// notices the deletion before the folder is back): either way the new
// folder's receipts are read, each once, within a bounded wait that is far
// shorter than the IDLE restart interval.
func TestWatchFolderRecreatedWhileSelected(t *testing.T) {
	for _, mode := range []string{"idle", "poll"} {
		t.Run(mode, func(t *testing.T) {
			s := mailstack.Start(t)
			acct := account(s, "alice")
			if mode == "poll" {
				acct.PollInterval = 100 * time.Millisecond
			}
			recreateWhileSelected(t, s, acct, Options{IdleRestart: time.Hour})
		})
	}
}

// TestWatchFolderRecreatedSilently is the same against a server that sends
// no untagged NO (a proxy drops Dovecot's): the folder is found recreated
// by the select that comes with every IDLE restart, or after as long when
// polling.
func TestWatchFolderRecreatedSilently(t *testing.T) {
	for _, mode := range []string{"idle", "poll"} {
		t.Run(mode, func(t *testing.T) {
			s := mailstack.Start(t)
			acct := account(s, "alice")
			acct.Addr, acct.TLS, acct.TLSConfig = dropUntaggedNO(t, s.IMAPAddr()), TLSInsecure, nil
			if mode == "poll" {
				acct.PollInterval = 100 * time.Millisecond
			}
			recreateWhileSelected(t, s, acct, Options{IdleRestart: time.Second})
		})
	}
}

// dropUntaggedNO proxies plaintext IMAP to addr and drops every line from
// the server that starts with "* NO ".
func dropUntaggedNO(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", addr)
			if err != nil {
				client.Close()
				continue
			}
			t.Cleanup(func() { client.Close(); server.Close() })
			go func() {
				defer client.Close()
				io.Copy(server, client)
			}()
			go func() {
				defer server.Close()
				r := bufio.NewReader(server)
				for {
					line, err := r.ReadBytes('\n')
					if !bytes.HasPrefix(line, []byte("* NO ")) {
						if _, werr := client.Write(line); werr != nil {
							return
						}
					}
					if err != nil {
						client.Close()
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// recreateWhileSelected watches Reports, deletes and recreates it with two
// new receipts while the watcher has it selected, and checks that they are
// read and that nothing is read twice.
func recreateWhileSelected(t *testing.T, s *mailstack.Stack, acct Account, opts Options) {
	t.Helper()
	sink := newMemSink()
	c := s.Login(t, "alice")
	if err := c.Create("Reports", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	mailstack.Append(t, c, "Reports", mailstack.MDN("a@test.example", "bob@test.example", "alice@test.example", 1))
	acct.ReportFolders = []string{"Reports"}
	startWatcher(t, sink, opts, acct)
	sink.waitFor(t, "the first receipt", 10*time.Second, func(items []Item) bool { return len(items) == 1 })
	before, _ := sink.Checkpoint(context.Background(), "alice", "Reports")

	recreateFolder(t, c, "Reports")
	appendRetry(t, s, c, "Reports", mailstack.MDN("b@test.example", "bob@test.example", "alice@test.example", 2))
	appendRetry(t, s, c, "Reports", mailstack.MDN("c@test.example", "bob@test.example", "alice@test.example", 3))
	sink.waitFor(t, "the recreated folder's two receipts", 30*time.Second, func(items []Item) bool {
		seen := map[string]bool{}
		for _, r := range reportsOf(items) {
			seen[r.OriginalMessageID] = true
		}
		return seen["b@test.example"] && seen["c@test.example"]
	})

	after, _ := sink.Checkpoint(context.Background(), "alice", "Reports")
	// An APPEND refused while the old session spoilt the folder can use
	// up a UID: the last one is the highest in the folder, not always 2.
	// The test's first session may still hold the spoilt view: a new one
	// looks.
	uids := folderUIDs(t, s, "Reports")
	if len(uids) != 2 || after.UIDValidity == before.UIDValidity || after.LastUID != uint32(uids[len(uids)-1]) {
		t.Errorf("checkpoint after recreate = %+v, before %+v, folder holds UIDs %v: want a new UIDVALIDITY read up to the last of two", after, before, uids)
	}
	count := map[string]int{}
	for _, r := range reportsOf(sink.snapshot()) {
		count[r.OriginalMessageID]++
	}
	for _, id := range []string{"a@test.example", "b@test.example", "c@test.example"} {
		if count[id] != 1 {
			t.Errorf("receipt for %s read %d times, want once (all: %v)", id, count[id], count)
		}
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for k, n := range sink.applied {
		if n != 1 {
			t.Errorf("%s applied %d times, want once", k, n)
		}
	}
}

// recreateFolder deletes folder and creates it again. The watcher's
// session that has the folder selected can write the old folder's index
// back into its directory between the DELETE and the CREATE (Dovecot's
// maildir keeps its index files there), so the folder exists again and
// the CREATE fails with ALREADYEXISTS: then the folder is deleted and
// created once more, until the CREATE makes a new one.
func recreateFolder(t *testing.T, c *imapclient.Client, folder string) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = c.Delete(folder).Wait(); err != nil {
			t.Fatalf("delete %s: %v", folder, err)
		}
		if err = c.Create(folder, nil).Wait(); err == nil {
			return
		}
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAlreadyExists {
			break
		}
		t.Logf("create %s after deleting it: %v; again", folder, err)
	}
	t.Fatalf("create %s after deleting it: %v", folder, err)
}

// folderUIDs lists the UIDs in alice's folder, seen from a new session (a
// session that met a spoilt folder may keep a stale view of it).
func folderUIDs(t *testing.T, s *mailstack.Stack, folder string) []imap.UID {
	t.Helper()
	v := s.Login(t, "alice")
	if _, err := v.Select(folder, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	all, err := v.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return all.AllUIDs()
}

// appendRetry appends raw to folder, again when Dovecot refuses it with
// "Mailbox was deleted under us" (with TRYCREATE, or with no response code
// when the APPEND meets it at its commit): the watcher's session on the
// deleted folder can still write to the new folder's index while it
// notices (until its next poll or IDLE restart, which on a busy machine
// can take seconds), and the APPEND that meets that fails without storing
// anything.
//
// A session that met the refusal can keep meeting it (its cached view of
// the folder disagrees with the index written under it), so each retry
// logs in anew.
func appendRetry(t *testing.T, s *mailstack.Stack, c *imapclient.Client, folder, raw string) {
	t.Helper()
	var err error
	var fresh *imapclient.Client
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err != nil {
			if fresh != nil {
				_ = fresh.Close() // a session of the last retry, done with
			}
			fresh = s.Login(t, "alice")
			c = fresh
		}
		cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{})
		if _, err = cmd.Write([]byte(raw)); err == nil {
			if err = cmd.Close(); err == nil {
				if _, err = cmd.Wait(); err == nil {
					return
				}
			}
		}
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeTryCreate && !strings.Contains(ie.Text, "deleted under us") {
			break
		}
		t.Logf("append to %s: %v; again", folder, err)
	}
	t.Fatalf("append to %s: %v", folder, err)
}

// TestWarnTap finds untagged NO responses however the stream is cut into
// writes, and nothing else.
func TestWarnTap(t *testing.T) {
	for _, tc := range []struct {
		stream string
		want   bool
	}{
		{"* 3 EXISTS\r\n* NO Internal error occurred.\r\n", true},
		{"* no lower case\r\n", true},
		{"T4 NO [TRYCREATE] Mailbox doesn't exist\r\n", false},
		{"* OK [CLOSED] Previous mailbox closed.\r\n* 1 EXISTS\r\n", false},
		{"* 1 FETCH (BODY[] {12}\r\nsome * NO x\r\n)\r\n", false},
		{"DONE\r\n+ idling\r\n* NO", false}, // the line is not complete enough to tell
		{"* NO ", true},
		{"x* NO \r\n", false},
	} {
		for _, size := range []int{1, 2, 3, 7, len(tc.stream)} {
			tap := newWarnTap()
			for rest := tc.stream; rest != ""; {
				n := min(size, len(rest))
				if _, err := tap.Write([]byte(rest[:n])); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			got := false
			select {
			case <-tap.c:
				got = true
			default:
			}
			if got != tc.want {
				t.Errorf("%q in writes of %d bytes: warned %v, want %v", strings.ReplaceAll(tc.stream, "\r\n", "|"), size, got, tc.want)
			}
		}
	}
}
