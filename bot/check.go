package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"
)

// SlackCheck is what CheckSlack found: the workspace and bot the token
// belongs to, and a line for each channel the bot cannot post to.
type SlackCheck struct {
	Team, BotUser string
	Problems      []string
	Notes         []string // what needs no action
}

// CheckSlack asks Slack whether cfg's bot token is valid (auth.test) and
// whether the bot is a member of every digest and bounce-alert channel
// (conversations.info). It only reads: joining a public channel is left to
// the bot at start (CheckDigestChannels). An error means Slack could not
// be asked or refused the token; channel findings are in Problems.
func CheckSlack(ctx context.Context, cfg Config, hc *http.Client) (SlackCheck, error) {
	var out SlackCheck
	if hc == nil {
		hc = http.DefaultClient
	}
	api := slack.New(cfg.BotToken.Reveal(), slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(hc))
	who, err := api.AuthTestContext(ctx)
	if err != nil {
		return out, fmt.Errorf("auth.test: %w (check slack.bot_token: it starts with xoxb- and belongs to the installed app)", err)
	}
	out.Team, out.BotUser = who.Team, who.User
	seen := map[string]bool{}
	var channels []string
	for _, d := range cfg.Digests {
		channels = append(channels, d.Channel)
	}
	for _, a := range cfg.BounceAlerts {
		channels = append(channels, a.Channel)
	}
	for _, id := range channels {
		if seen[id] {
			continue
		}
		seen[id] = true
		ch, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		var se slack.SlackErrorResponse
		switch {
		case errors.As(err, &se) && se.Err == "channel_not_found":
			// A private channel the bot is not in looks like no channel
			// at all (https://docs.slack.dev/reference/methods/conversations.info).
			out.Problems = append(out.Problems, fmt.Sprintf("channel %s: not found, or private and the bot is not in it: invite it with /invite @%s in the channel", id, who.User))
		case err != nil:
			out.Problems = append(out.Problems, fmt.Sprintf("channel %s: conversations.info: %v", id, err))
		case ch.IsArchived:
			out.Problems = append(out.Problems, fmt.Sprintf("channel %s (#%s): archived: nothing can be posted to it", id, ch.Name))
		case !ch.IsMember && ch.IsPrivate:
			out.Problems = append(out.Problems, fmt.Sprintf("channel %s (#%s): private and the bot is not in it: invite it with /invite @%s", id, ch.Name, who.User))
		case !ch.IsMember:
			out.Notes = append(out.Notes, fmt.Sprintf("channel %s (#%s): the bot is not in it yet and joins it when it starts (scope channels:join)", id, ch.Name))
		}
	}
	return out, nil
}
