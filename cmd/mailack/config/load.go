package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	Line int    // 0 when the problem has no place in the file
	Path string // e.g. accounts[0].port
	Msg  string
}

// Error lists every problem found in a configuration file.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s):", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "%s:%d: ", e.File, p.Line)
		} else {
			fmt.Fprintf(&b, "%s: ", e.File)
		}
		if p.Path != "" {
			b.WriteString(p.Path + ": ")
		}
		b.WriteString(p.Msg)
	}
	return b.String()
}

// Load reads the configuration file at path, lays it over Defaults,
// resolves the secrets with getenv (os.Getenv when nil) and validates it.
// A returned *Error lists every problem.
func Load(path string, getenv func(string) string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, b, getenv)
}

// Parse is Load for a file's contents; name is used in messages.
func Parse(name string, data []byte, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := Defaults()
	v := &validator{lines: map[string]int{}, meant: map[string]bool{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, &Error{File: name, Problems: []Problem{{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	indexLines(&root, "", v.lines)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return Config{}, &Error{File: name, Problems: []Problem{{Msg: err.Error()}}}
		}
		known := knownKeys()
		for _, msg := range te.Errors {
			p, meant := typeProblem(msg, known)
			v.problems = append(v.problems, p)
			if meant != "" {
				v.meant[meant] = true
			}
		}
	}
	for i := range cfg.Accounts {
		cfg.Accounts[i].setDefaults()
	}
	v.resolveSecrets(&cfg, getenv)
	v.validate(&cfg)
	if len(v.problems) > 0 {
		sort.SliceStable(v.problems, func(i, j int) bool { return v.problems[i].Line < v.problems[j].Line })
		return cfg, &Error{File: name, Problems: v.problems}
	}
	return cfg, nil
}

// typeProblem turns a yaml.v3 decoding message ("line 3: field x not found
// in type config.Log") into a Problem with a plainer message. An unknown
// key is given with the known key of its section it is likely a misspelling
// of, which is also returned; known lists the keys of each section by type
// name. A misspelt section is one problem: its contents are not read.
func typeProblem(msg string, known map[string][]string) (p Problem, meant string) {
	p = Problem{Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				p.Line, p.Msg = n, text
			}
		}
	}
	if f, ok := strings.CutPrefix(p.Msg, "field "); ok {
		if name, typ, ok := strings.Cut(f, " not found in type "); ok {
			p.Msg = fmt.Sprintf("unknown key %q", name)
			if meant = closest(name, known[typ]); meant != "" {
				p.Msg += fmt.Sprintf(" (did you mean %q?)", meant)
			}
		}
	}
	p.Msg = strings.ReplaceAll(p.Msg, "time.Duration", "a duration such as 48h or 90s")
	return p, meant
}

// indexLines records the line of every key, by path.
func indexLines(n *yaml.Node, path string, lines map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexLines(c, path, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			lines[p] = n.Content[i].Line
			indexLines(n.Content[i+1], p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			lines[p] = c.Line
			indexLines(c, p, lines)
		}
	}
}
