package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/cmd/mailack/config"
)

func runCheckConfig(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "check-config", "[--slack] FILE", "Reads a configuration file and reports every problem in it, with its line.\n"+
		"Secrets are resolved from the environment and files, so run it where mailack runs.\n"+
		"With --slack it also asks Slack whether the bot token is valid and whether the bot\n"+
		"can post to every digest and bounce-alert channel; it changes nothing there.")
	askSlack := fs.Bool("slack", false, "also check the bot token and the channels with Slack (auth.test, conversations.info)")
	if err := parseArgs(fs, args, 1, 1, "give exactly one FILE"); err != nil {
		return err
	}
	cfg, err := config.Load(fs.Arg(0), e.getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d account(s); slack %s; pixel %s; relay %s)\n", fs.Arg(0), len(cfg.Accounts),
		onOff(cfg.Slack.Enabled), onOff(cfg.Pixel.Enabled), onOff(cfg.Relay.Enabled))
	if !*askSlack {
		return nil
	}
	if !cfg.Slack.Enabled {
		return fmt.Errorf("%s: --slack: slack is off in this configuration", fs.Arg(0))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := bot.CheckSlack(ctx, botConfig(cfg), nil)
	if err != nil {
		return fmt.Errorf("%s: slack: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(e.stdout, "slack: the token is the bot @%s in workspace %s\n", res.BotUser, res.Team)
	for _, n := range res.Notes {
		fmt.Fprintf(e.stdout, "slack: %s\n", n)
	}
	if len(res.Problems) > 0 {
		var errs []error
		for _, p := range res.Problems {
			errs = append(errs, errors.New("slack: "+p))
		}
		return fmt.Errorf("%s: %d problem(s):\n%w", fs.Arg(0), len(res.Problems), errors.Join(errs...))
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
