package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/store/etcdtest"
	"github.com/mailack/mailack/track/report"
)

// BenchmarkApplyEngines applies reports, one transaction each, through the
// store on a bbolt file, on the single-member etcd of the test run and on
// a three-member etcd cluster, all on this machine, and prints reports
// applied per second with one writer and with 8 concurrent writers.
// Neither bbolt nor the etcd members sync to disk here, so the figures
// compare the engines, not the disks.
func BenchmarkApplyEngines(b *testing.B) {
	if testEtcd == nil {
		b.Skip("runs in the pass on etcd, next to a bbolt file")
	}
	dir := b.TempDir()
	three, err := etcdtest.Start(filepath.Join(dir, "etcd3"), 3)
	if err != nil {
		b.Fatal(err)
	}
	defer three.Close()
	cli3, err := three.Client()
	if err != nil {
		b.Fatal(err)
	}
	defer cli3.Close()
	const mails, perRun = 200, 400
	engines := []struct {
		name string
		open func() (*Store, error)
	}{
		{"bbolt file", func() (*Store, error) {
			return Open(filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())), Options{NoSync: true})
		}},
		{"etcd, 1 member", func() (*Store, error) {
			return OpenEtcd(testEtcd, EtcdOptions{Prefix: fmt.Sprintf("bench/%d/", time.Now().UnixNano())}, Options{})
		}},
		{"etcd, 3 members", func() (*Store, error) {
			return OpenEtcd(cli3, EtcdOptions{Prefix: fmt.Sprintf("bench/%d/", time.Now().UnixNano())}, Options{})
		}},
	}
	for b.Loop() {
		for _, eng := range engines {
			s, err := eng.open()
			if err != nil {
				b.Fatal(err)
			}
			for i := range mails {
				register(b, s, newMail(b, id(i), "alice@example.com", t0, "bob@example.net", "carol@example.net"), t0)
			}
			rate := func(writers int, tag string) float64 {
				start := time.Now()
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						for i := w; i < perRun; i += writers {
							r := dsn(id(i%mails), []string{"bob@example.net", "carol@example.net"}[i/mails%2], report.ActionDelivered,
								fmt.Sprintf("%s-%d@mta", tag, i), t0.Add(time.Minute))
							if _, err := s.ApplyReport(context.Background(), ApplyInput{Reports: []report.Report{r}, Now: t0.Add(time.Minute)}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				return perRun / time.Since(start).Seconds()
			}
			one, eight := rate(1, "one"), rate(8, "eight")
			fmt.Fprintf(os.Stdout, "apply on %-16s %7.0f reports/s with 1 writer, %7.0f with 8 writers (%d conflicts retried)\n",
				eng.name+":", one, eight, s.EtcdConflicts())
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEtcdScale copies the data set of BenchmarkStoreScale
// (MAILACK_BENCH_SCALE mails, default 10,000 here) from a bbolt file into
// the etcd member of the test run and into a three-member etcd cluster
// with CopyToEtcd, and prints the listing and the digest on the three
// stores.
func BenchmarkEtcdScale(b *testing.B) {
	if testEtcd == nil {
		b.Skip("runs in the pass on etcd, next to a bbolt file")
	}
	n := 10_000
	if v := os.Getenv("MAILACK_BENCH_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("MAILACK_BENCH_SCALE=%q: want a number of mails, at least 1000", v)
		}
	}
	path := benchDatabase(b, n)
	file, err := Open(path, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	three, err := etcdtest.Start(filepath.Join(b.TempDir(), "etcd3"), 3)
	if err != nil {
		b.Fatal(err)
	}
	defer three.Close()
	cli3, err := three.Client()
	if err != nil {
		b.Fatal(err)
	}
	defer cli3.Close()
	ctx := context.Background()
	type engine struct {
		name string
		s    *Store
	}
	engines := []engine{{"bbolt file", file}}
	for _, c := range []struct {
		name string
		cli  *clientv3.Client
	}{{"etcd, 1 member", testEtcd}, {"etcd, 3 members", cli3}} {
		prefix := fmt.Sprintf("bench/scale-%d/", time.Now().UnixNano())
		start := time.Now()
		keys, _, err := file.CopyToEtcd(ctx, c.cli, prefix)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("%d mails (%d keys) copied into %s and checked in %v\n", n, keys, c.name, time.Since(start).Round(time.Millisecond))
		s, err := OpenEtcd(c.cli, EtcdOptions{Prefix: prefix}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		engines = append(engines, engine{c.name, s})
	}
	for b.Loop() {
		for _, eng := range engines {
			f := benchFigures{mails: n}
			f.list(b, ctx, eng.s)
			f.digest(b, ctx, eng.s)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			fmt.Printf("  %-16s ListBySender p50 %.2f ms, max %.2f ms (%d mails); digest of the week %.2f ms (%d mails), whole backlog %.2f ms (%d mails)\n",
				eng.name+":", ms(f.listP50), ms(f.listMax), f.listed, ms(f.digestWeek), f.digestWeekMails, ms(f.digestAll), f.digestAllMails)
		}
	}
}
