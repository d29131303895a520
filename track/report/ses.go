package report

import (
	"encoding/json"
	"strings"
)

// Amazon SES delivers bounce and delivery notifications as JSON in the body
// of an ordinary mail (through SNS e-mail subscriptions). sesNotification
// holds the fields of that JSON that a report needs.
type sesNotification struct {
	Type    string `json:"notificationType"`
	Message string `json:"Message"` // an SNS envelope wraps the notification as a string
	Mail    struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
	Bounce struct {
		Recipients []struct {
			Address    string `json:"emailAddress"`
			Action     string `json:"action"`
			Status     string `json:"status"`
			Diagnostic string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		RemoteMTA string `json:"reportingMTA"`
	} `json:"bounce"`
	Delivery struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
		RemoteMTA    string   `json:"remoteMtaIp"`
	} `json:"delivery"`
}

// sesReports reads an Amazon SES notification, or returns nil.
func (m *message) sesReports() []Report {
	for _, t := range m.bodyTexts() {
		i := strings.Index(t, `{"`)
		if i < 0 || !strings.Contains(t, `"notificationType"`) {
			continue
		}
		var n sesNotification
		dec := json.NewDecoder(strings.NewReader(t[i:]))
		if err := dec.Decode(&n); err != nil {
			continue
		}
		if n.Type == "" && n.Message != "" {
			if err := json.Unmarshal([]byte(n.Message), &n); err != nil {
				continue
			}
		}
		return n.reports()
	}
	return nil
}

func (n *sesNotification) reports() []Report {
	var orig string
	for _, h := range n.Mail.Headers {
		if strings.EqualFold(h.Name, "message-id") {
			orig = cleanMessageID(h.Value)
		}
	}
	var rs []Report
	switch n.Type {
	case "Bounce":
		for _, b := range n.Bounce.Recipients {
			r := Report{Kind: KindDSN, Recipient: addressValue(b.Address), OriginalMessageID: orig}
			r.Diagnostic = typedValue(b.Diagnostic)
			r.Status = preferStatus(b.Status, r.Diagnostic)
			r.Action = normalizeAction(b.Action)
			if r.Action == "" {
				r.Action = actionFromStatus(r.Status)
			}
			r.ReplyCode = findReplyCode(r.Diagnostic)
			r.RemoteMTA = typedValue(n.Bounce.RemoteMTA)
			rs = append(rs, r)
		}
	case "Delivery":
		for _, a := range n.Delivery.Recipients {
			r := Report{Kind: KindDSN, Recipient: addressValue(a), OriginalMessageID: orig, Action: ActionDelivered}
			r.Diagnostic = n.Delivery.SMTPResponse
			r.Status = preferStatus("", r.Diagnostic)
			r.ReplyCode = findReplyCode(r.Diagnostic)
			r.RemoteMTA = n.Delivery.RemoteMTA
			rs = append(rs, r)
		}
	}
	for i := range rs {
		rs[i].Reason = classify(rs[i], "")
	}
	return rs
}
