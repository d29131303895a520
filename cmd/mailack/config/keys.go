package config

import (
	"reflect"
	"strings"

	"github.com/agnivade/levenshtein"
)

// knownKeys returns, for each struct type of the configuration by its
// name as yaml.v3 reports it ("config.Log"), the keys it accepts.
func knownKeys() map[string][]string {
	keys := map[string][]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeFor[Secret]() || keys[t.String()] != nil {
			return
		}
		var names []string
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			names = append(names, name)
		}
		keys[t.String()] = names
		for f := range t.Fields() {
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Config]())
	return keys
}

// closest returns the known key nearest to name by edit distance, or ""
// when none is near enough to be a likely misspelling: at most two edits
// (a swap of two letters is two), and fewer than name has letters.
func closest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := levenshtein.ComputeDistance(strings.ToLower(name), k)
		if d < bestDist && d < len(name) {
			best, bestDist = k, d
		}
	}
	return best
}
