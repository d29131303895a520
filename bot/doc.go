// Package bot is mailack's Slack side: it renders tracking notices as
// status cards in each sender's direct messages, answers the /track
// command and the card buttons, publishes App Home and posts the channel
// digests.
//
// # Model
//
// The bot decides nothing about mail. Package track decides which notices
// are owed (one per recipient per status) and the store keeps them in its
// outbox; the bot only renders and delivers them, and turns what people
// do in Slack into calls on the store (snooze, close) or into evidence
// (a recipient pressing "Seen it" is track.ChatEvidence).
//
// Every tracked mail has at most one status card: a direct message to its
// sender, whose channel and timestamp the store keeps (Cards). The card is
// rendered from the mail as stored, never from the notice, so it is always
// current and any number of notices for one mail become a single
// chat.update. A notice the sender's notification level lets through also
// gets a short reply in the card's thread, so that Slack notifies them.
//
// # Delivery
//
// One writer per workspace drains the outbox (Run). Its Web API calls are
// paced by a token bucket. When a call fails the items of that mail stay in
// the outbox and are retried later: after Retry-After on HTTP 429 (the
// whole writer pauses, since the limit is the workspace's), after a capped
// exponential backoff on network and server errors, and after a day on
// errors Slack gives for the request itself, which an operator must look
// at. Nothing is removed from the outbox before it was delivered, so
// Slack being unreachable for an hour only delays the notices; delivery is
// at least once. An item is acknowledged right after its thread reply, so
// a failure half way through a mail does not repeat the replies already
// sent.
//
// # Identity and authorization
//
// A sender is the Slack user that users.lookupByEmail finds for the mail's
// From address (cached in the store; config overrides win). Every action
// reloads the mail named in the payload and checks on the server side that
// the acting user is its sender; a crafted payload naming somebody else's
// Message-ID is refused. Admins may look at anybody's mail but act only on
// their own. A "Seen it" press is accepted only from the Slack user of
// that recipient's address.
//
// # What Slack accepts
//
// Everything from outside (subjects, names, addresses, what a user typed)
// is escaped wherever Slack parses mrkdwn, including the top-level text of
// messages, so that it can neither mention anyone nor make a link, and is
// shortened on a grapheme boundary with an ellipsis. Every surface keeps
// within Block Kit's limits for any input: what does not fit is counted
// ("…and 12 more"), and a digest too long for one message is posted in
// several. Package slackfake checks this in the tests.
//
// A button pressed in App Home carries no response_url: its answer is
// shown at the top of App Home. The bot must be a member of a digest
// channel; it joins public ones at start and says how to invite it to a
// private one.
//
// # Slack's own controls
//
// App Home has tabs (Waiting, Answered, Closed, Settings), pages and,
// when a page would not fit a view, overflow menus; its settings are
// selects and time pickers checked as /track settings checks them. The
// "Track a sent mail" shortcut opens a modal whose external select
// searches the user's Sent folder: block_suggestion requests and the
// modal's validation errors are answered in the acknowledgement itself
// (in the HTTP response, or the Socket Mode ack's payload), everything
// else after it.
//
// # Transports
//
// Socket Mode is the default (Run connects with the app-level token);
// Handler serves the Events API, slash commands and interactivity over
// HTTP instead. Either way a request is acknowledged at once and the work
// continues in a goroutine that Run waits for. Over HTTP every request is
// verified (VerifySignature over the raw body, at most MaxRequestAge old)
// before anything is parsed, and Events API retries are recognised by
// their event_id and dropped.
//
// # Languages
//
// Every sentence comes from one catalogue per language (English and
// Japanese). A user's language is their own setting, else their Slack
// locale, else the configured default; times are shown in their Slack
// time zone.
package bot
