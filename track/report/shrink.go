package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A report's parts are small, but the message it returns can be huge, and
// RFC 3462 puts nothing in the way of a returned message that comes before
// the report part. Cutting such a message at a size cap would lose the
// report. Shrink keeps the structure instead: every header and every
// boundary line, report parts whole, the text a bounce is written in, and
// only the beginning of anything else.

// Budgets of the bytes of one body Shrink keeps, at most a quarter
// (text) or a sixteenth (anything else) of its limit.
const (
	// shrinkTextBytes is kept of a text part outside a returned message.
	shrinkTextBytes = 1 << 20
	// shrinkOtherBytes is kept of any other body: an attachment, the
	// body of a returned message, a multipart's preamble.
	shrinkOtherBytes = 64 << 10
	// shrinkLineBytes is how much of a line is looked at at once.
	shrinkLineBytes = 64 << 10
)

// shrinkKeepWhole are the media types of report parts, kept whole.
var shrinkKeepWhole = map[string]bool{
	"message/delivery-status":                 true,
	"message/global-delivery-status":          true,
	"message/disposition-notification":        true,
	"message/global-disposition-notification": true,
	"text/rfc822-headers":                     true,
	"message/global-headers":                  true,
	"message/feedback-report":                 true,
}

// Shrink reads one message from r and returns at most limit bytes of it
// that Parse reads as it would read the whole message: the headers of the
// message and of all its parts, the multipart boundaries, the report parts
// whole, and the first bytes of the other bodies (see shrinkTextBytes and
// shrinkOtherBytes). It reads r to its end. Callers use it for messages
// longer than MaxMessageBytes; Parse applies it itself to longer input.
func Shrink(r io.Reader, limit int) ([]byte, error) {
	if limit <= 0 {
		return nil, errors.New("report: shrink limit must be positive")
	}
	s := &shrinker{limit: limit, inHeader: true}
	br := bufio.NewReaderSize(r, shrinkLineBytes)
	atStart := true // the chunk starts a line
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			s.chunk(chunk, atStart)
			atStart = chunk[len(chunk)-1] == '\n'
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			s.flushHeader()
			return s.out, nil
		default:
			return s.out, fmt.Errorf("read message: %w", err)
		}
	}
}

// shrinkFrame is one open multipart or embedded message.
type shrinkFrame struct {
	delim    []byte // "--" + boundary, or nil for an embedded message
	embedded bool
}

type shrinker struct {
	out      []byte
	limit    int
	frames   []shrinkFrame
	inHeader bool
	hdr      []byte // the header being read, of the entity that starts after the last boundary
	keep     int    // bytes of the current body still kept
	opened   bool   // an embedded message has just started: blank lines before its header are skipped
	skipLine bool   // the rest of the current (long) line is not kept
}

func (s *shrinker) write(b []byte) {
	if n := s.limit - len(s.out); n > 0 {
		s.out = append(s.out, b[:min(n, len(b))]...)
	}
}

// chunk takes a line, or a piece of a long line (atStart says whether it
// begins the line).
func (s *shrinker) chunk(c []byte, atStart bool) {
	if s.inHeader {
		blank := atStart && len(bytes.TrimRight(c, "\r\n")) == 0
		if s.opened && blank {
			s.write(c)
			return
		}
		s.opened = false
		if len(s.hdr)+len(c) <= maxHeaderBytes {
			s.hdr = append(s.hdr, c...)
		}
		if blank {
			s.endHeader()
		}
		return
	}
	if atStart && len(c) > 2 && c[0] == '-' && c[1] == '-' && s.boundary(c) {
		return
	}
	if atStart {
		s.skipLine = len(c) > s.keep
	}
	if s.skipLine {
		s.keep = 0
		return
	}
	s.keep -= len(c)
	s.write(c)
}

// boundary handles a line that may be a delimiter of an open multipart,
// the innermost first, and reports whether it was one.
func (s *shrinker) boundary(line []byte) bool {
	for k := len(s.frames) - 1; k >= 0; k-- {
		d := s.frames[k].delim
		if d == nil || !bytes.HasPrefix(line, d) {
			continue
		}
		s.frames = s.frames[:k+1]
		s.write(line)
		if bytes.HasPrefix(line[len(d):], []byte("--")) {
			// The multipart ends; what follows is its epilogue.
			s.frames = s.frames[:k]
			s.keep = s.other()
			return true
		}
		s.inHeader = true
		s.hdr = s.hdr[:0]
		return true
	}
	return false
}

// flushHeader writes a header that the input ended in.
func (s *shrinker) flushHeader() {
	if s.inHeader {
		s.write(s.hdr)
		s.hdr = s.hdr[:0]
	}
}

// endHeader writes the header just read and decides how much of the body
// that follows is kept.
func (s *shrinker) endHeader() {
	s.write(s.hdr)
	h, _ := parseHeader(s.hdr)
	s.hdr = s.hdr[:0]
	s.inHeader = false
	mt, params := parseContentType(h.get("content-type"), "text/plain")
	inside := false
	for _, f := range s.frames {
		inside = inside || f.embedded
	}
	enc := strings.ToLower(strings.TrimSpace(h.get("content-transfer-encoding")))
	switch {
	case len(s.frames) >= 2*maxDepth:
		s.keep = s.other()
	case strings.HasPrefix(mt, "multipart/") && params.get("boundary") != "":
		s.frames = append(s.frames, shrinkFrame{delim: []byte("--" + params.get("boundary"))})
		s.keep = s.other() // the preamble
	case (mt == "message/rfc822" || mt == "message/global") && enc != "base64" && enc != "quoted-printable":
		s.frames = append(s.frames, shrinkFrame{embedded: true})
		s.inHeader, s.opened = true, true
	case shrinkKeepWhole[mt]:
		s.keep = s.limit
	case strings.HasPrefix(mt, "text/") && !inside:
		s.keep = min(shrinkTextBytes, s.limit/4)
	default:
		s.keep = s.other()
	}
}

// other is how much of a body that is neither a report part nor the
// report's text is kept.
func (s *shrinker) other() int {
	return min(shrinkOtherBytes, s.limit/16)
}
