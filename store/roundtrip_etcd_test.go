package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"

	"github.com/mailack/mailack/track/report"
)

// countingStore opens a store on a fresh prefix of the test run's etcd
// through a client that counts its requests.
func countingStore(t *testing.T) (*Store, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	count := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		n.Add(1)
		return invoke(ctx, method, req, reply, cc, opts...)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: testEtcd.Endpoints(), DialTimeout: 10 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithUnaryInterceptor(count)}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenEtcd(cli, EtcdOptions{Prefix: fmt.Sprintf("test/roundtrips-%d/", time.Now().UnixNano()), CloseClient: true}, Options{})
	if err != nil {
		cli.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &n
}

// TestEtcdRoundTrips counts the requests the store makes to etcd: applying
// a report with its checkpoint reads what it needs in one batch, and a
// listing loads its mails in batches, not one request a mail.
func TestEtcdRoundTrips(t *testing.T) {
	if testEtcd == nil {
		t.Skip("counts requests to etcd")
	}
	s, n := countingStore(t)
	const mails = 150
	for i := range mails {
		register(t, s, newMail(t, id(i), "alice@example.com", t0.Add(time.Duration(i)*time.Minute), "bob@example.net"), t0)
	}
	for i := range 3 {
		n.Store(0)
		cp := Checkpoint{Account: "alice", Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1)}
		r := dsn(id(i), "bob@example.net", report.ActionDelivered, fmt.Sprintf("rt-%d@mta", i), t0.Add(time.Hour))
		res, err := s.ApplyReport(t.Context(), ApplyInput{Reports: []report.Report{r}, Now: t0.Add(time.Hour), Checkpoint: &cp})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Notices) == 0 {
			t.Fatalf("report %d: no notice; the count would leave the outbox out", i)
		}
		// Begin, the batch (checkpoint, evidence records, mail), the
		// outbox key of the notice, commit.
		if got := n.Load(); got > 4 {
			t.Errorf("report %d applied with %d requests, want at most 4", i, got)
		}
	}
	n.Store(0)
	ms, err := s.ListBySender(t.Context(), "alice@example.com", ListFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != mails {
		t.Fatalf("listed %d mails, want %d", len(ms), mails)
	}
	// Begin, the sender's part of the index (one descending page), the
	// mails in batches of etcdBatchGets.
	if got, want := n.Load(), int64(1+1+(mails+etcdBatchGets-1)/etcdBatchGets); got > want {
		t.Errorf("listed %d mails with %d requests, want at most %d", mails, got, want)
	}
}
