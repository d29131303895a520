package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "", "Prints mailack's version, the commit it was built from and the Go version.")
	if err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo() // nil in a binary built without module support
	printVersion(e.stdout, bi)
	return nil
}

// printVersion writes the version, the commit and the Go version from the
// build information the go command records in the binary (nil when there
// is none).
func printVersion(w io.Writer, bi *debug.BuildInfo) {
	version, goVersion := "unknown", runtime.Version()
	commit, modified, built := "unknown", "", ""
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified: uncommitted changes)"
				}
			case "vcs.time":
				built = s.Value
			}
		}
	}
	fmt.Fprintf(w, "mailack %s\n", version)
	fmt.Fprintf(w, "commit: %s%s\n", commit, modified)
	if built != "" {
		fmt.Fprintf(w, "commit time: %s\n", built)
	}
	fmt.Fprintf(w, "go: %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
}
