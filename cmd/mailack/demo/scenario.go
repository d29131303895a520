package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mailack/mailack/bot"
	trackpixel "github.com/mailack/mailack/track/pixel"
)

// step is one moment of the story, told in both languages.
type step struct {
	day, h, m int
	en, ja    string
	do        func() error
}

// t picks the story's language.
func (d *demo) t(en, ja string) string {
	if d.lang == "ja" {
		return ja
	}
	return en
}

// scenario is the demo's story: six mails go out; answers, silences and
// deadlines follow, each shown as the bot posts it; then Tanaka follows up
// from Slack.
func (d *demo) scenario(ctx context.Context) error {
	fmt.Fprintln(d.out, d.t(
		"mailack demo: two working days of Ichiro Tanaka (tanaka@demo.example), in accelerated time.\n"+
			"Everything below runs for real on this machine: an IMAP server, the mail watcher, the report reader,\n"+
			"the store, the deadline sweep, the pixel endpoint and the Slack bot; only Slack itself is local.",
		"mailack デモ: 田中一郎さん（tanaka@demo.example）の2日間を早回しでお見せします。\n"+
			"IMAPサーバー、メール監視、レポートの読み取り、保存、期限の確認、開封ピクセル、Slackボットは\n"+
			"すべてこのマシン上で実際に動いています。Slackだけは手元の模擬環境です。"))
	for _, s := range d.steps(ctx) {
		d.at(s.day, s.h, s.m)
		d.say(d.t(s.en, s.ja))
		if err := s.do(); err != nil {
			return err
		}
	}
	return d.summary()
}

