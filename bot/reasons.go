package bot

import "github.com/mailack/mailack/track/report"

// advice is a bounce reason in plain words and what the sender can do.
type advice struct {
	Plain string
	Do    string
}

// Advice shared by several reasons.
var (
	enContact = "Their server refused it because of its content or your sender reputation; reach them another way (phone, chat)."
	jaContact = "相手のサーバーが、内容または送信元の評価を理由に受信を拒否しました。電話やチャットなど別の方法でご連絡ください。"
	enLater   = "Their server could not be reached; try again later, or reach them another way."
	jaLater   = "相手のサーバーに接続できませんでした。時間をおいて再送するか、別の方法でご連絡ください。"
	enAdmin   = "A technical problem between the mail servers; ask your mail administrator, and reach them another way meanwhile."
	jaAdmin   = "メールサーバー間の技術的な問題です。メール管理者にご相談ください。解決までは別の方法でご連絡ください。"
	enSmaller = "Send a smaller file, or share a link instead of an attachment."
	jaSmaller = "ファイルを小さくするか、添付の代わりに共有リンクをお送りください。"
	enBusy    = "Their server is busy or out of space; try again later."
	jaBusy    = "相手のサーバーが混雑しているか容量不足です。時間をおいて再送してください。"
)

// reasonAdvice is the bounce-reason catalogue. A reason missing from a
// language falls back to report.ReasonUndefined's entry.
var reasonAdvice = map[Lang]map[report.Reason]advice{
	English: {
		report.ReasonUndefined:       {"reason not given", "Check the address, then try again or reach them another way."},
		report.ReasonMailboxFull:     {"mailbox full", "Try again later, or call them."},
		report.ReasonUserUnknown:     {"no such address", "Check the address for a typo."},
		report.ReasonHostUnknown:     {"no such domain", "Check the domain, the part after @."},
		report.ReasonNotAccept:       {"the domain accepts no mail", "Check the address; that domain does not receive mail."},
		report.ReasonSpamDetected:    {"rejected as spam", enContact},
		report.ReasonBlocked:         {"your mail server was blocked", enContact},
		report.ReasonPolicyViolation: {"refused by their policy", enContact},
		report.ReasonRejected:        {"your address was refused", enContact},
		report.ReasonFiltered:        {"refused by their filter", enContact},
		report.ReasonBadReputation:   {"sender reputation too low", enContact},
		report.ReasonVirusDetected:   {"a virus was detected", "Check the attachment and send a clean copy."},
		report.ReasonExpired:         {"their server could not be reached", enLater},
		report.ReasonNetworkError:    {"their server could not be reached", enLater},
		report.ReasonMesgTooBig:      {"message too big", enSmaller},
		report.ReasonExceedLimit:     {"message over their size limit", enSmaller},
		report.ReasonSuspend:         {"mailbox disabled", "Their mailbox is suspended or closed; reach them another way."},
		report.ReasonHasMoved:        {"the person has moved", "Ask them for their new address."},
		report.ReasonSystemFull:      {"their server is full", enBusy},
		report.ReasonTooManyConn:     {"their server is busy", enBusy},
		report.ReasonSpeeding:        {"they receive too much mail at once", enBusy},
		report.ReasonSystemError:     {"an error at their server", enBusy},
		report.ReasonMailerError:     {"an error at their server", enBusy},
		report.ReasonAuthFailure:     {"your domain failed SPF/DKIM/DMARC checks", enAdmin},
		report.ReasonNoRelaying:      {"relaying denied", enAdmin},
		report.ReasonSecurityError:   {"delivery not authorised", enAdmin},
		report.ReasonRequirePTR:      {"refused for a technical reason", enAdmin},
		report.ReasonFailedSTARTTLS:  {"no secure connection possible", enAdmin},
		report.ReasonNotCompliantRFC: {"refused as malformed", enAdmin},
		report.ReasonSyntaxError:     {"refused for a technical reason", enAdmin},
		report.ReasonContentError:    {"refused as malformed", enAdmin},
		report.ReasonVacation:        {"an automatic reply (away)", "They are away; expect a late answer."},
	},
	Japanese: {
		report.ReasonUndefined:       {"理由不明", "アドレスを確認のうえ再送するか、別の方法でご連絡ください。"},
		report.ReasonMailboxFull:     {"メールボックスが満杯", "時間をおいて再送するか、電話でご連絡ください。"},
		report.ReasonUserUnknown:     {"宛先アドレスが存在しない", "アドレスに誤りがないかご確認ください。"},
		report.ReasonHostUnknown:     {"ドメインが存在しない", "アドレスの@より後ろ（ドメイン）に誤りがないかご確認ください。"},
		report.ReasonNotAccept:       {"宛先ドメインがメールを受け付けていない", "このドメインはメールを受信しない設定です。アドレスをご確認ください。"},
		report.ReasonSpamDetected:    {"迷惑メールとして拒否", jaContact},
		report.ReasonBlocked:         {"送信元サーバーがブロックされている", jaContact},
		report.ReasonPolicyViolation: {"相手のポリシーにより拒否", jaContact},
		report.ReasonRejected:        {"送信元アドレスが拒否された", jaContact},
		report.ReasonFiltered:        {"相手のフィルターにより拒否", jaContact},
		report.ReasonBadReputation:   {"送信元の評価が低い", jaContact},
		report.ReasonVirusDetected:   {"ウイルスが検出された", "添付ファイルをウイルスチェックのうえ、安全なファイルを送り直してください。"},
		report.ReasonExpired:         {"相手のサーバーに接続できない", jaLater},
		report.ReasonNetworkError:    {"相手のサーバーに接続できない", jaLater},
		report.ReasonMesgTooBig:      {"メールが大きすぎる", jaSmaller},
		report.ReasonExceedLimit:     {"相手のサイズ上限を超えている", jaSmaller},
		report.ReasonSuspend:         {"メールボックスが無効", "相手のメールボックスが停止または閉鎖されています。別の方法でご連絡ください。"},
		report.ReasonHasMoved:        {"宛先アドレスが変更済み", "新しいアドレスを先方にご確認ください。"},
		report.ReasonSystemFull:      {"相手のサーバーが容量不足", jaBusy},
		report.ReasonTooManyConn:     {"相手のサーバーが混雑", jaBusy},
		report.ReasonSpeeding:        {"短時間に受信が集中", jaBusy},
		report.ReasonSystemError:     {"相手のサーバーでエラー", jaBusy},
		report.ReasonMailerError:     {"相手のサーバーでエラー", jaBusy},
		report.ReasonAuthFailure:     {"SPF/DKIM/DMARCによる送信ドメイン認証に失敗", jaAdmin},
		report.ReasonNoRelaying:      {"中継を拒否された", jaAdmin},
		report.ReasonSecurityError:   {"配信が許可されていない", jaAdmin},
		report.ReasonRequirePTR:      {"技術的な理由で拒否", jaAdmin},
		report.ReasonFailedSTARTTLS:  {"暗号化接続を確立できない", jaAdmin},
		report.ReasonNotCompliantRFC: {"形式の不備で拒否", jaAdmin},
		report.ReasonSyntaxError:     {"技術的な理由で拒否", jaAdmin},
		report.ReasonContentError:    {"形式の不備で拒否", jaAdmin},
		report.ReasonVacation:        {"不在の自動応答", "相手が不在のため、返信が遅れる見込みです。"},
	},
}

// reason returns a bounce reason in l's language.
func (l locale) reason(r report.Reason) advice {
	if a, ok := reasonAdvice[l.lang][r]; ok {
		return a
	}
	return reasonAdvice[l.lang][report.ReasonUndefined]
}
