package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mailack/mailack/track/report"
)

// OutboxAdded tells one store of the notices another store on the same
// etcd prefix (another node) puts in the outbox; on a bbolt file it is
// nil.
func TestOutboxAdded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	deliverer := openAt(t, path, Options{})
	added := deliverer.OutboxAdded(t.Context())
	if testEtcd == nil {
		if added != nil {
			t.Fatal("OutboxAdded on a bbolt file is not nil")
		}
		return
	}
	owner := openAt(t, path, Options{})
	register(t, owner, newMail(t, "w1@example.com", "alice@example.com", t0, "bob@example.net"), t0)
	select {
	case <-added:
		t.Fatal("told of an addition before any notice was queued")
	default:
	}
	apply(t, owner, t0, mdn("w1@example.com", "bob@example.net", report.DispositionDisplayed, "m@mx", t0))
	select {
	case <-added:
	case <-time.After(30 * time.Second):
		t.Fatal("not told within 30s of the notice another store queued")
	}
	if n := len(pending(t, deliverer)); n != 1 {
		t.Errorf("outbox holds %d, want the 1 notice", n)
	}
}
