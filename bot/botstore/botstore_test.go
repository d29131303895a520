package botstore_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mailack/mailack/bot"
	"github.com/mailack/mailack/bot/botstore"
	"github.com/mailack/mailack/store"
	"github.com/mailack/mailack/track"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "mailack.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestSettingsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	s, err := botstore.OpenSettings(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Settings(t.Context(), "U1"); err != nil || !reflect.DeepEqual(got, bot.UserSettings{}) {
		t.Fatalf("Settings(new user) = %+v, %v; want zero", got, err)
	}
	want := bot.UserSettings{Language: bot.Japanese, Level: bot.LevelProblems, Deadline: 72 * time.Hour, Quiet: bot.QuietHours{Start: 1320, End: 420}}
	if err := s.PutSettings(t.Context(), "U1", want); err != nil {
		t.Fatal(err)
	}
	again, err := botstore.OpenSettings(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := again.Settings(t.Context(), "U1"); !reflect.DeepEqual(got, want) {
		t.Errorf("settings after reopening = %+v, want %+v", got, want)
	}
}

func TestAdapter(t *testing.T) {
	st := openStore(t)
	a := botstore.New(st)
	ctx := t.Context()
	now := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	if _, err := a.Mail(ctx, "none@example.com"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Mail(unknown) = %v, want bot.ErrNotFound", err)
	}
	if _, ok, err := a.Card(ctx, "none@example.com"); ok || err != nil {
		t.Errorf("Card(unknown) = %v, %v; want none", ok, err)
	}
	m, err := track.Register(track.Mail{MessageID: "m1@example.com", Sender: "alice@example.com", SentAt: now,
		Recipients: []track.Recipient{{Address: "carol@example.com"}}, Requested: track.Requested{ReadReceipt: true}}, 48*time.Hour, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RegisterMail(ctx, store.RegisterInput{Mail: m, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := a.PutCard(ctx, "m1@example.com", bot.Card{Channel: "D1", TS: "1.2"}); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := a.Card(ctx, "m1@example.com"); !ok || err != nil || c != (bot.Card{Channel: "D1", TS: "1.2"}) {
		t.Errorf("Card = %+v, %v, %v", c, ok, err)
	}

	// A chat acknowledgement is evidence like any other: it changes the
	// recipient and puts a notice in the outbox, once.
	ev := track.ChatEvidence("m1@example.com", "carol@example.com", "seen", now.Add(time.Hour))
	for range 2 {
		if err := a.Acknowledge(ctx, ev, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Mail(ctx, "m1@example.com")
	if err != nil || got.Recipients[0].Status != track.StatusAcknowledged {
		t.Errorf("recipient after Acknowledge = %+v, %v", got.Recipients, err)
	}
	items, err := a.Pending(ctx, now.Add(2*time.Hour), 0, 0)
	if err != nil || len(items) != 1 || items[0].Notice.To != track.StatusAcknowledged {
		t.Fatalf("outbox = %+v, %v; want one acknowledged notice", items, err)
	}
	if err := a.Ack(ctx, items[0].Seq); err != nil {
		t.Fatal(err)
	}
	if err := a.Ack(ctx, items[0].Seq); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("second Ack = %v, want bot.ErrNotFound", err)
	}
	ms, err := a.SenderMails(ctx, "alice@example.com", false, 0)
	if err != nil || len(ms) != 1 {
		t.Errorf("SenderMails = %d mails, %v; want 1", len(ms), err)
	}
}
