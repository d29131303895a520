package bot

import (
	"slices"
	"strings"

	"github.com/slack-go/slack"
)

// Setup is how mail gets tracked in this installation, as far as App
// Home's welcome tells each user about it: the mailboxes whose Sent folder
// is watched, the SMTP relay and the tracking pixel. Config.Setup nil
// leaves the welcome general.
type Setup struct {
	// Mailboxes are the watched mailboxes.
	Mailboxes []Mailbox
	// Relay is set when the tracking SMTP relay runs; RelaySenders are the
	// addresses that may send through it, or "@domain" for a whole domain.
	Relay        bool
	RelaySenders []string
	// Pixel is set when the relay adds the tracking pixel; PixelOptOut are
	// the senders whose mail never carries it.
	Pixel       bool
	PixelOptOut []string
}

// Mailbox is a watched mailbox and what of its Sent folder is tracked.
type Mailbox struct {
	// Owner is the address whose mail the mailbox holds.
	Owner string
	// All tracks every mail in the Sent folder; otherwise only those that
	// ask for a read receipt, carry the pixel or copy TrackingAddress.
	All             bool
	TrackingAddress string
}

// userSetup is how one user's mail gets tracked.
type userSetup struct {
	mailboxes []Mailbox // theirs
	relay     bool      // they may send through the relay
	pixel     bool      // and the relay adds the pixel to their mail
}

// of is the setup of a user with the addresses addrs.
func (s *Setup) of(addrs []string) userSetup {
	var us userSetup
	mine := func(a string) bool {
		return slices.ContainsFunc(addrs, func(x string) bool { return strings.EqualFold(x, a) })
	}
	for _, m := range s.Mailboxes {
		if mine(m.Owner) {
			us.mailboxes = append(us.mailboxes, m)
		}
	}
	// As the relay checks a sender (relay.Options.Senders): a whole
	// address, or every address of an "@domain".
	for _, a := range addrs {
		a = strings.ToLower(a)
		for _, allowed := range s.RelaySenders {
			allowed = strings.ToLower(allowed)
			if a == allowed || strings.HasPrefix(allowed, "@") && strings.HasSuffix(a, allowed) {
				us.relay = s.Relay
			}
		}
	}
	us.pixel = us.relay && s.Pixel && !slices.ContainsFunc(addrs, func(a string) bool {
		return slices.ContainsFunc(s.PixelOptOut, func(o string) bool { return strings.EqualFold(o, a) })
	})
	return us
}

// welcomeBlocks explain mailack the first time someone opens App Home:
// what it does, how their mail gets tracked (when setup is known), and
// a button to the "Track a sent mail" shortcut when they can use it.
func welcomeBlocks(l locale, setup *userSetup, canTrack bool) []slack.Block {
	elems := []slack.BlockElement{slack.NewButtonBlockElement(actWelcome, "ok", plain(clip(l.t(btnWelcomeOK), maxButton)))}
	if canTrack {
		elems = append(elems, trackButton(l))
	}
	text := esc(l.t(msgWelcome))
	if setup != nil {
		text = esc(l.t(msgWelcomeIntro)) + "\n\n*" + esc(l.t(msgWelcomeHow)) + "*\n" +
			strings.Join(setupLines(*setup, l, canTrack), "\n") + "\n\n" + esc(l.t(msgWelcomeTabs))
	}
	return []slack.Block{section(text), slack.NewActionBlock("", elems...)}
}

// setupLines say, one bullet each, the ways a user's mail gets tracked.
func setupLines(us userSetup, l locale, canTrack bool) []string {
	var lines []string
	add := func(s string) { lines = append(lines, "• "+s) }
	for _, m := range us.mailboxes {
		owner := clip(m.Owner, maxAddrShown)
		switch {
		case m.All:
			add(esc(l.t(msgWelcomeSentAll, owner)))
		case m.TrackingAddress != "":
			add(esc(l.t(msgWelcomeSentBcc, owner, clip(m.TrackingAddress, maxAddrShown))))
		default:
			add(esc(l.t(msgWelcomeReceipts, owner)))
		}
	}
	if us.relay {
		add(esc(l.t(msgWelcomeRelay)))
	}
	if us.pixel {
		add(esc(l.t(msgWelcomePixel)))
	}
	if canTrack {
		add(esc(l.t(msgWelcomeByHand)))
	}
	if len(lines) == 0 {
		add(esc(l.t(msgWelcomeNothing)))
	}
	return lines
}
