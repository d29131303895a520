package report

import (
	"strings"
	"testing"
	"time"
)

// dateString formats a date as YYYY-MM-DD, or "" for the zero time.
func dateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func TestHasReplyPrefix(t *testing.T) {
	tests := []struct {
		subject string
		want    bool
	}{
		{"Re: 見積書の件", true},
		{"RE: Quarterly report", true},
		{"re:quarterly", true},
		{"Re[2]: Quarterly report", true},
		{"Re(3): Quarterly report", true},
		{"Re^2: Quarterly report", true},
		{"AW: Angebot", true},
		{"SV: Tilbud", true},
		{"VS: Tarjous", true},
		{"Antw: Offerte", true},
		{"返信: 見積書の件", true},
		{"返信：見積書の件", true},
		{"Ｒｅ：見積書の件", true},
		{"  Re : spaced", true},
		{"Regarding the quote", false},
		{"Report for December", false},
		{"Re[]: odd", false},
		{"見積書の件", false},
		{"FW: Quarterly report", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := HasReplyPrefix(tt.subject); got != tt.want {
			t.Errorf("HasReplyPrefix(%q) = %v, want %v", tt.subject, got, tt.want)
		}
	}
}

func TestAwayUntil(t *testing.T) {
	sent := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name, text string
		sent       time.Time
		want       string
	}{
		{"ja until with weekday", "12月7日(月)まで休暇をいただいております。", sent, "2026-12-07"},
		{"ja full-width digits", "１２月７日（月）まで不在です。", sent, "2026-12-07"},
		{"ja numeric until", "12/7まで出張のため不在です", sent, "2026-12-07"},
		{"ja range wave dash", "12/1〜12/3 出張のため不在です。", sent, "2026-12-03"},
		{"ja range full-width tilde", "12月1日～12月4日は不在にしております", sent, "2026-12-04"},
		{"ja back from only", "12月8日(火)より出社いたします。", sent, "2026-12-08"},
		{"ja until wins over back", "12月7日まで不在です。12月8日より対応いたします。", sent, "2026-12-07"},
		{"ja with year", "2026年12月10日まで休暇です", sent, "2026-12-10"},
		{"ja year turn", "年末年始休業のため、1月5日まで休業いたします。", time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), "2027-01-05"},
		{"en month first", "I am out of the office until December 7.", sent, "2026-12-07"},
		{"en weekday month first", "I am out of the office until Monday, December 7 with limited access.", sent, "2026-12-07"},
		{"en day first", "I am out of the office until Monday 7 December.", sent, "2026-12-07"},
		{"en ordinal", "Away until the 7th of December.", sent, "2026-12-07"},
		{"en back on", "I'll be back in the office on 14 December 2026.", sent, "2026-12-14"},
		{"en returning", "Returning on Dec 9th.", sent, "2026-12-09"},
		{"en range", "I am travelling from December 1 - December 4 and have no e-mail.", sent, "2026-12-04"},
		{"en numeric month first plausible", "Out of office until 12/7.", sent, "2026-12-07"},
		{"en numeric day first plausible", "Out of office until 7/12.", sent, "2026-12-07"},
		{"en numeric only day first plausible", "Out of office until 12/1.", time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), "2027-01-12"},
		{"en numeric both plausible", "Out of office until 1/2.", time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), ""},
		{"en numeric day over 12", "Out of office until 18/12.", sent, "2026-12-18"},
		{"notes us", "I will be out of the office starting  12/02/2026 and will not return until 12/09/2026.", sent, "2026-12-09"},
		{"no date", "I am out of the office with limited access to e-mail.", sent, ""},
		{"date without until", "Your message of December 1 has been received.", sent, ""},
		{"date in the past", "I was away until November 1.", sent, ""},
		{"no sent date, no year", "I am away until December 7.", time.Time{}, ""},
		{"no sent date, with year", "I am away until December 7, 2026.", time.Time{}, "2026-12-07"},
		{"impossible date", "I am away until February 30.", sent, ""},
		{"far future", "I am away until 2029/01/01.", sent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dateString(awayUntil(tt.text, tt.sent)); got != tt.want {
				t.Errorf("awayUntil(%q, %s) = %q, want %q", tt.text, tt.sent.Format(time.DateOnly), got, tt.want)
			}
		})
	}
}

