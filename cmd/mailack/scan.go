package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/mailack/mailack/mailwatch/mailfile"
	"github.com/mailack/mailack/track/report"
)

// scanRecord is one line of `mailack scan --json`. The field names are a
// contract that other tools read: add fields, never rename or remove them.
type scanRecord struct {
	File              string `json:"file"`
	Index             int    `json:"index,omitempty"`
	Kind              string `json:"kind"`
	OriginalMessageID string `json:"original_message_id"`
	EnvelopeID        string `json:"envelope_id"`
	Recipient         string `json:"recipient"`
	OriginalRecipient string `json:"original_recipient,omitempty"`
	SuggestedAddress  string `json:"suggested_address,omitempty"`
	Action            string `json:"action"`
	Status            string `json:"status"`
	ReplyCode         string `json:"reply_code"`
	Disposition       string `json:"disposition"`
	Reason            string `json:"reason"`
	Diagnostic        string `json:"diagnostic"`
	RemoteMTA         string `json:"remote_mta"`
	ReportMessageID   string `json:"report_message_id"`
	Date              string `json:"date"`
	AutoReply         string `json:"auto_reply"`
	AwayUntil         string `json:"away_until"`
	Error             string `json:"error,omitempty"`
}

func runScan(ctx context.Context, e *env, args []string) error {
	const usage = "[--json] PATH..."
	fs := newFlags(e, "scan", usage, "Reads report e-mails and prints one line per recipient each reports on.\n"+
		"PATH is an .eml file, a folder of them, an mbox file or a Maildir.")
	asJSON := fs.Bool("json", false, "print JSON Lines, one object per recipient report")
	if err := parseArgs(fs, args, 1, -1, "no PATH given"); err != nil {
		return err
	}
	out := newScanWriter(e.stdout, *asJSON)
	for _, path := range fs.Args() {
		err := mailfile.Walk(path, func(m mailfile.Message, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			for _, r := range scanMessage(m, err) {
				if werr := out.write(r); werr != nil {
					return werr
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return out.flush()
}

// scanMessage turns one message into its scan records: one per report, one
// of kind none for a message that is no report, one of kind error for a
// message that cannot be read.
func scanMessage(m mailfile.Message, readErr error) []scanRecord {
	base := scanRecord{File: m.Path, Index: m.Index}
	if readErr != nil {
		base.Kind, base.Error = "error", readErr.Error()
		return []scanRecord{base}
	}
	reports, err := report.Parse(m.Raw)
	if err != nil {
		base.Kind, base.Error = "error", err.Error()
		return []scanRecord{base}
	}
	if len(reports) == 0 {
		base.Kind = string(report.KindNone)
		return []scanRecord{base}
	}
	out := make([]scanRecord, 0, len(reports))
	for _, r := range reports {
		rec := base
		rec.Kind = string(r.Kind)
		rec.OriginalMessageID = r.OriginalMessageID
		rec.EnvelopeID = r.EnvelopeID
		rec.Recipient = r.Recipient
		rec.OriginalRecipient = r.OriginalRecipient
		rec.SuggestedAddress = r.SuggestedAddress
		rec.Action = string(r.Action)
		rec.Status = r.ImpliedStatus()
		rec.ReplyCode = r.ReplyCode
		rec.Disposition = string(r.Disposition)
		rec.Reason = string(r.Reason)
		rec.Diagnostic = r.Diagnostic
		rec.RemoteMTA = r.RemoteMTA
		rec.ReportMessageID = r.ReportMessageID
		if !r.Date.IsZero() {
			rec.Date = r.Date.UTC().Format(time.RFC3339)
		}
		rec.AutoReply = string(r.AutoReply)
		if !r.AwayUntil.IsZero() {
			rec.AwayUntil = r.AwayUntil.Format(time.DateOnly)
		}
		out = append(out, rec)
	}
	return out
}

// scanWriter prints scan records as JSON Lines or as a table.
type scanWriter struct {
	enc *json.Encoder
	tw  *tabwriter.Writer
}

func newScanWriter(w io.Writer, asJSON bool) *scanWriter {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return &scanWriter{enc: enc}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tKIND\tRECIPIENT\tRESULT\tSTATUS\tREASON\tORIGINAL MESSAGE-ID")
	return &scanWriter{tw: tw}
}

func (s *scanWriter) write(r scanRecord) error {
	if s.enc != nil {
		return s.enc.Encode(r)
	}
	file := r.File
	if r.Index > 0 {
		file = fmt.Sprintf("%s#%d", r.File, r.Index)
	}
	result := r.Action + r.Disposition + r.AutoReply
	if r.AwayUntil != "" {
		result += " until " + r.AwayUntil
	}
	if r.Kind == "error" {
		result = r.Error
	}
	_, err := fmt.Fprintf(s.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", file, r.Kind, dash(r.Recipient), dash(result), dash(r.Status), dash(r.Reason), dash(r.OriginalMessageID))
	return err
}

func (s *scanWriter) flush() error {
	if s.tw != nil {
		return s.tw.Flush()
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
