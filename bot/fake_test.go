package bot_test

import "github.com/mailack/mailack/bot/slackfake"

// The bot's tests talk to the strict Slack fake; these names keep them
// short.
type (
	call      = slackfake.Call
	failure   = slackfake.Failure
	fakeUser  = slackfake.User
	fakeSlack = slackfake.Server
)

func newFakeSlack(users ...fakeUser) *fakeSlack { return slackfake.New(users...) }

// method matches successful calls of one Web API method whose text has
// every one of words.
func method(name string, words ...string) func(call) bool { return slackfake.Method(name, words...) }
