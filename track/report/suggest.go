package report

import "strings"

// Bounces name addresses that are not the failed recipient: an address the
// reporting system suggests instead of the failed one, and addresses given
// as examples in help text. Neither is ever a failed recipient.

// suggestionIntros introduce an address a bounce suggests instead of the
// failed one:
//   - RFC 5321 section 3.4: "551 User not local; please try
//     <forward-path>" and "251 User not local; will forward to
//     <forward-path>";
//   - a mailbox that has moved: "has moved to", "new address is",
//     "forwarding address" (Exchange and Notes forwarding texts), and the
//     "did you mean" of systems that correct typing errors;
//   - directory help texts: "try" an address, "try emailing to".
//
// The address must follow the phrase with only white space, a colon,
// quotes or an angle bracket between them.
var suggestionIntros = []string{
	"please try", "will forward to", "has moved to", "moved to", "has been replaced by",
	"new address is", "new address:", "new e-mail address is", "new email address is",
	"forwarding address is", "forwarding address:", "forwarding address", "did you mean",
	"try emailing to", "try sending to", "try", "please use", "instead use", "now reachable at",
}

// exampleIntros introduce an address given as an example ("e.g., if
// mike.fox@example.edu fails"); a few words may stand between.
var exampleIntros = []string{"e.g.", "for example", "for instance", "such as"}

// suggestedAddresses returns the addresses text suggests or gives as
// examples, lower-cased and without duplicates.
func suggestedAddresses(text string) []string {
	var out []string
	var seen map[string]bool
	for _, marker := range suggestionIntros {
		out, seen = addressesAfter(text, marker, 16, false, out, seen)
	}
	for _, marker := range exampleIntros {
		out, seen = addressesAfter(text, marker, 12, true, out, seen)
	}
	out, seen = templateAddresses(text, out, seen)
	out, _ = contactLineAddresses(text, out, seen)
	return out
}

// templateWords are the words a help text builds a template address from,
// such as "NAME@example.edu", "lastnameNumber@example.gov" or
// "Firstname.Lastname@example.com": it describes the form of an address
// and names no mailbox.
var templateWords = map[string]bool{
	"name": true, "firstname": true, "lastname": true, "surname": true, "first": true, "last": true,
	"given": true, "family": true, "middle": true, "initial": true, "initials": true, "number": true,
	"user": true, "username": true, "userid": true, "login": true, "nickname": true, "alias": true,
	"your": true, "yourname": true, "account": true, "mailbox": true,
}

// templateAddresses appends to out the addresses in text whose local part
// is a template: made only of templateWords and written the way help texts
// and manual pages set a placeholder apart from literal text, either all
// in capitals ("finger NAME@directory.example.edu") or as several words
// joined by ".", "_", "-" or a capital with at least one capital ("the
// standard form of address is lastnameNumber@example.gov",
// "Firstname.Lastname@example.com"). A real mailbox named "user@" or
// "User@" is kept.
func templateAddresses(text string, out []string, seen map[string]bool) ([]string, map[string]bool) {
	for from, n := 0, 0; n < 256; n++ {
		start, end := nextAddress(text, from)
		if start < 0 {
			break
		}
		from = end
		local, _, _ := strings.Cut(text[start:end], "@")
		if isTemplateLocal(local) {
			out, seen = appendAddress(out, seen, text[start:end])
		}
	}
	return out, seen
}

// isTemplateLocal reports whether local is a template local part (see
// templateAddresses).
func isTemplateLocal(local string) bool {
	if strings.ToLower(local) == local {
		return false
	}
	words := 0
	word := 0 // start of the current word
	for i := 0; i <= len(local); i++ {
		boundary := i == len(local) || strings.IndexByte("._-", local[i]) >= 0 ||
			i > word && local[i] >= 'A' && local[i] <= 'Z' && local[i-1] >= 'a' && local[i-1] <= 'z'
		if !boundary {
			continue
		}
		if i == word || !templateWords[strings.ToLower(local[word:i])] {
			return false
		}
		words++
		word = i
		if i < len(local) && strings.IndexByte("._-", local[i]) >= 0 {
			word = i + 1
		}
	}
	return words > 1 || strings.ToUpper(local) == local
}

