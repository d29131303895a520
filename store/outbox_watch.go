package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// OutboxAdded returns a channel that receives, until ctx ends, each time
// notices were put in the outbox by any node sharing a store on etcd: in
// a cluster the node that delivers notices learns at once of those the
// owners of other mailboxes queued. Several additions may give one
// receive. With a bbolt file, where only this process writes, it returns
// nil (a channel that never receives).
func (s *Store) OutboxAdded(ctx context.Context) <-chan struct{} {
	if s.etcd == nil {
		return nil
	}
	out := make(chan struct{}, 1)
	prefix := s.etcd.prefix + "b/" + string(bucketOutbox) + "/"
	go func() {
		for ctx.Err() == nil {
			for wr := range s.etcd.cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithFilterDelete()) {
				if len(wr.Events) == 0 {
					continue
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
			// The watch ended early (a member without a leader, a compacted
			// revision): start it again; the deliverer's own poll covers
			// what happened in between.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return out
}
