// Package mailwatch reads mail: it watches IMAP mailboxes for sent mail to
// track and for incoming delivery reports, read receipts, replies and
// automatic replies, and reads stored messages from files (sub-package
// mailfile).
//
// Every new message is first read by a few header fields. A message is
// fetched whole only when those fields say it may be a report
// (report.Likely) or it is an automatic reply to a tracked mail (Options.
// Answers); a reply to a tracked mail is read from its header alone. When
// a report folder is read in windows of many messages (a catch-up) and the
// server declares RFC 5255 searching (I18NLEVEL), the server first finds
// the messages whose header may matter (report.SearchTerms, a superset),
// and only their fields are fetched: the framing of a FETCH answer for
// each message otherwise outweighs the fields.
//
// Authentication is by password or by OAuth 2.0 over SASL XOAUTH2, the only
// mechanism Microsoft 365 and Gmail accept for IMAP; tokens come from a
// golang.org/x/oauth2 token source, which caches and refreshes them.
//
// Each watched folder has its own connection and goroutine (IDLE watches
// one selected folder; Dovecot offers NOTIFY, RFC 5465, for several, but
// go-imap can neither send it nor pass on the unsolicited STATUS it
// brings). A folder whose session fails reconnects after a random wait
// below a doubling ceiling (full jitter); every connection first waits
// for one of the account's connection slots (Account.MaxConnections) and
// then for a global login slot (Options.MaxConcurrentLogins), so a server
// restart under thousands of folders brings a bounded stream of logins.
//
// A folder deleted and recreated while selected is found by selecting it
// again: at once when the server sends an untagged NO (Dovecot 2.3 keeps
// the old folder's view and answers "* NO Internal error"), at most every
// 5 s, and otherwise every Options.IdleRestart. A new UIDVALIDITY reads
// the folder from the start; a folder that is gone fails the SELECT and the
// session reconnects with backoff.
package mailwatch