// TestAnswerKinds checks the header decisions on small messages: what is a
// reply, what is an automatic reply of which type, and what stays none.
func TestAnswerKinds(t *testing.T) {
	const base = "To: alice@example.org\r\nDate: Wed, 2 Dec 2026 10:00:00 +0000\r\nMessage-ID: <r1@partner.example>\r\n"
	tests := []struct {
		name, header, body string
		kind               Kind
		auto               AutoReply
		parent             string
	}{
		{"in-reply-to", "Subject: Re: plan\r\nIn-Reply-To: <m1@example.org>\r\n", "ok", KindReply, "", "m1@example.org"},
		{"references only", "Subject: plan\r\nReferences: <m0@example.org> <m1@example.org>\r\n", "ok", KindReply, "", "m1@example.org"},
		{"prefix only", "Subject: RE: plan\r\n", "ok", KindReply, "", ""},
		{"new conversation", "Subject: plan\r\n", "hello", KindNone, "", ""},
		{"list mail", "Subject: Re: plan\r\nIn-Reply-To: <m1@example.org>\r\nList-Id: <dev.example.org>\r\n", "ok", KindNone, "", ""},
		{"bulk mail", "Subject: Re: offer\r\nPrecedence: bulk\r\n", "buy", KindNone, "", ""},
		{"auto-submitted no", "Subject: Re: plan\r\nAuto-Submitted: no\r\nIn-Reply-To: <m1@example.org>\r\n", "ok", KindReply, "", "m1@example.org"},
		{"auto-replied away", "Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n", "back soon", KindAutoReply, AutoReplyAway, ""},
		{"x-autorespond ack", "Subject: Thanks for your mail\r\nX-Autorespond: yes\r\nIn-Reply-To: <m1@example.org>\r\n", "We have received your request.", KindAutoReply, AutoReplyAck, "m1@example.org"},
		{"suppress alone is no proof", "Subject: RE: plan\r\nX-Auto-Response-Suppress: All\r\nIn-Reply-To: <m1@example.org>\r\n", "ok", KindReply, "", "m1@example.org"},
		{"exchange oof", "Subject: Automatic reply: plan\r\nX-Auto-Response-Suppress: All\r\n", "away", KindAutoReply, AutoReplyAway, ""},
		{"groupware bulk away", "Subject: =?UTF-8?B?5LiN5Zyo6YCa55+l?=\r\nPrecedence: bulk\r\n", "不在です", KindAutoReply, AutoReplyAway, ""},
		{"groupware junk ordinary", "Subject: newsletter\r\nPrecedence: junk\r\n", "news", KindNone, "", ""},
		{"list manager notice", "Subject: Loop Alert\r\nReferences: <m1@example.org>\r\n", "loop", KindNone, "", ""},
		{"bulk holiday offer", "Subject: Holiday sale: 30% off\r\nPrecedence: bulk\r\n", "buy", KindNone, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := "From: Bob <bob@partner.example>\r\n"
			if tt.name == "list manager notice" {
				from = "From: dev-admin@partner.example\r\n"
			}
			raw := from + base + tt.header + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + tt.body + "\r\n"
			rs, err := Parse([]byte(raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			kind, auto, parent := KindNone, AutoReply(""), ""
			if len(rs) > 0 {
				kind, auto, parent = rs[0].Kind, rs[0].AutoReply, rs[0].OriginalMessageID
				if rs[0].Recipient != "bob@partner.example" && !strings.HasPrefix(tt.name, "list") {
					t.Errorf("recipient = %q, want bob@partner.example", rs[0].Recipient)
				}
			}
			if kind != tt.kind || auto != tt.auto || parent != tt.parent {
				t.Errorf("Parse(%s) = (%s, %q, %q), want (%s, %q, %q)", tt.name, kind, auto, parent, tt.kind, tt.auto, tt.parent)
			}
		})
	}
}

// TestReplyFromHeaderAlone checks that the fields a watcher fetches
// (LikelyFields and ReplyFields) decide a reply as the whole message does.
func TestReplyFromHeaderAlone(t *testing.T) {
	for _, name := range []string{"reply-outlook-ja", "reply-gmail", "reply-thunderbird-deep", "reply-carrier-sjis", "reply-apple-mail-qp"} {
		raw := readGolden(t, name)
		whole, err := Parse(raw)
		if err != nil || len(whole) != 1 {
			t.Fatalf("Parse(%s) = %v, %v", name, whole, err)
		}
		head, err := Parse(selectFields(raw, append(append([]string{}, LikelyFields...), ReplyFields...)))
		if err != nil || len(head) != 1 {
			t.Fatalf("Parse(%s header fields) = %v, %v", name, head, err)
		}
		w, h := whole[0], head[0]
		if h.Kind != w.Kind || h.Recipient != w.Recipient || h.OriginalMessageID != w.OriginalMessageID || h.ReportMessageID != w.ReportMessageID || !h.Date.Equal(w.Date) {
			t.Errorf("Parse(%s header fields) = %+v, want %+v", name, h, w)
		}
	}
}

// selectFields returns the header fields of raw named in names, with the
// blank line that ends a header, as IMAP's BODY[HEADER.FIELDS] returns them.
func selectFields(raw []byte, names []string) []byte {
	var b strings.Builder
	keep := false
	for _, line := range strings.SplitAfter(string(raw), "\r\n") {
		if line == "\r\n" || line == "" {
			break
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := strings.Cut(line, ":")
			keep = false
			for _, n := range names {
				keep = keep || strings.EqualFold(n, name)
			}
		}
		if keep {
			b.WriteString(line)
		}
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}
