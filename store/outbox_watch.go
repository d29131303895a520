package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// OutboxAdded returns a channel that receives, until ctx ends, each time
// notices were put in the outbox by any node sharing a store on etcd: in
// a cluster the node that delivers notices learns at once of those the
// owners of other mailboxes queued. It follows the outbox from the moment
// it is called; several additions may give one receive. With a bbolt
// file, where only this process writes, it returns nil (a channel that
// never receives).
func (s *Store) OutboxAdded(ctx context.Context) <-chan struct{} {
	if s.etcd == nil {
		return nil
	}
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	prefix := s.etcd.prefix + "b/" + string(bucketOutbox) + "/"
	// The revision now, so that no addition made once this returns is
	// missed while the watch is being set up.
	var rev int64
	if resp, err := s.etcd.cli.Get(ctx, s.etcd.commitKey(), clientv3.WithCountOnly()); err == nil {
		rev = resp.Header.Revision
	}
	go func() {
		for ctx.Err() == nil {
			opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithFilterDelete()}
			if rev > 0 {
				opts = append(opts, clientv3.WithRev(rev+1))
			}
			for wr := range s.etcd.cli.Watch(clientv3.WithRequireLeader(ctx), prefix, opts...) {
				if wr.Header.Revision > rev && wr.CompactRevision == 0 {
					rev = wr.Header.Revision
				}
				if len(wr.Events) > 0 {
					signal()
				}
			}
			// The watch ended early (a member without a leader, a
			// compacted revision): what happened meanwhile may have been
			// missed, so look at the outbox, and watch again from now.
			signal()
			rev = 0
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return out
}
