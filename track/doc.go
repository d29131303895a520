// Package track is mailack's tracking core: it decides what each recipient
// of a sent mail has done, which report belongs to which mail, when the
// sender should hear that nobody answered, and which notices are owed.
//
// The package is pure. Functions take values and the current time and
// return values and errors; there is no I/O, no logging and no clock. The
// store persists Mail, Evidence, Orphan and Notice values, the watchers feed
// reports, pixel fetches and chat actions in, and the chat side renders the
// Notices it is given.
//
// # Model
//
// A Mail has one Recipient per address. Every observation about a recipient
// is an Evidence: a DSN, an MDN, a pixel fetch, a chat acknowledgement. Its
// ID is derived from the observation itself (EvidenceID, PixelEvidenceID,
// ChatEvidenceID), so the same report read twice has the same ID. Each
// Evidence carries a Signal, the status it implies, and Apply raises the
// recipient's status to it.
//
// # Status lattice
//
// Statuses are ranked; a recipient's Best status is the highest-ranked
// signal of all its evidence, so it never moves down and the order in which
// evidence arrives does not change where a recipient ends up:
//
//	pending < delayed < relayed < failed < delivered < auto_acknowledged
//	        < away < opened_machine < opened < deleted_unread < read
//	        < declined < acknowledged < replied
//
// The choices behind the order:
//
//   - delayed, relayed and failed come before delivered. A delay followed
//     by delivery is a delivery; a delivery followed by a late delay is
//     recorded and changes nothing.
//   - failed outranks pending, delayed and relayed: a relay may hand the
//     mail on to a server that later bounces it.
//   - delivered outranks failed. A delivered DSN comes from the final
//     mailbox, so a later failure for the same address (a forwarding rule
//     bouncing, say) does not undo the delivery, and a failure followed by
//     a delivery means a retry got through.
//   - Everything from opened_machine up proves the mail arrived, so it
//     outranks failed too: a read receipt after a bounce means the mail was
//     read.
//   - opened_machine is a pixel fetch by a proxy or scanner (Evidence.Machine)
//     and is shown as "opened, possibly by a mail proxy"; a fetch by a person
//     (opened) outranks it.
//   - deleted_unread (MDN deleted) is a weak signal, but it comes from the
//     recipient's own mail program, so it outranks a pixel fetch. read (MDN
//     displayed) outranks it: the mail may be deleted on one device and
//     read on another.
//   - declined (MDN denied) is the recipient refusing a receipt, a deliberate
//     answer that outranks the automatic one; acknowledged, in chat, is a
//     deliberate answer too, and replied (an e-mail answer, by the
//     recipient or a colleague of the same domain) the most complete one.
//   - auto_acknowledged (a helpdesk's automatic answer) and away (an
//     out-of-office notice) prove delivery and no more; an out-of-office
//     notice that says when the person is back moves that recipient's
//     deadline instead (see answer.go).
//
// MDN dispositions that say nothing about reading (dispatched, processed,
// failed) still prove delivery and signal delivered; the DSN action
// expanded signals relayed.
//
// # No response
//
// no_response is not a rank but an overlay. A status is conclusive when it
// answers what the sender asked: failed, opened, deleted_unread, read,
// declined, acknowledged and replied always are; relayed, delivered,
// auto_acknowledged, away and opened_machine are when the mail asked for
// neither a read receipt nor a pixel. When a mail's deadline passes, Sweep puts every recipient whose
// Best is not conclusive under the overlay: its Status becomes no_response
// while Best keeps what is known. A later conclusive signal lifts the
// overlay; a later inconclusive one raises Best but the recipient is still
// shown as not answering.
//
// # Invariants
//
//   - Best never moves down the lattice; evidence of a lower rank is kept
//     by the store but changes nothing here.
//   - Apply is idempotent: applying evidence already reflected in the mail
//     changes nothing and issues nothing.
//   - Each recipient gets at most one notice per status (Recipient.Notified)
//     and exactly one no-response notice per deadline
//     (Recipient.NoResponseFor), however often Sweep runs.
//   - Evidence about the sender's own address (their own opens, receipts
//     from their own copy) is ignored, and the sender is never reminded
//     about themselves.
//   - Closed mails (done, stopped) have no deadline and get no notices;
//     evidence still updates their recipients.
//   - Notice.Key identifies a notice, so an outbox can drop duplicates.
//
// # Correlation
//
// Correlate ties a report to a mail by the original Message-ID, then the
// envelope ID, then the report's own threading headers, and only when the
// report quotes no ID, by subject, recipient and a window of time, marked
// ConfidenceLow. A report whose mail is not found becomes an Orphan; when
// the mail is registered later, AdoptOrphans applies it. An answer whose
// threading fields name no tracked mail becomes one too (AnswerOrphan), for
// at most AnswerOrphanMaxAge, and is adopted as an answer (AdoptedAnswer).
//
// # Ownership
//
// A tracked mail has one owner, its Sender as first registered: only the
// owner sees it, acts on it and hears about it. A Message-ID belongs to
// the first sender that registered it; a later registration of it by the
// same sender changes nothing, and one by another sender is refused with
// ErrOtherSender and neither shows nor moves the mail (OwnedBy). Reports
// speak only for the mail of the senders their mailbox may report on
// (ReportScope): the mailbox's owner, and whichever senders a shared
// report mailbox is configured for. A receipt delivered to Alice's inbox
// does not mark Bob's mail read; an orphan keeps its mailbox's scope until
// its mail is registered.
//
// # Deadlines
//
// A Calendar counts working time in a zone, on working days and hours,
// skipping public holidays (rickar/cal) and configured days off. Register
// arms the first deadline; Snooze moves it; Close disarms it; Sweep fires
// it once. A recipient's own later deadline (Recipient.DueAt, from an
// out-of-office notice) fires for that recipient alone; NextDue is the
// earliest deadline still to fire.
package track
