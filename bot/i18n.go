package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailack/mailack/track"
)

// Lang names a catalogue.
type Lang string

// The languages.
const (
	English  Lang = "en"
	Japanese Lang = "ja"
)

func (l Lang) valid() bool { return l == English || l == Japanese }

// langOfLocale maps a Slack locale ("ja-JP", "en-GB") to a language, or
// "" when there is no catalogue for it.
func langOfLocale(locale string) Lang {
	base, _, _ := strings.Cut(strings.ToLower(locale), "-")
	if l := Lang(base); l.valid() {
		return l
	}
	return ""
}

// msg names a sentence of the catalogues. Arguments are fmt verbs with
// explicit indexes, so each language orders them as it needs.
type msg string

// The sentences.
const (
	msgNoSubject          msg = "no_subject"
	msgSent               msg = "sent"
	msgSnoozedUntil       msg = "snoozed_until"
	msgStateDone          msg = "state_done"
	msgStateStopped       msg = "state_stopped"
	msgDue                msg = "due"
	msgNothingToWait      msg = "nothing_to_wait"
	msgNoResponseBy       msg = "no_response_by"
	btnNudgeWho           msg = "btn_nudge_who"
	msgFilterOpen         msg = "filter_open"
	msgLangEnglish        msg = "lang_english"
	msgLangJapanese       msg = "lang_japanese"
	msgDeadlineDefault    msg = "deadline_default"
	msgDeadlineOff        msg = "deadline_off"
	msgQuietOff           msg = "quiet_off"
	msgHour               msg = "hour"
	msgDay                msg = "day"
	msgDigestWaitingN     msg = "digest_waiting_n"
	msgHomeNotice         msg = "home_notice"
	msgStatusAt           msg = "status_at"
	msgStatusReason       msg = "status_reason"
	msgLowConfidence      msg = "low_confidence"
	msgMoreRecipients     msg = "more_recipients"
	msgReply              msg = "reply"
	btnNudge              msg = "btn_nudge"
	btnFollowUp           msg = "btn_followup"
	btnSnooze1            msg = "btn_snooze1"
	btnSnooze3            msg = "btn_snooze3"
	btnSnoozeDate         msg = "btn_snooze_date"
	btnDone               msg = "btn_done"
	btnSeen               msg = "btn_seen"
	btnTrack              msg = "btn_track"
	msgFollowUpTitle      msg = "followup_title"
	msgClose              msg = "close"
	msgFollowUpIntro      msg = "followup_intro"
	msgFollowUpBody       msg = "followup_body"
	msgNudgeDM            msg = "nudge_dm"
	msgNudged             msg = "nudged"
	msgNudgeNoUser        msg = "nudge_no_user"
	msgNudgeTooSoon       msg = "nudge_too_soon"
	msgNudgeAnswered      msg = "nudge_answered"
	msgNudgeAwayUntil     msg = "nudge_away_until"
	msgNudgeAway          msg = "nudge_away"
	msgSeenThanks         msg = "seen_thanks"
	msgSeenNotYours       msg = "seen_not_yours"
	msgSnoozed            msg = "snoozed"
	msgMarkedDone         msg = "marked_done"
	msgStoppedTracking    msg = "stopped_tracking"
	msgNotYours           msg = "not_yours"
	msgNoSuchMail         msg = "no_such_mail"
	msgAlreadyClosed      msg = "already_closed"
	msgNotFuture          msg = "not_future"
	msgTrouble            msg = "trouble"
	msgHelpTitle          msg = "help_title"
	msgUsage              msg = "usage"
	msgAdminOnly          msg = "admin_only"
	msgListTitle          msg = "list_title"
	msgListEmpty          msg = "list_empty"
	msgListMore           msg = "list_more"
	msgFilterPending      msg = "filter_pending"
	msgFilterProblems     msg = "filter_problems"
	msgFilterAll          msg = "filter_all"
	msgSettingsNow        msg = "settings_now"
	msgSettingsSaved      msg = "settings_saved"
	msgSettingsBad        msg = "settings_bad"
	msgLevelAll           msg = "level_all"
	msgLevelProblems      msg = "level_problems"
	msgLangAuto           msg = "lang_auto"
	msgTrackOff           msg = "track_off"
	msgSearchNone         msg = "search_none"
	msgOtherSender        msg = "other_sender"
	msgSearchPick         msg = "search_pick"
	msgTracking           msg = "tracking"
	msgNoAddress          msg = "no_address"
	msgHomeTitle          msg = "home_title"
	msgHomeHint           msg = "home_hint"
	msgDigestTitle        msg = "digest_title"
	msgDigestLine         msg = "digest_line"
	msgDigestRedacted     msg = "digest_redacted"
	msgHours              msg = "hours"
	msgDays               msg = "days"
	msgAnsweredBy         msg = "answered_by"
	msgAwayUntil          msg = "away_until"
	msgAwayNoDate         msg = "away_no_date"
	msgAwayAlso           msg = "away_also"
	cmdHelp               msg = "cmd_help"
	cmdList               msg = "cmd_list"
	cmdShow               msg = "cmd_show"
	cmdStop               msg = "cmd_stop"
	cmdSnooze             msg = "cmd_snooze"
	cmdSettings           msg = "cmd_settings"
	cmdWho                msg = "cmd_who"
	cmdTrack              msg = "cmd_track"
	btnOpenGmail          msg = "btn_open_gmail"
	btnOpenOutlook        msg = "btn_open_outlook"
	btnMailto             msg = "btn_mailto"
	btnReopen             msg = "btn_reopen"
	btnUndo               msg = "btn_undo"
	msgReopened           msg = "reopened"
	msgAlreadyOpen        msg = "already_open"
	cmdReopen             msg = "cmd_reopen"
	msgTabWaitingEmpty    msg = "tab_waiting_empty"
	msgTabAnsweredEmpty   msg = "tab_answered_empty"
	msgTabClosedEmpty     msg = "tab_closed_empty"
	btnTabWaiting         msg = "btn_tab_waiting"
	btnTabAnswered        msg = "btn_tab_answered"
	btnTabClosed          msg = "btn_tab_closed"
	btnTabSettings        msg = "btn_tab_settings"
	btnPrevPage           msg = "btn_prev_page"
	btnNextPage           msg = "btn_next_page"
	msgPageOf             msg = "page_of"
	btnWelcomeOK          msg = "btn_welcome_ok"
	msgWelcome            msg = "welcome"
	msgWelcomeIntro       msg = "welcome_intro"
	msgWelcomeHow         msg = "welcome_how"
	msgWelcomeSentAll     msg = "welcome_sent_all"
	msgWelcomeSentBcc     msg = "welcome_sent_bcc"
	msgWelcomeReceipts    msg = "welcome_sent_receipts"
	msgWelcomeRelay       msg = "welcome_relay"
	msgWelcomePixel       msg = "welcome_pixel"
	msgWelcomeByHand      msg = "welcome_by_hand"
	msgWelcomeNothing     msg = "welcome_nothing"
	msgWelcomeTabs        msg = "welcome_tabs"
	btnTrackSent          msg = "btn_track_sent"
	msgSetLanguage        msg = "set_language"
	msgSetLevel           msg = "set_level"
	msgSetDeadline        msg = "set_deadline"
	msgSetSummary         msg = "set_summary"
	msgSummaryOff         msg = "summary_off"
	msgSummaryAt          msg = "summary_at"
	msgSetQuiet           msg = "set_quiet"
	msgQuietFrom          msg = "quiet_from"
	msgQuietTo            msg = "quiet_to"
	btnQuietOff           msg = "btn_quiet_off"
	msgTrackTitle         msg = "track_title"
	msgTrackPick          msg = "track_pick"
	msgTrackPickHint      msg = "track_pick_hint"
	msgTrackDue           msg = "track_due"
	msgTrackDueHint       msg = "track_due_hint"
	msgTrackHours         msg = "track_hours"
	msgTrackNotify        msg = "track_notify"
	msgNotifyRead         msg = "notify_read"
	msgNotifyAnswered     msg = "notify_answered"
	msgNotifyBoth         msg = "notify_both"
	msgTrackNeedPick      msg = "track_need_pick"
	msgTrackBadHours      msg = "track_bad_hours"
	msgTrackQuoted        msg = "track_quoted"
	msgSummaryTitle       msg = "summary_title"
	msgSummaryAnswered    msg = "summary_answered"
	msgSummaryWaiting     msg = "summary_waiting"
	msgSummaryOverdue     msg = "summary_overdue"
	msgSummaryNothing     msg = "summary_nothing"
	msgBounceAlert        msg = "bounce_alert"
	msgBounceAlertSubject msg = "bounce_alert_subject"
	msgBounceAlertDo      msg = "bounce_alert_do"
)

