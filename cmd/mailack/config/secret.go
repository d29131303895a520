package config

import (
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Secret is a password, token or key. In the file it is written as a
// reference to an environment variable, ${NAME}, or given through the
// sibling *_file key; Load resolves it. Its value never prints: String and
// LogValue redact it.
type Secret struct {
	ref     string // the environment variable named by ${NAME}
	literal bool   // the file held a literal value, which is refused
	line    int
	value   string
}

var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// UnmarshalYAML records the reference; Validate reports a literal value.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	s.line = n.Line
	if n.Kind != yaml.ScalarNode {
		s.literal = true
		return nil
	}
	m := envRef.FindStringSubmatch(strings.TrimSpace(n.Value))
	if m == nil {
		s.literal = n.Value != ""
		return nil
	}
	s.ref = m[1]
	return nil
}

// Value returns the secret.
func (s Secret) Value() string { return s.value }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s.value != "" }

// String redacts the secret.
func (s Secret) String() string {
	if s.value == "" {
		return "(unset)"
	}
	return "[redacted]"
}

// LogValue redacts the secret in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// NewSecret returns a secret holding v, for code that builds a Config.
func NewSecret(v string) Secret { return Secret{value: v} }

// secretProblem is what is wrong with a secret as configured.
type secretProblem struct {
	msg string
	// inFile: the problem is with the file the *_file key names.
	inFile bool
	// missing: the secret is configured well but has no value (the
	// variable is unset, the file cannot be read or is empty), which
	// matters only where the secret is needed.
	missing bool
}

// resolve fills the secret from its environment variable or file. key is
// the field's name, file the value of its *_file sibling. It returns the
// problem, if any; nothing configured is no problem.
func (s *Secret) resolve(key, file string, getenv func(string) string) (secretProblem, bool) {
	switch {
	case s.literal:
		return secretProblem{msg: fmt.Sprintf("%s: a literal secret is not accepted; write ${ENV_VAR} or use %s_file", key, key)}, true
	case s.ref != "" && file != "":
		return secretProblem{msg: fmt.Sprintf("%s: give either ${ENV_VAR} or %s_file, not both", key, key)}, true
	case s.ref != "":
		s.value = getenv(s.ref)
		if s.value == "" {
			return secretProblem{msg: fmt.Sprintf("%s: environment variable %s is not set", key, s.ref), missing: true}, true
		}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return secretProblem{msg: fmt.Sprintf("%s_file: %v", key, err), inFile: true, missing: true}, true
		}
		s.value = strings.TrimRight(string(b), "\r\n")
		if s.value == "" {
			return secretProblem{msg: fmt.Sprintf("%s_file: %s is empty", key, file), inFile: true, missing: true}, true
		}
	}
	return secretProblem{}, false
}
