package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mailack/mailack/bot"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

// scenario is the demo's day: four mails go out, and the answers, the
// silences and a deadline follow, each shown as the bot posts it.
func (d *demo) scenario(ctx context.Context) error {
	fmt.Fprintln(d.out, "mailack demo: one working day of Ichiro Tanaka (tanaka@demo.example), in accelerated time.")
	fmt.Fprintln(d.out, "Everything below runs for real on this machine: an IMAP server, the mail watcher, the report reader,")
	fmt.Fprintln(d.out, "the store, the deadline sweep, the pixel endpoint and the Slack bot; only Slack itself is local.")
	quote, proposal, meeting, contract := demoMails[0], demoMails[1], demoMails[2], demoMails[3]
	steps := []struct {
		day, h, m int
		say       string
		do        func() error
	}{
		{24, 9, 0, "Tanaka sends 「見積書の件」 to Sato and Suzuki of Partner Corp, with a read receipt request (開封確認).",
			func() error { return d.send(quote) }},
		{24, 9, 5, "He sends \"Proposal for Q1\" to Bob at Fabrikam, also asking for a receipt.",
			func() error { return d.send(proposal) }},
		{24, 9, 10, "He proposes a meeting to an address at Partner Corp that no longer exists.",
			func() error { return d.send(meeting) }},
		{24, 9, 20, "He asks Yamada to review the contract.",
			func() error { return d.send(contract) }},
		{24, 9, 22, "Partner Corp's server bounces the meeting mail: the mailbox does not exist.",
			func() error {
				return d.arrive(demoDSN(meeting.id, "nosuch@partner.example.jp", "failed", "5.1.1",
					"550 5.1.1 <nosuch@partner.example.jp>: Recipient address rejected: User unknown in virtual mailbox table", d.clock.Now(), d.next()))
			}},
		{24, 9, 30, "Fabrikam's server confirms delivery of the proposal.",
			func() error {
				return d.arrive(demoDSN(proposal.id, "bob@fabrikam.example", "delivered", "2.0.0", "250 2.0.0 OK", d.clock.Now(), d.next()))
			}},
		{24, 10, 0, "Yamada's server cannot be reached; the sending server keeps trying.",
			func() error {
				return d.arrive(demoDSN(contract.id, "yamada@slow.example.co.jp", "delayed", "4.4.1",
					"connect to mx.slow.example.co.jp[203.0.113.25]:25: Connection timed out", d.clock.Now(), d.next()))
			}},
		{24, 10, 15, "Sato opens the quote; Outlook sends the receipt 「開封済み: 見積書の件」.",
			func() error {
				return d.arrive(demoMDN(quote.id, "sato@partner.example.jp", jisWord("佐藤 花子"), "displayed", true, d.clock.Now(), d.next()))
			}},
		{24, 10, 40, "Suzuki declines to send a receipt.",
			func() error {
				return d.arrive(demoMDN(quote.id, "suzuki@partner.example.jp", jisWord("鈴木 次郎"), "denied", true, d.clock.Now(), d.next()))
			}},
		{24, 11, 5, "Bob opens the proposal in Outlook; its tracking pixel is fetched.",
			func() error { return d.openPixel(proposal.id, "bob@fabrikam.example") }},
		{25, 9, 30, "Next morning: one working day has passed since the contract went out, with no answer.",
			func() error { return d.sweep(ctx) }},
		{25, 9, 31, "The morning digest lists what is still unconfirmed.",
			func() error { return d.digest(ctx) }},
	}
	for _, s := range steps {
		d.at(s.day, s.h, s.m)
		d.say("%s", s.say)
		if err := s.do(); err != nil {
			return err
		}
	}
	return d.summary(ctx)
}

func (d *demo) next() int {
	d.n++
	return d.n
}

// openPixel fetches the pixel of a recipient's copy as their mail client
// would.
func (d *demo) openPixel(messageID, recipient string) error {
	tok, err := trackpixel.Mint(d.keys, trackpixel.Claims{MessageID: messageID, Recipient: recipient, Sender: "tanaka@" + demoDomain,
		Sent: d.clock.Now().Add(-2 * time.Hour)})
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(http.MethodGet, trackpixel.URL(d.pixel.URL, tok), nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Microsoft Outlook 16.0.17928; ms-office; MSOffice 16)")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case err := <-d.recorded:
		if err != nil {
			return fmt.Errorf("demo: record the open: %w", err)
		}
	case <-ctx.Done():
		return errors.New("demo: the pixel fetch was not recorded in time")
	}
	if err := d.drain(ctx); err != nil {
		return err
	}
	d.pause()
	return nil
}

// sweep runs the deadline sweep as the daemon does every minute.
func (d *demo) sweep(ctx context.Context) error {
	res, err := d.st.SweepDue(ctx, d.clock.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  (deadline sweep: %d deadline(s) passed, %d recipient(s) without an answer)\n", res.Swept, len(res.Notices))
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := d.drain(ctx); err != nil {
		return err
	}
	d.pause()
	return nil
}

// digest has the bot post the morning channel digest, as its schedule
// would.
func (d *demo) digest(ctx context.Context) error {
	d.bot.PostDigest(ctx, bot.DigestConfig{Channel: "CSALES", Timezone: "Asia/Tokyo", After: 20 * time.Hour}, d.clock.Now())
	d.pause()
	return nil
}

// summary shows where every mail stands: Tanaka's App Home as the bot
// published it last.
func (d *demo) summary(ctx context.Context) error {
	// The bot publishes the App Home after the notices of a pass, so the
	// last one may still be on its way.
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for !d.term.homeCurrent("UTANAKA") {
		if ctx.Err() != nil {
			return errors.New("demo: the bot did not publish Tanaka's App Home in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Fprintln(d.out, "\nTanaka's App Home in Slack now:")
	d.term.printHome()
	fmt.Fprintln(d.out, "\nNo 【再送】 needed: every answer, and every silence, reached Tanaka in Slack.")
	return nil
}