// catalogs holds every sentence the bot says, per language. Sentences
// that quote text from mail or from a user get it escaped (esc) by the
// caller; the catalogues hold no user text.
var catalogs = map[Lang]map[msg]string{
	English: {
		msgNoSubject:          "(no subject)",
		msgSent:               "Sent %[1]s",
		msgSnoozedUntil:       "snoozed until %[1]s",
		msgStateDone:          "done — no longer tracked",
		msgStateStopped:       "tracking stopped",
		msgDue:                "waiting for confirmation until %[1]s",
		msgNothingToWait:      "nothing left to wait for",
		msgNoResponseBy:       "no response by the deadline (%[1]s)",
		msgStatusAt:           "%[1]s at %[2]s",
		msgStatusReason:       "%[1]s (%[2]s)",
		msgLowConfidence:      "matched by subject only — it may be about another mail",
		msgMoreRecipients:     "…and %[1]d more recipients",
		msgReply:              "%[1]s: %[2]s",
		btnNudge:              "Nudge in Slack",
		btnNudgeWho:           "Nudge %[1]s",
		btnFollowUp:           "Follow-up text",
		btnSnooze1:            "Snooze 1 day",
		btnSnooze3:            "Snooze 3 days",
		btnSnoozeDate:         "Snooze until…",
		btnDone:               "Done",
		btnSeen:               "Seen it",
		btnTrack:              "Track this",
		msgFollowUpTitle:      "Follow-up text",
		msgClose:              "Close",
		msgFollowUpIntro:      "Wording you can paste into a reply to your mail:",
		msgFollowUpBody:       "I am writing to follow up on my email “%[1]s” of %[2]s. Could you let me know whether you have had a chance to look at it?\nIf you have already replied, please disregard this message. Thank you very much.",
		msgNudgeDM:            "Hi! <@%[1]s> sent you an email, “%[2]s”, on %[3]s. When you have a moment, could you have a look and press “Seen it” so that they know it reached you? Thank you!",
		msgNudged:             "I sent %[1]s a friendly reminder in Slack.",
		msgNudgeNoUser:        "%[1]s is not in this Slack workspace; use “Follow-up text” instead.",
		msgNudgeTooSoon:       "You reminded %[1]s about this mail recently; let's give them a little time.",
		msgNudgeAnswered:      "%[1]s has already answered this mail, so I sent no reminder.",
		msgNudgeAwayUntil:     "%[1]s is away until %[2]s (automatic reply), so I sent no reminder.",
		msgNudgeAway:          "%[1]s is away (automatic reply), so I sent no reminder.",
		msgSeenThanks:         "Thank you! I let %[1]s know that you have seen “%[2]s”.",
		msgSeenNotYours:       "This button is for the person the mail was sent to.",
		msgSnoozed:            "Snoozed “%[1]s” until %[2]s.",
		msgMarkedDone:         "Marked “%[1]s” done; it is no longer tracked.",
		msgStoppedTracking:    "Stopped tracking “%[1]s”.",
		msgNotYours:           "You can only act on mail you sent.",
		msgNoSuchMail:         "No tracked mail has that Message-ID.",
		msgAlreadyClosed:      "That mail is no longer tracked.",
		msgNotFuture:          "Please pick a date in the future.",
		msgTrouble:            "Sorry, something went wrong. Please try again in a moment.",
		msgHelpTitle:          "*/track* — follow up on the mail you sent",
		msgUsage:              "Usage: `%[1]s`",
		msgAdminOnly:          "That command is for administrators.",
		msgListTitle:          "Your tracked mail (%[1]s)",
		msgListEmpty:          "Nothing is tracked right now.",
		msgListMore:           "…and %[1]d more.",
		msgFilterOpen:         "open",
		msgFilterPending:      "waiting for confirmation",
		msgFilterProblems:     "with problems",
		msgFilterAll:          "all, including closed",
		msgSettingsNow:        "Language: %[1]s · Notifications: %[2]s · Deadline of mail you track with /track: %[3]s · Quiet hours: %[4]s",
		msgSettingsSaved:      "Saved.",
		msgSettingsBad:        "I could not understand “%[1]s”.",
		msgLevelAll:           "every change",
		msgLevelProblems:      "problems and deadlines only",
		msgLangAuto:           "as in Slack",
		msgLangEnglish:        "English",
		msgLangJapanese:       "Japanese",
		msgDeadlineDefault:    "the default",
		msgDeadlineOff:        "none",
		msgQuietOff:           "none",
		msgTrackOff:           "Starting to track by hand is not set up here; please ask your administrator.",
		msgSearchNone:         "No sent mail matched “%[1]s”.",
		msgOtherSender:        "That mail is already tracked for another sender, so I cannot track it for you.",
		msgSearchPick:         "Which mail shall I track?",
		msgTracking:           "Now tracking “%[1]s”. Its status card is in your direct messages.",
		msgNoAddress:          "I could not find your e-mail address in Slack.",
		msgHomeTitle:          "Your tracked mail",
		msgHomeHint:           "Status cards arrive in your direct messages. Type /track help for the commands.",
		msgHomeNotice:         ":information_source: %[1]s",
		msgDigestTitle:        "Mail still waiting for confirmation after %[1]s",
		msgDigestLine:         "• %[1]s — sent %[2]s — waiting for %[3]s",
		msgDigestWaitingN:     "%[1]d recipient(s)",
		msgDigestRedacted:     "(subject hidden)",
		msgHour:               "1 hour",
		msgHours:              "%[1]d hours",
		msgDay:                "1 day",
		msgDays:               "%[1]d days",
		msgAnsweredBy:         "answered by %[1]s at %[2]s",
		msgAwayUntil:          "away until %[1]s (automatic reply)",
		msgAwayNoDate:         "away (automatic reply)",
		msgAwayAlso:           "also sent an automatic reply: away until %[1]s",
		cmdHelp:               "show this help",
		cmdList:               "list your tracked mail",
		cmdShow:               "show the status card of a mail",
		cmdStop:               "stop tracking a mail",
		cmdSnooze:             "be reminded later (1d, 3d or a date)",
		cmdSettings:           "show or change your settings",
		cmdWho:                "list the tracked mail of any sender",
		cmdTrack:              "start tracking a mail from your Sent folder",
		btnOpenGmail:          "Open in Gmail",
		btnOpenOutlook:        "Open Sent Items in Outlook",
		btnMailto:             "Write a follow-up",
		btnReopen:             "Reopen",
		btnUndo:               "Undo",
		msgReopened:           "Tracking “%[1]s” again.",
		msgAlreadyOpen:        "“%[1]s” is still being tracked.",
		cmdReopen:             "track a closed mail again",
		msgTabWaitingEmpty:    "Nothing is waiting for an answer.",
		msgTabAnsweredEmpty:   "No open mail has been answered yet.",
		msgTabClosedEmpty:     "No mail is closed yet.",
		btnTabWaiting:         "Waiting",
		btnTabAnswered:        "Answered",
		btnTabClosed:          "Closed",
		btnTabSettings:        "Settings",
		btnPrevPage:           "‹ Previous",
		btnNextPage:           "Next ›",
		msgPageOf:             "Page %[1]d of %[2]d · %[3]d mails",
		btnWelcomeOK:          "Got it",
		msgWelcome:            "Welcome to mailack. It reads the delivery reports, bounces, read receipts, replies and automatic replies (such as out-of-office notices) that come back to your mailbox and keeps one status card per mail in your direct messages with the bot, so you can see whether each mail arrived, was read or was answered. The mail you send is tracked as your administrator set it up; to track a mail from your Sent folder yourself, use “Track a sent mail” or /track. The tabs below show what is waiting, what was answered and what is closed; Settings has your language, notifications, deadline, quiet hours and morning summary.",
		btnTrackSent:          "Track a sent mail",
		msgWelcomeIntro:       "Welcome to mailack. It reads the delivery reports, bounces, read receipts, replies and automatic replies (such as out-of-office notices) that come back to your mailbox and keeps one status card per mail in your direct messages with the bot, so you can see whether each mail arrived, was read or was answered.",
		msgWelcomeHow:         "How your mail is tracked",
		msgWelcomeSentAll:     "mailack watches the Sent folder of %[1]s: every mail you send from it is tracked.",
		msgWelcomeReceipts:    "mailack watches the Sent folder of %[1]s: a mail you send from it is tracked when it asks for a read receipt.",
		msgWelcomeSentBcc:     "mailack watches the Sent folder of %[1]s: a mail you send from it is tracked when it asks for a read receipt or has %[2]s in Bcc.",
		msgWelcomeRelay:       "Mail you send through mailack's SMTP relay is always tracked.",
		msgWelcomePixel:       "The relay also adds a small tracking image to your mail, so an open shows even when no read receipt comes back.",
		msgWelcomeByHand:      "To track any other mail from your Sent folder, use “Track a sent mail” below or /track.",
		msgWelcomeNothing:     "No mailbox of yours is set up for tracking yet, so the mail you send is not tracked. Please ask your administrator.",
		msgWelcomeTabs:        "The tabs below show what is waiting, what was answered and what is closed; Settings has your language, notifications, deadline, quiet hours and morning summary.",
		msgSetLanguage:        "Language",
		msgSetLevel:           "Notifications",
		msgSetDeadline:        "Deadline of mail you track by hand",
		msgSetSummary:         "Morning summary on working days",
		msgSummaryOff:         "Off",
		msgSummaryAt:          "At %[1]s",
		msgSetQuiet:           "Quiet hours",
		msgQuietFrom:          "From",
		msgQuietTo:            "Until",
		btnQuietOff:           "No quiet hours",
		msgTrackTitle:         "Track a sent mail",
		msgTrackPick:          "Mail from your Sent folder",
		msgTrackPickHint:      "Type words of the subject or a Message-ID.",
		msgTrackDue:           "Remind me if nobody has answered by",
		msgTrackDueHint:       "Leave empty for your usual deadline.",
		msgTrackHours:         "…or after this many working hours (e.g. 8)",
		msgTrackNotify:        "Tell me when",
		msgNotifyRead:         "Each time it is read, confirmed or replied to",
		msgNotifyAnswered:     "Once everyone has answered",
		msgNotifyBoth:         "Every change",
		msgTrackNeedPick:      "Please pick a mail from your Sent folder.",
		msgTrackBadHours:      "Please give a whole number of hours, from 1 to 720.",
		msgTrackQuoted:        "From the message: %[1]s",
		msgSummaryTitle:       "Good morning. Your mail on %[1]s",
		msgSummaryAnswered:    "Answered since yesterday (%[1]d)",
		msgSummaryWaiting:     "Still waiting (%[1]d)",
		msgSummaryOverdue:     "Past the deadline (%[1]d)",
		msgSummaryNothing:     "Nothing to report today.",
		msgBounceAlert:        ":warning: Mail from %[1]s to %[2]s bounced: %[3]s.",
		msgBounceAlertSubject: "Subject: %[1]s",
		msgBounceAlertDo:      "What to do: %[1]s",
	},
	Japanese: {
		msgNoSubject:          "（件名なし）",
		msgSent:               "送信日時: %[1]s",
		msgSnoozedUntil:       "%[1]s までスヌーズ中",
		msgStateDone:          "完了（追跡終了）",
		msgStateStopped:       "追跡停止",
		msgDue:                "%[1]s まで確認待ち",
		msgNothingToWait:      "確認待ちの宛先なし",
		msgNoResponseBy:       "期限（%[1]s）までに確認なし",
		msgStatusAt:           "%[1]s（%[2]s）",
		msgStatusReason:       "%[1]s（%[2]s）",
		msgLowConfidence:      "件名のみで照合（別のメールに関する通知の可能性あり）",
		msgMoreRecipients:     "…ほか%[1]d名",
		msgReply:              "%[1]s: %[2]s",
		btnNudge:              "Slackでお知らせ",
		btnNudgeWho:           "お知らせ: %[1]s",
		btnFollowUp:           "フォローアップ文面",
		btnSnooze1:            "1日スヌーズ",
		btnSnooze3:            "3日スヌーズ",
		btnSnoozeDate:         "日付を指定してスヌーズ",
		btnDone:               "完了",
		btnSeen:               "確認しました",
		btnTrack:              "追跡する",
		msgFollowUpTitle:      "フォローアップ文面",
		msgClose:              "閉じる",
		msgFollowUpIntro:      "先方へのメールに、次の文面を貼り付けてお使いください。",
		msgFollowUpBody:       "お世話になっております。\n先日（%[2]s）お送りいたしました「%[1]s」につきまして、その後ご確認いただけましたでしょうか。\nお忙しいところ恐れ入りますが、よろしくお願いいたします。\nなお、本メールと行き違いでご対応いただいている場合は、何卒ご容赦ください。",
		msgNudgeDM:            "お疲れさまです。<@%[1]s> さんから%[3]sに「%[2]s」というメールが届いているかと思います。お手すきの際にご確認のうえ、「確認しました」ボタンを押していただけると助かります。",
		msgNudged:             "%[1]s さんにSlackでお知らせしました。",
		msgNudgeNoUser:        "%[1]s さんはこのSlackワークスペースにいないため、Slackではお知らせできません。「フォローアップ文面」をご利用ください。",
		msgNudgeTooSoon:       "%[1]s さんには、このメールについて少し前にお知らせしたばかりです。もうしばらく様子を見ましょう。",
		msgNudgeAnswered:      "%[1]s さんからはすでに確認が取れているため、お知らせは送りませんでした。",
		msgNudgeAwayUntil:     "%[1]s さんは%[2]sまで不在（自動応答）のため、お知らせは送りませんでした。",
		msgNudgeAway:          "%[1]s さんは不在（自動応答）のため、お知らせは送りませんでした。",
		msgSeenThanks:         "ありがとうございます！「%[2]s」のメールをご覧いただいたことを、%[1]s さんにお伝えしました。",
		msgSeenNotYours:       "このボタンは、メールを受け取った方のためのものです。",
		msgSnoozed:            "「%[1]s」を%[2]sまでスヌーズしました。",
		msgMarkedDone:         "「%[1]s」を完了にしました。追跡を終了します。",
		msgStoppedTracking:    "「%[1]s」の追跡を停止しました。",
		msgNotYours:           "操作できるのは、ご自身が送信したメールだけです。",
		msgNoSuchMail:         "そのMessage-IDのメールは追跡していません。",
		msgAlreadyClosed:      "そのメールはすでに追跡を終了しています。",
		msgNotFuture:          "未来の日付を選択してください。",
		msgTrouble:            "申し訳ありません。問題が発生しました。しばらくしてからもう一度お試しください。",
		msgHelpTitle:          "*/track* — 送信したメールのその後を確認します",
		msgUsage:              "使い方: `%[1]s`",
		msgAdminOnly:          "このコマンドは管理者専用です。",
		msgListTitle:          "メール一覧（%[1]s）",
		msgListEmpty:          "現在追跡中のメールはありません。",
		msgListMore:           "…ほか%[1]d件",
		msgFilterOpen:         "追跡中",
		msgFilterPending:      "確認待ち",
		msgFilterProblems:     "問題あり",
		msgFilterAll:          "追跡終了分も含むすべて",
		msgSettingsNow:        "言語: %[1]s ／ 通知: %[2]s ／ /trackで追跡するメールの期限: %[3]s ／ 通知しない時間帯: %[4]s",
		msgSettingsSaved:      "保存しました。",
		msgSettingsBad:        "「%[1]s」を認識できませんでした。",
		msgLevelAll:           "すべての状態変化",
		msgLevelProblems:      "問題と期限切れのみ",
		msgLangAuto:           "Slackの設定に合わせる",
		msgLangEnglish:        "英語",
		msgLangJapanese:       "日本語",
		msgDeadlineDefault:    "既定",
		msgDeadlineOff:        "なし",
		msgQuietOff:           "なし",
		msgTrackOff:           "このワークスペースでは、手動での追跡開始が有効になっていません。管理者にお問い合わせください。",
		msgSearchNone:         "「%[1]s」に一致する送信済みメールは見つかりませんでした。",
		msgOtherSender:        "このメールはすでに別の方の送信メールとして追跡されているため、追跡を開始できませんでした。",
		msgSearchPick:         "どのメールを追跡しますか？",
		msgTracking:           "「%[1]s」の追跡を開始しました。ステータスカードをDMでお送りしました。",
		msgNoAddress:          "Slackのプロフィールからメールアドレスを取得できませんでした。",
		msgHomeTitle:          "追跡中のメール",
		msgHomeHint:           "ステータスカードはDMに届きます。コマンド一覧は /track help で表示できます。",
		msgHomeNotice:         ":information_source: %[1]s",
		msgDigestTitle:        "%[1]s以上確認待ちのメール",
		msgDigestLine:         "• %[1]s — %[2]s送信 — 確認待ち: %[3]s",
		msgDigestWaitingN:     "%[1]d名",
		msgDigestRedacted:     "（件名非表示）",
		msgHour:               "1時間",
		msgHours:              "%[1]d時間",
		msgDay:                "1日",
		msgDays:               "%[1]d日",
		msgAnsweredBy:         "%[1]s さんが返信（%[2]s）",
		msgAwayUntil:          "不在（%[1]sまで・自動応答）",
		msgAwayNoDate:         "不在（自動応答）",
		msgAwayAlso:           "自動応答あり（%[1]sまで不在）",
		cmdHelp:               "このヘルプを表示",
		cmdList:               "追跡中のメールを一覧表示",
		cmdShow:               "メールのステータスカードを表示",
		cmdStop:               "メールの追跡を停止",
		cmdSnooze:             "あとで再通知（1d・3d・日付）",
		cmdSettings:           "設定の表示・変更",
		cmdWho:                "任意の送信者の追跡中メールを表示",
		cmdTrack:              "送信済みメールの追跡を開始（Message-IDか件名の一部で指定）",
		btnOpenGmail:          "Gmailで開く",
		btnOpenOutlook:        "Outlookで送信済みアイテムを開く",
		btnMailto:             "フォローアップを作成",
		btnReopen:             "追跡を再開",
		btnUndo:               "元に戻す",
		msgReopened:           "「%[1]s」の追跡を再開しました。",
		msgAlreadyOpen:        "「%[1]s」は現在も追跡中です。",
		cmdReopen:             "追跡を終了したメールの追跡を再開",
		msgTabWaitingEmpty:    "確認待ちのメールはありません。",
		msgTabAnsweredEmpty:   "確認が取れた追跡中のメールはありません。",
		msgTabClosedEmpty:     "追跡を終了したメールはありません。",
		btnTabWaiting:         "確認待ち",
		btnTabAnswered:        "確認済み",
		btnTabClosed:          "追跡終了",
		btnTabSettings:        "設定",
		btnPrevPage:           "‹ 前へ",
		btnNextPage:           "次へ ›",
		msgPageOf:             "%[1]d／%[2]dページ（全%[3]d件）",
		btnWelcomeOK:          "閉じる",
		msgWelcome:            "mailackへようこそ。メールボックスに届く配信確認・不達通知・開封確認・返信・自動応答（不在通知など）を読み取り、メールごとのステータスカードをこのアプリとのDMでお届けします。届いたか、読まれたか、返信があったかをひと目でご確認いただけます。送信したメールは管理者の設定に従って自動で追跡されます。送信済みフォルダーのメールをご自身で追跡するには「送信済みメールを追跡」または /track をお使いください。下のタブで確認待ち・確認済み・追跡終了のメールを表示でき、「設定」では言語、通知、期限、通知しない時間帯、朝のまとめを変更できます。",
		btnTrackSent:          "送信済みメールを追跡",
		msgWelcomeIntro:       "mailackへようこそ。メールボックスに届く配信確認・不達通知・開封確認・返信・自動応答（不在通知など）を読み取り、メールごとのステータスカードをこのアプリとのDMでお届けします。届いたか、読まれたか、返信があったかをひと目でご確認いただけます。",
		msgWelcomeHow:         "ご利用中の追跡方法",
		msgWelcomeSentAll:     "%[1]s の送信済みフォルダーを監視しています。このアドレスから送信したメールはすべて追跡されます。",
		msgWelcomeReceipts:    "%[1]s の送信済みフォルダーを監視しています。このアドレスから送信したメールのうち、開封確認を要求したものが追跡されます。",
		msgWelcomeSentBcc:     "%[1]s の送信済みフォルダーを監視しています。このアドレスから送信したメールのうち、開封確認を要求したもの、または %[2]s をBCCに入れたものが追跡されます。",
		msgWelcomeRelay:       "mailackのSMTPリレー経由で送信したメールは、常に追跡されます。",
		msgWelcomePixel:       "リレーがメールに小さな追跡用画像を挿入するため、開封確認が返ってこない場合でも開封がわかります。",
		msgWelcomeByHand:      "そのほかの送信済みメールを追跡するには、下の「送信済みメールを追跡」または /track をお使いください。",
		msgWelcomeNothing:     "ご利用のメールボックスはまだ追跡の対象に設定されていないため、送信したメールは追跡されません。管理者にお問い合わせください。",
		msgWelcomeTabs:        "下のタブで確認待ち・確認済み・追跡終了のメールを表示でき、「設定」では言語、通知、期限、通知しない時間帯、朝のまとめを変更できます。",
		msgSetLanguage:        "言語",
		msgSetLevel:           "通知",
		msgSetDeadline:        "手動で追跡するメールの期限",
		msgSetSummary:         "平日の朝のまとめ",
		msgSummaryOff:         "受け取らない",
		msgSummaryAt:          "%[1]sに受け取る",
		msgSetQuiet:           "通知しない時間帯",
		msgQuietFrom:          "開始時刻",
		msgQuietTo:            "終了時刻",
		btnQuietOff:           "設定しない",
		msgTrackTitle:         "送信済みメールを追跡",
		msgTrackPick:          "送信済みフォルダーのメール",
		msgTrackPickHint:      "件名の一部またはMessage-IDを入力してください。",
		msgTrackDue:           "この日時までに確認が取れなければお知らせ",
		msgTrackDueHint:       "空欄の場合は通常の期限が適用されます。",
		msgTrackHours:         "または、営業時間で何時間後にお知らせするか（例: 8）",
		msgTrackNotify:        "通知するタイミング",
		msgNotifyRead:         "開封・確認・返信があるたび",
		msgNotifyAnswered:     "全員の確認が取れたとき",
		msgNotifyBoth:         "すべての状態変化",
		msgTrackNeedPick:      "送信済みフォルダーのメールを選んでください。",
		msgTrackBadHours:      "時間数は1～720の整数で入力してください。",
		msgTrackQuoted:        "メッセージから: %[1]s",
		msgSummaryTitle:       "おはようございます。%[1]sのメール状況です",
		msgSummaryAnswered:    "昨日以降に確認が取れたメール（%[1]d件）",
		msgSummaryWaiting:     "確認待ちのメール（%[1]d件）",
		msgSummaryOverdue:     "期限を過ぎたメール（%[1]d件）",
		msgSummaryNothing:     "本日お知らせすることはありません。",
		msgBounceAlert:        ":warning: %[1]s から %[2]s 宛てのメールが届きませんでした（%[3]s）。",
		msgBounceAlertSubject: "件名: %[1]s",
		msgBounceAlertDo:      "対応: %[1]s",
	},
}