func (d *demo) steps(ctx context.Context) []step {
	return []step{
		{24, 9, 0, "Tanaka sends 「見積書の件」 to Sato and Suzuki of Partner Corp, asking for a read receipt.",
			"田中さんが、パートナー社の佐藤さんと鈴木さんに「見積書の件」を開封確認付きで送信します。",
			func() error { return d.send(quote) }},
		{24, 9, 5, "He sends \"Proposal for Q1\" to Bob at Fabrikam, also asking for a receipt.",
			"ファブリカム社のBobさんに「Proposal for Q1」を開封確認付きで送信します。",
			func() error { return d.send(proposal) }},
		{24, 9, 10, "He proposes a meeting to an address at Partner Corp that no longer exists.",
			"打ち合わせ日程の相談を、パートナー社のすでに使われていないアドレスに送ってしまいます。",
			func() error { return d.send(meeting) }},
		{24, 9, 15, "He asks his colleague Sasaki to check next year's budget.",
			"同僚の佐々木さんに来期予算案の確認を依頼します。",
			func() error { return d.send(budget) }},
		{24, 9, 20, "He asks Yamada to review the contract.",
			"山田さんに契約書の確認を依頼します。",
			func() error { return d.send(contract) }},
		{24, 9, 21, "He asks Kato and Ito of Shoji Trading about delivery dates (「納期のご相談」).",
			"商事社の加藤さんと伊藤さんに「納期のご相談」を送信します。",
			func() error { return d.send(dates) }},
		{24, 9, 22, "Partner Corp's server bounces the meeting mail: the mailbox does not exist.",
			"パートナー社のサーバーから、打ち合わせのメールが不達で戻ります（宛先が存在しません）。",
			func() error {
				return d.arrive(dsn(meeting.id, "nosuch@partner.example.jp", "failed", "5.1.1",
					"550 5.1.1 <nosuch@partner.example.jp>: Recipient address rejected: User unknown in virtual mailbox table", d.clock.Now(), d.next()))
			}},
		{24, 9, 30, "Fabrikam's server confirms delivery of the proposal.",
			"ファブリカム社のサーバーから、提案書の配信確認が届きます。",
			func() error {
				return d.arrive(dsn(proposal.id, "bob@fabrikam.example", "delivered", "2.0.0", "250 2.0.0 OK", d.clock.Now(), d.next()))
			}},
		{24, 10, 0, "Yamada's server cannot be reached; Tanaka's mail server keeps retrying.",
			"山田さん側のサーバーに接続できず、田中さん側のメールサーバーが配信の再試行を続けています。",
			func() error {
				return d.arrive(dsn(contract.id, "yamada@slow.example.co.jp", "delayed", "4.4.1",
					"connect to mx.slow.example.co.jp[203.0.113.25]:25: Connection timed out", d.clock.Now(), d.next()))
			}},
		{24, 10, 15, "Sato opens the quote; Outlook sends the receipt 「開封済み: 見積書の件」.",
			"佐藤さんが見積書を開き、Outlookから開封確認「開封済み: 見積書の件」が届きます。",
			func() error {
				return d.arrive(mdn(quote.id, "sato@partner.example.jp", jisWord("佐藤 花子"), "displayed", true, d.clock.Now(), d.next()))
			}},
		{24, 10, 40, "Suzuki declines to send a receipt.",
			"鈴木さんは開封確認の送信を断ります。",
			func() error {
				return d.arrive(mdn(quote.id, "suzuki@partner.example.jp", jisWord("鈴木 次郎"), "denied", true, d.clock.Now(), d.next()))
			}},
		{24, 11, 5, "Bob opens the proposal in Outlook; its tracking pixel is fetched.",
			"BobさんがOutlookで提案書を開き、開封ピクセルが読み込まれます。",
			func() error { return d.openPixel(proposal.id, "bob@fabrikam.example") }},
		{24, 11, 30, "Ito is on a business trip: Shoji Trading's groupware answers 「不在通知」, away until 11/27 (Friday).",
			"伊藤さんは出張中です。商事社のグループウェアから「不在通知」が届きます（11月27日(金)まで不在）。",
			func() error {
				return d.arrive(away(dates, "ito@shoji.example.co.jp", jisWord("伊藤 恵"),
					"伊藤は11/25～11/27出張のため不在にしております。\n11/30より順次対応いたします。", d.clock.Now(), d.next()))
			}},
		{24, 14, 10, "Kato answers by e-mail: 「RE: 納期のご相談」. No read receipt needed: the reply ends the wait.",
			"加藤さんからメールで返信「RE: 納期のご相談」が届きます。開封確認がなくても、返信があれば確認待ちは終わります。",
			func() error {
				return d.arrive(reply(dates, "kato@shoji.example.co.jp", jisWord("加藤 誠"),
					"田中様\n\nお世話になっております。納期の件、承知いたしました。\n来週あらためてご連絡いたします。\n\n加藤", d.clock.Now(), d.next()))
			}},
		{24, 16, 0, "Tanaka sends the meeting minutes to Sato without a read receipt: mailack does not track it by itself.",
			"田中さんは、開封確認を付けずに佐藤さんへ議事録を送ります。このメールは自動では追跡されません。",
			func() error { return d.send(minutes) }},
		{24, 16, 5, "He asks mailack to track it, finding it by words of its subject.",
			"件名の一部でメールを探し、追跡を始めます。",
			func() error { return d.trackBySubject() }},
		{25, 9, 30, "Next morning: one working day has passed for the contract and the budget, with no answer. Ito is away, so her deadline waits until she is back.",
			"翌朝、契約書と予算案は送信から1営業日たっても確認がありません。伊藤さんは不在のため、期限は戻られた後に延びています。",
			func() error { return d.sweep(ctx) }},
		{25, 9, 31, "The morning digest in #sales lists what is still unconfirmed.",
			"#sales チャンネルに、まだ確認のないメールの朝のまとめが投稿されます。",
			func() error { return d.digest(ctx) }},
		{25, 9, 40, "Tanaka looks at his tracked mail.",
			"田中さんが追跡中のメールを確認します。",
			func() error { return d.command(d.person(tanaka), "list") }},
		{25, 9, 41, "Sasaki is a colleague in Slack: Tanaka nudges him from the budget's card.",
			"佐々木さんは社内のSlackメンバーなので、予算案のカードからSlackでお知らせします。",
			func() error { return d.nudge() }},
		{25, 9, 50, "Sasaki reads the nudge and presses the button; Tanaka's card shows it at once.",
			"佐々木さんがお知らせを読んでボタンを押すと、田中さんのカードにすぐ反映されます。",
			func() error { return d.seen() }},
		{25, 10, 0, "Yamada is outside the company: Tanaka copies courteous follow-up wording for an e-mail.",
			"山田さんは社外の方なので、メールで送るフォローアップ文面を表示します。",
			func() error { return d.followUp() }},
		{25, 10, 5, "He checks the contract's status card.",
			"契約書のステータスカードを確認します。",
			func() error { return d.command(d.person(tanaka), "show "+contract.id) }},
		{25, 10, 10, "Without typing a command: the shortcut 「送信済みメールを追跡」 searches his Sent folder as he types.",
			"コマンドを使わずに: ショートカット「送信済みメールを追跡」で、入力しながら送信済みフォルダーを検索できます。",
			func() error { return d.shortcut(d.person(tanaka), "確認") }},
		{25, 10, 15, "In App Home he looks at the Answered tab, then at his settings.",
			"ホームタブで「確認済み」タブを開き、続いて設定を確認します。",
			func() error { return d.homeTabs() }},
	}
}

func (d *demo) next() int {
	d.n++
	return d.n
}

// person is a workspace member as the demo's language names them.
func (d *demo) person(u demoUser) demoUser {
	for _, m := range workspace(d.lang) {
		if m.ID == u.ID {
			return m
		}
	}
	return u
}

