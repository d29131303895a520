package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

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
