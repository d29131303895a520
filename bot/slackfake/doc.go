// Package slackfake is a strict fake of the Slack Web API for tests: an
// http.Handler, served with httptest, that answers the methods mailack
// calls as Slack does, records every call and fails on demand.
//
// # Strictness
//
// The fake refuses what Slack refuses, with Slack's own error codes:
// Block Kit payloads that break a documented rule (invalid_blocks,
// invalid_arguments, msg_too_long, msg_blocks_too_long, no_text), posts to
// channels the bot is not in (not_in_channel, channel_not_found), calls
// without the scope they need (missing_scope), calls over a method's rate
// limit tier (HTTP 429 ratelimited with Retry-After), a trigger_id used
// after three seconds or twice (expired_trigger_id, exchanged_trigger_id)
// and a response_url used after 30 minutes or more than five times. Each
// rule cites the page of Slack's documentation it comes from; the few
// that come from Slack's observed behaviour say so.
//
// Views are checked as views.publish, views.open and views.update take
// them: input blocks and the elements they hold (selects whose
// initial_option must be one of their options, external selects, date,
// time and datetime pickers, radio buttons, plain-text inputs), overflow
// menus, and a views.update must name a modal the bot opened, with its
// latest hash (not_found, hash_conflict). CheckOptions and
// CheckSubmissionResponse check what the bot answers to a block_suggestion
// and a view_submission in the acknowledgement itself.
//
// Where Slack only warns (a message with blocks but no top-level text) the
// fake answers ok with the warning, as Slack does, and records the breach.
//
// # Use in tests
//
// Serve registers a check at the end of the test: any call the fake
// refused or warned about for its payload fails the test, unless the test
// declared it expected with ExpectInvalid. So a test that does not look at
// Slack's answers still fails when the bot sends something Slack rejects.
package slackfake
