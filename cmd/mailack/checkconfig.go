package main

import (
	"context"
	"fmt"

	"github.com/mailack/mailack/cmd/mailack/config"
)

func runCheckConfig(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "check-config", "FILE", "Reads a configuration file and reports every problem in it, with its line.\n"+
		"Secrets are resolved from the environment and files, so run it where mailack runs.")
	if err := parseArgs(fs, args, 1, 1, "give exactly one FILE"); err != nil {
		return err
	}
	cfg, err := config.Load(fs.Arg(0), e.getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d account(s); slack %s; pixel %s; relay %s)\n", fs.Arg(0), len(cfg.Accounts),
		onOff(cfg.Slack.Enabled), onOff(cfg.Pixel.Enabled), onOff(cfg.Relay.Enabled))
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