// statusWords says each status in plain words, with the terms Outlook
// users know (配信済み, 開封済み …). The bounce reason and the time are
// added by the card.
var statusWords = map[Lang]map[track.Status]string{
	English: {
		track.StatusPending:       "no news yet",
		track.StatusDelayed:       "delivery delayed, still being retried",
		track.StatusRelayed:       "relayed (handed to a server that reports no further)",
		track.StatusFailed:        "bounced",
		track.StatusDelivered:     "delivered",
		track.StatusOpenedMachine: "opened — possibly by a mail proxy",
		track.StatusOpened:        "opened by a person",
		track.StatusDeletedUnread: "deleted unread (a weak signal)",
		track.StatusRead:          "read",
		track.StatusDeclined:      "declined to send a read receipt",
		track.StatusAcknowledged:  "confirmed in Slack",
		track.StatusNoResponse:    "no response",
		track.StatusReplied:       "replied",
		track.StatusAway:          "away (automatic reply)",
		track.StatusAutoAck:       "automatic acknowledgement — no reply from a person yet",
	},
	Japanese: {
		track.StatusPending:       "まだ反応なし",
		track.StatusDelayed:       "配信遅延・再試行中",
		track.StatusRelayed:       "中継済み・以降の配信状況は不明",
		track.StatusFailed:        "不達",
		track.StatusDelivered:     "配信済み",
		track.StatusOpenedMachine: "開封あり・自動読み込みの可能性あり",
		track.StatusOpened:        "開封あり",
		track.StatusDeletedUnread: "未開封のまま削除された可能性",
		track.StatusRead:          "開封済み",
		track.StatusDeclined:      "開封確認の送信を拒否",
		track.StatusAcknowledged:  "Slackで確認済み",
		track.StatusNoResponse:    "確認なし",
		track.StatusReplied:       "返信あり",
		track.StatusAway:          "不在（自動応答）",
		track.StatusAutoAck:       "受付の自動応答（担当者からの返信はまだなし）",
	},
}

