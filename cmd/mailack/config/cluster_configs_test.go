package config

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var clusterDir = filepath.Join("..", "..", "..", "configs", "cluster")

// composeFile is what TestClusterConfigs reads of configs/cluster/compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Hostname    string            `yaml:"hostname"`
		Command     []string          `yaml:"command"`
		Restart     string            `yaml:"restart"`
		EnvFile     string            `yaml:"env_file"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   []string          `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestClusterConfigs loads the cluster example with the configuration
// loader, and checks that the compose file runs three etcd members that
// form one cluster with the limits the store needs, and three mailack
// nodes with unique names that reach every member the configuration names.
func TestClusterConfigs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(clusterDir, "mailack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("mailack.yaml", data, env(map[string]string{
		"MAILACK_IMAP_PASSWORD": "p", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "MAILACK_ADMIN_TOKEN": strings.Repeat("a", 32),
	}))
	if err != nil {
		t.Fatalf("cluster config: %v", err)
	}
	e := cfg.Store.Etcd
	if e == nil || len(e.Endpoints) != 3 || e.Node != "" {
		t.Fatalf("store.etcd = %+v; want three endpoints and the node named by its host", e)
	}

	data, err = os.ReadFile(filepath.Join(clusterDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	var members, clientURLs, initial, hosts []string
	for name, s := range cf.Services {
		switch {
		case strings.HasPrefix(name, "etcd"):
			env := s.Environment
			members = append(members, env["ETCD_NAME"]+"="+env["ETCD_INITIAL_ADVERTISE_PEER_URLS"])
			clientURLs = append(clientURLs, env["ETCD_ADVERTISE_CLIENT_URLS"])
			initial = append(initial, env["ETCD_INITIAL_CLUSTER"])
			if n, _ := strconv.Atoi(env["ETCD_MAX_TXN_OPS"]); n <= 128 {
				t.Errorf("%s: ETCD_MAX_TXN_OPS %q, want above etcd's default 128", name, env["ETCD_MAX_TXN_OPS"])
			}
			if _, declared := cf.Volumes[name+"-data"]; env["ETCD_NAME"] != name || s.Hostname != name || !declared ||
				!slices.Equal(s.Volumes, []string{name + "-data:" + env["ETCD_DATA_DIR"]}) {
				t.Errorf("%s: name %q, host %q, volumes %v; want its own name, host and data volume", name, env["ETCD_NAME"], s.Hostname, s.Volumes)
			}
		case strings.HasPrefix(name, "mailack"):
			hosts = append(hosts, s.Hostname)
			if !slices.Equal(s.Command, []string{"run", "--config", "/etc/mailack/mailack.yaml"}) || !slices.Contains(s.Volumes, "./mailack.yaml:/etc/mailack/mailack.yaml:ro") {
				t.Errorf("%s: command %v, volumes %v; want run with ./mailack.yaml", name, s.Command, s.Volumes)
			}
			// A node that lost its lease exits: it must be restarted.
			if s.Restart != "unless-stopped" && s.Restart != "always" || s.EnvFile == "" || len(s.DependsOn) != 3 {
				t.Errorf("%s: restart %q, env_file %q, depends_on %v", name, s.Restart, s.EnvFile, s.DependsOn)
			}
		default:
			t.Errorf("unexpected service %s", name)
		}
	}
	slices.Sort(members)
	slices.Sort(clientURLs)
	if want := strings.Join(members, ","); len(members) != 3 || slices.ContainsFunc(initial, func(s string) bool { return s != want }) {
		t.Errorf("ETCD_INITIAL_CLUSTER = %v, want each %s", initial, want)
	}
	if eps := slices.Sorted(slices.Values(e.Endpoints)); !slices.Equal(eps, clientURLs) {
		t.Errorf("store.etcd.endpoints = %v, want the members' client URLs %v", eps, clientURLs)
	}
	slices.Sort(hosts)
	if len(slices.Compact(slices.Clone(hosts))) != 3 || slices.Contains(hosts, "") {
		t.Errorf("mailack host names = %v, want three distinct (each node's name in the cluster)", hosts)
	}
}
