package report

import (
	"bytes"
	"io"
	"testing"

	"github.com/emersion/go-message/charset"
)

// TestASCIICharsets checks that the decoders of asciiCharsets leave
// printable ASCII as it is, which lets decodeCharset skip them for such
// text.
func TestASCIICharsets(t *testing.T) {
	var plain []byte
	for c := byte(' '); c <= '~'; c++ {
		plain = append(plain, c)
	}
	plain = append(plain, "\t\r\n~{~}~~+-&-$B(B\\ ~\r\n"...)
	for name := range asciiCharsets {
		r, err := charset.Reader(name, bytes.NewReader(plain))
		if err != nil {
			t.Errorf("charset.Reader(%q) error: %v", name, err)
			continue
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("decoding printable ASCII as %s = %q, %v, want it unchanged", name, got, err)
		}
	}
}