// locale is how one person is spoken to: a language and a time zone.
type locale struct {
	lang Lang
	tz   *time.Location
	// now is when the person is spoken to, which decides whether a date
	// needs its year; zero means the clock.
	now time.Time
}

// today is l's now in l's zone.
func (l locale) today() time.Time {
	if l.now.IsZero() {
		return time.Now().In(l.zone())
	}
	return l.now.In(l.zone())
}

// t returns sentence k in l's language, formatted with args.
func (l locale) t(k msg, args ...any) string {
	s, ok := catalogs[l.lang][k]
	if !ok {
		s = catalogs[English][k]
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// status says s in plain words.
func (l locale) status(s track.Status) string {
	if w, ok := statusWords[l.lang][s]; ok {
		return w
	}
	return string(s)
}

var jaWeekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// when formats a time in l's zone: "Tue 3 Jun 14:05" or "6月3日(火) 14:05",
// with the year when it is not this year's.
func (l locale) when(t time.Time) string {
	t = t.In(l.zone())
	return l.day(t) + " " + t.Format("15:04")
}

// day formats a date in l's zone: "Tue 3 Jun" or "6月3日(火)", with the
// year when it is not this year's ("Tue 3 Jun 2025", "2025年6月3日(火)").
func (l locale) day(t time.Time) string {
	t = t.In(l.zone())
	thisYear := t.Year() == l.today().Year()
	if l.lang == Japanese {
		d := fmt.Sprintf("%d月%d日(%s)", t.Month(), t.Day(), jaWeekdays[t.Weekday()])
		if !thisYear {
			d = fmt.Sprintf("%d年", t.Year()) + d
		}
		return d
	}
	if !thisYear {
		return t.Format("Mon 2 Jan 2006")
	}
	return t.Format("Mon 2 Jan")
}

// date formats a date without the weekday: "3 June" or "6月3日" (with the
// year when it is not this year's), for running text.
func (l locale) date(t time.Time) string { return l.dayOfYear(t.In(l.zone()), "2 January") }

// calendarDate formats a calendar date given as midnight UTC (a date a
// mail states, such as the day someone is back), whatever l's zone:
// "Mon 7 Dec" or "12月7日", with the year when it is not this year's.
func (l locale) calendarDate(t time.Time) string { return l.dayOfYear(t.UTC(), "Mon 2 Jan") }

// dayOfYear formats t's date with layout, or as 12月7日 in Japanese, with
// the year when it is not this year's.
func (l locale) dayOfYear(t time.Time, layout string) string {
	thisYear := t.Year() == l.today().Year()
	if l.lang == Japanese {
		d := fmt.Sprintf("%d月%d日", t.Month(), t.Day())
		if !thisYear {
			d = fmt.Sprintf("%d年", t.Year()) + d
		}
		return d
	}
	if !thisYear {
		layout += " 2006"
	}
	return t.Format(layout)
}

// span says a duration in whole days from three days on, else in hours;
// one hour or day in the singular.
func (l locale) span(d time.Duration) string {
	if d >= 72*time.Hour && d%(24*time.Hour) == 0 {
		return l.t(msgDays, int(d/(24*time.Hour)))
	}
	if n := int(d / time.Hour); n != 1 {
		return l.t(msgHours, n)
	}
	return l.t(msgHour)
}

// duration says a deadline in whole days, or else in hours.
func (l locale) duration(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return l.t(msgDay)
	case d%(24*time.Hour) == 0:
		return l.t(msgDays, int(d/(24*time.Hour)))
	case d == time.Hour:
		return l.t(msgHour)
	}
	return l.t(msgHours, int(d/time.Hour))
}

func (l locale) zone() *time.Location {
	if l.tz == nil {
		return time.UTC
	}
	return l.tz
}
