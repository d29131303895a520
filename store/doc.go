// Package store is mailack's memory: the tracked mails, every piece of
// evidence about them, the reports not matched yet, how far each mailbox
// has been read, the notices still owed to chat, and a few chat-side
// caches, all in one bbolt file. It persists the domain types of package
// track and leaves every decision to it: correlation, status rules,
// deadlines and notices are track's, the store only makes them durable and
// atomic. So are the ownership rules (track.OwnedBy, track.ReportScope):
// RegisterMail refuses a Message-ID tracked for another sender, and
// ApplyReport refuses a report about mail its mailbox may not report on
// and stores nothing of it.
//
// # Engines
//
// The rules reach the data only through kvTx (buckets of ordered keys,
// cursors, one read-write transaction that commits entirely or not at
// all), which two engines implement: a bbolt file (Open), whose layout is
// described below, and an etcd cluster (OpenEtcd), where each bucket is a
// key prefix and a write transaction commits in one etcd Txn only if no
// other write committed since its snapshot (see kv_etcd.go). What follows
// about bbolt transactions holds for etcd transactions alike.
//
// # Transactions and crashes
//
// Each write method is one bbolt transaction, and bbolt commits a
// transaction entirely or not at all. ApplyReport reads the report's mail,
// correlates it (track.Correlate, over the same transaction), applies the
// evidence (track.Apply), appends the evidence, stores the mail and its
// index entries, puts the notices in the outbox or keeps the report as an
// orphan, and advances the mailbox checkpoint, all in that one
// transaction. RegisterMail stores a mail, adopts its orphans and advances
// the checkpoint of the Sent folder the same way.
//
// After a crash at any point, either all of a message's effects are stored
// with the checkpoint after it, or none are and the checkpoint still points
// before it; the reader resumes at the checkpoint and processes the message
// again. Evidence IDs derive from the reports themselves (track.EvidenceID),
// so a message read again (after a crash, a UIDVALIDITY change, or from a
// second mailbox) is recognised and changes nothing: its evidence is found
// under the mail its Message-ID names, or, when it was tied to its mail by
// envelope ID, threading headers or subject (which may tie it elsewhere
// once more mails are tracked), in evidence_ids, or among the orphans. A
// report is therefore never lost and never counted twice.
//
// Long operations (SweepDue, Purge, ExpireOrphans) work a chunk of mails
// per transaction; each chunk is consistent, and one interrupted is run
// again, which is harmless because a spent deadline, a purged mail or an
// expired orphan is no longer in the index that found it.
//
// Concurrent writers share transactions (group commit): a write with no
// other in flight commits alone and at once, and the writes that arrive
// while a transaction commits share the next one, which multiplies
// throughput, since a commit's fsyncs cost the same for one write as for
// a hundred. Each write still commits whole or not at all: a write
// function may run again if another in its group fails, so every write
// function computes its results afresh from the transaction.
//
// Notices leave the outbox when Ack is called after delivery. A crash
// between delivery and Ack delivers the notice again: delivery is at least
// once. A store opened with Options.NoOutbox, where nothing delivers,
// queues none.
//
// # Layout
//
// Keys join parts with NUL bytes, which no stored ID may contain; times in
// keys are 8 big-endian bytes that sort as the times do. Records are compact
// JSON with short field names fixed by this package (see codec.go), so the
// format does not follow renames in package track.
//
//	meta            "schema" → version (8 bytes, big-endian)
//	mails           messageID → mail, and right after it
//	                messageID \x00 evidenceID → evidence (append-only)
//	evidence_ids    evidenceID → messageID, for evidence not tied to its
//	                mail by Message-ID
//	by_sender       sender \x00 SentAt messageID → state
//	by_due          wake-up messageID → (mails with an armed deadline or
//	                a card to draw again when an away recipient is back:
//	                the earlier of track.NextDue and track.NextRedraw;
//	                lazy, see below)
//	by_closed       ClosedAt messageID → (done and stopped mails)
//	by_envelope     envelopeID \x00 messageID →
//	by_subject      address \x00 subject-hash SentAt messageID →
//	awaiting        SentAt messageID → sender, subject, recipients waited
//	                for (open mails not answered by every recipient)
//	orphans         evidenceID → orphan (evidence, correlation keys and the
//	                mailbox it was read from)
//	orphans_by_key  kind \x00 value \x00 evidenceID → (m Message-ID,
//	                e envelope ID, t thread ID, s address \x00 subject-hash)
//	orphans_by_age  Received evidenceID →
//	checkpoints     account \x00 folder → UIDVALIDITY, last UID, MODSEQ
//	outbox          sequence (8 bytes) → notice, attempts, next try
//	outbox_keys     notice key → sequence
//	slack_refs      messageID → channel, message timestamp
//	slack_users     address → chat user ID, fetched at
//	quarantine      sequence (8 bytes) → mailbox, UID, size, reason, head
//	user_settings   chat user ID → the chat side's settings (opaque JSON)
//
// A mail's evidence follows its record in the mails bucket, so that
// applying a report rewrites one leaf page for both; keys without a NUL
// byte are mails. by_sender lists a sender's mails newest first and filters them by state
// without loading them; by_due makes the deadline sweep (and its redraws), by_closed the
// retention purge, by_subject the last-resort correlation and awaiting the
// digest range scans; awaiting's entries carry what a digest shows, so the
// digest loads no mail. by_subject holds every recipient address and its plus-address base; the
// subject hash is of track.NormalizeSubject's result.
//
// by_due is lazy: a mail's old wake-up stays when a report, a snooze, a
// close, a purge or the sweep itself moves or ends its wait, and the sweep
// deletes it when it gets there and finds the mail waking at another time,
// not at all, or gone. Most reports
// end a wait, and the entry they would delete sits wherever its deadline
// falls, so deleting it at once wrote one more page per report; the sweep
// deletes stale entries in time order, many to a page.
//
// Check verifies that every index entry names an existing record and is
// the entry that record implies (by_due may also hold stale entries), and
// that every record has all its entries.
//
// # Memory
//
// bbolt reads the file through a shared, read-only mapping, which it
// advises for random access, so a page read from the disk brings no
// read-ahead. Pages once read stay mapped, and count in the process's
// resident set, until the kernel reclaims them, and the kernel maps more
// than the page read: the cached pages around it, or the whole large
// folio holding it when the file came into the page cache by a copy or a
// read() (a backup, for one). The store keeps this bounded: after a
// transaction that leaves more of the process's file pages resident than
// Options.MappedLimit, it unmaps the whole file (MADV_DONTNEED, Linux
// only). The mapping is shared and read-only, so this changes no data a
// reader sees; the pages stay in the page cache, the kernel's shared and
// reclaimable memory, and reading them again costs a minor fault, not a
// disk read. A single long read transaction (Export, Check, a migration)
// still maps all it reads until it ends.
//
// # Schema
//
// The meta bucket holds the schema version. Open refuses a file written by
// a newer program (ErrNewerSchema) and upgrades an older one by running the
// missing migrations in order, in the same transaction, so an upgrade is
// also all or nothing. testdata/ holds frozen databases of past versions
// that the tests upgrade. Version 2 added awaiting; version 3 moved the
// evidence from its own bucket next to the mails, which halved the pages a
// report rewrites; version 4 encodes awaiting's values in binary (each
// string after its length as a uvarint), which made the digest of 37,000
// mails three times faster than with JSON; version 5 added user_settings;
// version 6 made by_due lazy, which changes no record but keeps older
// programs, which would take a stale entry for a corrupt one, from
// opening the file.
//
// New files have 16 KiB pages (Options.PageSize); a file keeps the page
// size it was created with.
//
// OpenReadOnly, for tools that only read (export, backup), never creates,
// initialises or migrates a file: it refuses one that does not exist, one
// of an older schema (ErrOldSchema: the daemon's Open upgrades it) and one
// of a newer schema, and it waits on the file lock while a writer holds
// it.
package store
