// Command mailack tells senders whether the e-mail they sent was delivered,
// read, bounced or ignored. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	// Time zones (Asia/Tokyo, America/New_York...) work on hosts and in
	// containers without a zoneinfo database.
	_ "time/tzdata"
)

// command is one subcommand of mailack.
type command struct {
	name    string
	usage   string // argument synopsis
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch: its streams and the environment. Tests
// run commands with buffers and a map.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// commands is the table of subcommands; help is generated from it.
var commands = []command{
	{name: "scan", usage: "[--json] PATH...", summary: "read report e-mails (.eml, folders, mbox, Maildir) and print what they say", run: runScan},
	{name: "demo", usage: "[--lang en|ja] [--pace DURATION]", summary: "see mailack work on this machine, with no credentials", run: runDemo},
	{name: "run", usage: "[--config] FILE", summary: "run the daemon (watchers, store, Slack bot, HTTP, relay)", run: runRun},
	{name: "backup", usage: "[--db FILE | --config FILE] DEST", summary: "write a consistent copy of the database", run: runBackup},
	{name: "export", usage: "--json [--db FILE | --config FILE]", summary: "print tracked mail and evidence as JSON", run: runExport},
	{name: "migrate", usage: "--to-etcd --config FILE [--db FILE]", summary: "copy the database file into the etcd cluster of store.etcd (cluster mode)", run: runMigrate},
	{name: "check-config", usage: "[--slack] FILE", summary: "check a configuration file and report every problem in it", run: runCheckConfig},
	{name: "pixel", usage: "--message-id ID [--recipient ADDR] [--base-url URL]", summary: "print the open-tracking pixel URL and <img> for a mail another program sends", run: runPixel},
	{name: "version", usage: "", summary: "print the version, the commit and the Go version mailack was built from", run: runVersion},
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // mailack was called wrongly
)

// errUsage marks an error that was caused by how mailack was called; the
// exit status is 2.
var errUsage = errors.New("usage")

// errUsageShown marks a usage error already printed, by package flag.
var errUsageShown = errors.New("usage error shown")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal the default handling returns, so a second
	// one ends the process at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs mailack with args and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printHelp(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printHelp(e.stdout)
		return exitOK
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsageShown):
			return exitUsage
		case errors.Is(err, errUsage):
			fmt.Fprintf(e.stderr, "mailack %s: %v\n", c.name, err)
			return exitUsage
		default:
			fmt.Fprintf(e.stderr, "mailack %s: %v\n", c.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(e.stderr, "mailack: unknown command %q\n\n", args[0])
	printHelp(e.stderr)
	return exitUsage
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "mailack tells senders whether their e-mail was delivered, read, bounced or ignored.")
	fmt.Fprintln(w, "\nUsage:\n  mailack COMMAND [options]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mailack COMMAND --help' for a command's options.")
	fmt.Fprintln(w, "Exit status: 0 done, 1 failed, 2 called wrongly (bad flag or argument).")
}

// newFlags returns a flag set for a command that prints its usage to e's
// stderr.
func newFlags(e *env, c string, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("mailack "+c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: %s\n\n%s\n", strings.TrimSpace("mailack "+c+" "+usage), summary)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(e.stderr, "\nOptions:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses a command's flags and checks that from min to max
// arguments follow them (max < 0: no limit); tooFew says what is missing.
// A bad flag has been printed, with the usage, by package flag.
func parseArgs(fs *flag.FlagSet, args []string, min, max int, tooFew string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w: %w", errUsage, errUsageShown, err)
	}
	switch n := fs.NArg(); {
	case max >= 0 && n > max:
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(max))
	case n < min:
		fs.Usage()
		return fmt.Errorf("%w: %s", errUsage, tooFew)
	}
	return nil
}
