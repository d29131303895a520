// Package mailwatch reads mail: it watches IMAP mailboxes for sent mail to
// track and for incoming delivery reports and read receipts, and reads
// stored messages from files (sub-package mailfile).
//
// Authentication is by password or by OAuth 2.0 over SASL XOAUTH2, the only
// mechanism Microsoft 365 and Gmail accept for IMAP; tokens come from a
// golang.org/x/oauth2 token source, which caches and refreshes them.
package mailwatch
