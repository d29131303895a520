package mailwatch

import (
	"context"
	"strings"
	"testing"
	"time"

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
			sink := newMemSink()
			c := s.Login(t, "alice")
			if err := c.Create("Reports", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			mailstack.Append(t, c, "Reports", mailstack.MDN("a@test.example", "bob@test.example", "alice@test.example", 1))
			acct := account(s, "alice")
			acct.ReportFolders = []string{"Reports"}
			if mode == "poll" {
				acct.PollInterval = 100 * time.Millisecond
			}
			startWatcher(t, sink, Options{IdleRestart: time.Hour}, acct)
			sink.waitFor(t, "the first receipt", 10*time.Second, func(items []Item) bool { return len(items) == 1 })
			before, _ := sink.Checkpoint(context.Background(), "alice", "Reports")

			if err := c.Delete("Reports").Wait(); err != nil {
				t.Fatal(err)
			}
			if err := c.Create("Reports", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			mailstack.Append(t, c, "Reports", mailstack.MDN("b@test.example", "bob@test.example", "alice@test.example", 2))
			mailstack.Append(t, c, "Reports", mailstack.MDN("c@test.example", "bob@test.example", "alice@test.example", 3))
			sink.waitFor(t, "the recreated folder's two receipts", 30*time.Second, func(items []Item) bool {
				seen := map[string]bool{}
				for _, r := range reportsOf(items) {
					seen[r.OriginalMessageID] = true
				}
				return seen["b@test.example"] && seen["c@test.example"]
			})

			after, _ := sink.Checkpoint(context.Background(), "alice", "Reports")
			if after.UIDValidity == before.UIDValidity || after.LastUID != 2 {
				t.Errorf("checkpoint after recreate = %+v, before %+v: want a new UIDVALIDITY read up to UID 2", after, before)
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
			for k, n := range sink.applied {
				if n != 1 {
					t.Errorf("%s applied %d times, want once", k, n)
				}
			}
			sink.mu.Unlock()
		})
	}
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
