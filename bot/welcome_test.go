package bot_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mailack/mailack/bot"
)

// App Home's welcome says how each user's mail gets tracked in this
// setup: the Sent folders watched for them and what of them, the relay,
// the pixel and tracking by hand, in their language, with the button to
// the shortcut only for those who have a mailbox to search.
func TestWelcomeSaysHowMailIsTracked(t *testing.T) {
	setup := &bot.Setup{
		Mailboxes: []bot.Mailbox{
			{Owner: "Alice@Example.com", All: true},
			{Owner: hanako.Email, TrackingAddress: "track@example.jp"},
			{Owner: "shared@example.com"},
		},
		Relay: true, RelaySenders: []string{alice.Email, "@example.org", bob.Email},
		Pixel: true, PixelOptOut: []string{bob.Email},
	}
	e := newEnv(t, envOptions{config: func(c *bot.Config) { c.Setup = setup }})
	defer e.run(t)()
	const track = `"action_id":"open_track"`
	for i, tc := range []struct {
		u         fakeUser
		want, not []string
	}{
		{alice, []string{
			"*How your mail is tracked*",
			"• mailack watches the Sent folder of Alice@Example.com: every mail you send from it is tracked.",
			"• Mail you send through mailack's SMTP relay is always tracked.",
			"• The relay also adds a small tracking image",
			"• To track any other mail from your Sent folder, use “Track a sent mail” below or /track.",
			track,
		}, []string{"No mailbox of yours", "shared@example.com"}},
		{hanako, []string{
			"*ご利用中の追跡方法*",
			"• hanako@example.jp の送信済みフォルダーを監視しています。このアドレスから送信したメールのうち、開封確認を要求したもの、または track@example.jp をBCCに入れたものが追跡されます。",
			"• そのほかの送信済みメールを追跡するには、下の「送信済みメールを追跡」または /track をお使いください。",
			track,
		}, []string{"SMTPリレー", "追跡用画像", "管理者にお問い合わせください"}},
		{bob, []string{
			"• Mail you send through mailack's SMTP relay is always tracked.",
		}, []string{"Sent folder of", "tracking image", "or /track", track}},
		{carol, []string{
			"• No mailbox of yours is set up for tracking yet, so the mail you send is not tracked. Please ask your administrator.",
		}, []string{"relay", "or /track", track}},
	} {
		if rec := e.post(bot.PathEvents, homeOpened(tc.u, "EvWELCOME"+string(rune('A'+i)))); rec.Code != http.StatusOK {
			t.Fatalf("POST app_home_opened = %d", rec.Code)
		}
		c := e.fake.WaitFor(t, "app home of "+tc.u.ID, homeOf(tc.u))
		text := c.Text()
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s's welcome lacks %q:\n%s", tc.u.ID, w, text)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(text, w) {
				t.Errorf("%s's welcome says %q:\n%s", tc.u.ID, w, text)
			}
		}
	}
}
