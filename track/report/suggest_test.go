package report

import (
	"slices"
	"testing"
)

func TestIsTemplateLocal(t *testing.T) {
	for local, want := range map[string]bool{
		"NAME": true, "USERNAME": true, "lastnameNumber": true, "Firstname.Lastname": true,
		"FIRST_LAST": true, "firstName-lastName": true,
		// real mailboxes, however they are written
		"name": false, "user": false, "User": false, "Name": false, "firstname.lastname": false,
		"John.Smith": false, "JSMITH": false, "user1": false, "USER1": false, "Lastname.": false,
	} {
		if got := isTemplateLocal(local); got != want {
			t.Errorf("isTemplateLocal(%q) = %v, want %v", local, got, want)
		}
	}
}

func TestHasPhoneNumber(t *testing.T) {
	for line, want := range map[string]bool{
		"  Judy L. User            +1 925-xxx-xxxx       judy@example.gov": true,
		"Tel: 03-5555-0100 / helpdesk@example.jp":                          true,
		"電話 03-5555-0100 info@example.jp":                                  true,
		"Phone: (555) 123-4567":                                            true,
		"+44 20 7946 0958 reception@example.co.uk":                         true,
		"550 5.1.1 <alice+news@example.com>: Recipient address rejected":   false,
		"Your message to bob@example.com was rejected +1":                  false,
		"Delivery attempts will continue to be made for 5 day(s).":         false,
	} {
		if got := hasPhoneNumber(line); got != want {
			t.Errorf("hasPhoneNumber(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestSuggestedAddressesTemplatesAndContacts(t *testing.T) {
	text := "Message not delivered to: kwong@example.edu\n" +
		"Query the directory with finger NAME@directory.example.edu first.\n" +
		"The standard form is lastnameNumber@example.edu.\n" +
		"  Kim Wong   +1 925-555-0100   kim.wong@example.edu\n" +
		"user@example.edu is a real mailbox named in passing.\n"
	got := suggestedAddresses(text)
	for _, a := range []string{"name@directory.example.edu", "lastnamenumber@example.edu", "kim.wong@example.edu"} {
		if !slices.Contains(got, a) {
			t.Errorf("suggestedAddresses misses %q: %q", a, got)
		}
	}
	for _, a := range []string{"kwong@example.edu", "user@example.edu"} {
		if slices.Contains(got, a) {
			t.Errorf("suggestedAddresses holds %q, which the text does not suggest: %q", a, got)
		}
	}
}