// openPixel fetches the pixel of a recipient's copy as their mail client
// would.
func (d *demo) openPixel(messageID, recipient string) error {
	tok, err := trackpixel.Mint(d.keys, trackpixel.Claims{MessageID: messageID, Recipient: recipient, Sender: tanaka.Email,
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

// trackBySubject starts tracking the minutes with /track and words of its
// subject, then the button of the mail found.
func (d *demo) trackBySubject() error {
	if err := d.command(d.person(tanaka), "議事録"); err != nil {
		return err
	}
	return d.press(d.person(tanaka), d.t("Track this", "追跡する"), "track_pick", minutes.id, "D"+tanaka.ID, "1700000000.000000")
}

// sweep runs the deadline sweep as the daemon does every minute.
func (d *demo) sweep(ctx context.Context) error {
	res, err := d.st.SweepDue(ctx, d.clock.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  %s\n", d.t(fmt.Sprintf("(deadline sweep: %d deadline(s) passed, %d recipient(s) without an answer)", res.Swept, len(res.Notices)),
		fmt.Sprintf("（期限の確認: 期限切れ%d件、確認のない宛先%d名）", res.Swept, len(res.Notices))))
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
	d.bot.PostDigest(ctx, bot.DigestConfig{Channel: channel, Timezone: "Asia/Tokyo", After: 20 * time.Hour, Language: bot.Lang(d.lang)}, d.clock.Now())
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := d.term.quiet(ctx); err != nil {
		return err
	}
	d.pause()
	return nil
}

// nudge presses the nudge button for Sasaki on the budget's card.
func (d *demo) nudge() error {
	card, err := d.message("D"+tanaka.ID, budget.subject)
	if err != nil {
		return err
	}
	label := d.t("Nudge in Slack", "Slackでお知らせ")
	return d.press(d.person(tanaka), label, "nudge.0", budget.id+" "+sasaki.Email, "D"+tanaka.ID, card.TS)
}

// seen has Sasaki press 「確認しました」 / "Seen it" on the nudge.
func (d *demo) seen() error {
	dm, err := d.message("D"+sasaki.ID, budget.subject)
	if err != nil {
		return err
	}
	return d.press(d.person(sasaki), d.t("Seen it", "確認しました"), "seen", budget.id+" "+sasaki.Email, "D"+sasaki.ID, dm.TS)
}

// followUp presses the follow-up button on the contract's card.
func (d *demo) followUp() error {
	card, err := d.message("D"+tanaka.ID, contract.subject)
	if err != nil {
		return err
	}
	return d.press(d.person(tanaka), d.t("Follow-up text", "フォローアップ文面"), "followup", contract.id, "D"+tanaka.ID, card.TS)
}

// homeTabs has Tanaka switch App Home to Answered and Settings, and back
// to Waiting.
func (d *demo) homeTabs() error {
	u := d.person(tanaka)
	for _, tab := range []struct{ en, ja, value string }{{"Answered", "確認済み", "answered"}, {"Settings", "設定", "settings"}} {
		if err := d.pressHome(u, d.t(tab.en, tab.ja), "home_tab."+tab.value, tab.value); err != nil {
			return err
		}
	}
	fmt.Fprintf(d.out, "  %s\n", fmt.Sprintf(d.term.word["presses"], u.Name, d.t("Waiting", "確認待ち")))
	_, err := d.interact(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": u.ID, "team_id": "TDEMO"}, "team": map[string]any{"id": "TDEMO"},
		"container": map[string]any{"type": "view", "view_id": "VHOME"}, "view": map[string]any{"id": "VHOME", "type": "home"},
		"actions": []map[string]any{{"action_id": "home_tab.waiting", "block_id": "home_tabs", "type": "button", "value": "waiting", "action_ts": "1700000000.000001"}},
	})
	if err != nil {
		return err
	}
	return d.waitBot()
}

// summary shows where every mail stands: Tanaka's App Home as the bot
// published it last.
func (d *demo) summary() error {
	// The bot publishes the App Home after the notices of a pass, so the
	// last one may still be on its way.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !d.term.homeCurrent(tanaka.ID) {
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.New("demo: the bot did not publish Tanaka's App Home in time")
		case <-t.C:
		}
	}
	fmt.Fprintln(d.out, d.t("\nTanaka's App Home in Slack now:", "\n現在の田中さんのSlackのホームタブは次のとおりです。"))
	d.term.printHome()
	fmt.Fprintln(d.out, d.t("\nNo 【再送】 needed: every answer, and every silence, reached Tanaka in Slack.",
		"\n「【再送】」は不要でした。相手の反応も、反応がないことも、すべてSlackで田中さんに伝わりました。"))
	return nil
}
