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
	return out
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
