package store

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailack/mailack/store/etcdtest"
)

// testEtcd is the client of the embedded etcd while the tests run on
// etcd, nil while they run on bbolt files.
var testEtcd *clientv3.Client

// TestMain runs the package's tests twice: on bbolt files, then on a
// single-member etcd embedded in the process. MAILACK_STORE_TESTS=bbolt or
// =etcd runs one of the two.
func TestMain(m *testing.M) {
	flag.Parse()
	only := os.Getenv("MAILACK_STORE_TESTS")
	if os.Getenv(crashEnvDB) != "" {
		only = "bbolt" // the child of TestCrashConsistency writes a file
	}
	code := 0
	if only != "etcd" {
		code = m.Run()
	}
	if code == 0 && only != "bbolt" {
		code = runOnEtcd(m)
	}
	os.Exit(code)
}

func runOnEtcd(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mailack-etcd-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	c, err := etcdtest.Start(dir, 1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	cli, err := c.Client()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cli.Close()
	testEtcd = cli
	defer func() { testEtcd = nil }()
	fmt.Println("=== the store's tests on etcd")
	return m.Run()
}

// bboltOnly skips a test of what only the bbolt file has (the file, its
// lock, its mapping, its fixtures) in the run on etcd.
func bboltOnly(t testing.TB) {
	t.Helper()
	if testEtcd != nil {
		t.Skip("a property of the bbolt file")
	}
}

// openBackend opens the store of path: the bbolt file, or in the run on
// etcd the store under a prefix named after path.
func openBackend(path string, opts Options) (*Store, error) {
	if testEtcd == nil {
		return Open(path, opts)
	}
	return OpenEtcd(testEtcd, EtcdOptions{Prefix: "test" + strings.ReplaceAll(path, string(os.PathSeparator), "/") + "/"}, opts)
}
