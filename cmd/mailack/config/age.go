package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Age is a span of time written in days ("30d") or as a Go duration
// ("720h"), for settings measured in days.
type Age time.Duration

// UnmarshalYAML reads "30d", "720h" or 0.
func (a *Age) UnmarshalYAML(n *yaml.Node) error {
	d, err := parseAge(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a span of time such as 30d or 720h", n.Line, n.Value)}}
	}
	*a = Age(d)
	return nil
}

func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// SinceAge returns the account's bound on the first read: its own since, or
// watch.since.
func (a Account) SinceAge(w Watch) time.Duration {
	if a.Since != nil {
		return time.Duration(*a.Since)
	}
	return time.Duration(w.Since)
}

// ConnectionCap returns how many connections the account may open at
// once: its own max_connections, or watch.max_connections_per_account;
// 0 means no cap.
func (a Account) ConnectionCap(w Watch) int {
	if a.MaxConnections > 0 {
		return a.MaxConnections
	}
	return w.MaxConnectionsPerAccount
}