// contactLineAddresses appends to out the addresses on lines that also
// carry a telephone number: a directory entry ("Judy User  +1 925-555-0100
// judy@example.gov") or a signature ("Tel. +81 3-5555-0100 /
// helpdesk@example.jp"). Such a line gives a way to reach someone; a bounce
// names its failed recipient without one.
func contactLineAddresses(text string, out []string, seen map[string]bool) ([]string, map[string]bool) {
	for rest, n := text, 0; rest != "" && n < 4096; n++ {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if strings.IndexByte(line, '@') < 0 || !hasPhoneNumber(line) {
			continue
		}
		for _, a := range findAddresses(line) {
			out, seen = appendAddress(out, seen, a)
		}
	}
	return out, seen
}

// phoneMarkers label a telephone number in signatures and directory
// entries.
var phoneMarkers = []string{"tel:", "tel.", "phone:", "telephone:", "fax:", "mobile:", "電話", "ＴＥＬ"}

// hasPhoneNumber reports whether line carries a telephone number: one of
// phoneMarkers, or a number in the international form of ITU-T E.123
// section 2.5 ("+" and the country code, then a space or hyphen and more
// digits; directories mask digits as "x").
func hasPhoneNumber(line string) bool {
	lower := strings.ToLower(line)
	for _, m := range phoneMarkers {
		if strings.Contains(lower, m) {
			return true
		}
	}
	for i := 0; i < len(line); i++ {
		if line[i] != '+' || i > 0 && line[i-1] != ' ' && line[i-1] != '\t' && line[i-1] != '(' {
			continue
		}
		j := i + 1
		for j < len(line) && j-i <= 3 && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		if j == i+1 || j >= len(line) || (line[j] != ' ' && line[j] != '-') {
			continue
		}
		k, digits := j+1, 0
		for k < len(line) && (line[k] >= '0' && line[k] <= '9' || line[k] == 'x' || line[k] == '-' || line[k] == ' ' || line[k] == '(' || line[k] == ')') {
			if line[k] != '-' && line[k] != ' ' && line[k] != '(' && line[k] != ')' {
				digits++
			}
			k++
		}
		if digits >= 6 {
			return true
		}
	}
	return false
}

// suggestedAddress returns the address text suggests instead of rcpt, or
// "". Only the wording of suggestionIntros counts, not examples.
func suggestedAddress(text, rcpt string) string {
	var out []string
	var seen map[string]bool
	for _, marker := range suggestionIntros {
		out, seen = addressesAfter(text, marker, 16, false, out, seen)
	}
	for _, a := range out {
		if a != rcpt {
			return a
		}
	}
	return ""
}

// addressesAfter appends to out the addresses that start within gap bytes
// after each occurrence of marker (a whole word) in text. Between the two
// stand only separators (white space, a colon, quotes, an angle bracket),
// or with words set, anything: a few words, a line break. It looks at the first 64
// occurrences.
func addressesAfter(text, marker string, gap int, words bool, out []string, seen map[string]bool) ([]string, map[string]bool) {
	search := newFoldSearch(text, marker)
	for i, n := search.next(0), 0; i >= 0 && n < 64; i, n = search.next(i+len(marker)), n+1 {
		if i > 0 && isAlnum(text[i-1]) {
			continue // inside a word: "entry", "country"
		}
		j := i + len(marker)
		if j < len(text) && isAlnum(text[j]) && isAlnum(marker[len(marker)-1]) {
			continue
		}
		for k := j; k < len(text) && k <= j+gap; k++ {
			if end := addressAt(text, k); end > k && (k == 0 || !isAddressByte(text[k-1])) {
				out, seen = appendAddress(out, seen, text[k:end])
				break
			}
			c := text[k]
			if !words && strings.IndexByte(" \t\r:<\"'", c) < 0 || c == '\n' && !words {
				break
			}
		}
	}
	return out, seen
}

// isAddressByte reports whether c can stand inside the local part of an
// address, so that an address found at the next byte is only a tail.
func isAddressByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}
