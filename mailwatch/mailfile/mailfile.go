// Package mailfile reads stored messages: single .eml files, folders of
// them, mbox files and Maildirs. It hands each message to a callback with a
// name saying where it came from, and never stops at one unreadable entry:
// the callback receives the error for that entry and the walk goes on.
package mailfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mailack/mailack/track/report"
)

// MaxMessageBytes caps how much of one message is kept. A longer message is
// shrunk as report.Shrink does: its structure and report parts are kept,
// and the beginning of its other parts.
const MaxMessageBytes = report.MaxMessageBytes

// Message is one stored message.
type Message struct {
	// Path is the file the message was read from.
	Path string
	// Index is the 1-based position of the message in an mbox file, and 0
	// for a file that holds one message.
	Index int
	// Raw is the message, at most MaxMessageBytes of it (see
	// MaxMessageBytes).
	Raw []byte
}

// Func is called for every message found. err is set, and m.Raw empty, when
// an entry could not be read. Returning a non-nil error stops the walk.
type Func func(m Message, err error) error

// Walk reads the message or messages at path: an .eml (or any single
// message) file, an mbox file, a Maildir, or a folder, recursively.
func Walk(path string, f Func) error {
	st, err := os.Stat(path)
	if err != nil {
		return f(Message{Path: path}, err)
	}
	if !st.IsDir() {
		return walkFile(path, f, false)
	}
	if isMaildir(path) {
		return walkMaildir(path, f)
	}
	return walkDir(path, f, false)
}

func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

func walkMaildir(dir string, f Func) error {
	for _, sub := range []string{"new", "cur"} {
		if err := walkDir(filepath.Join(dir, sub), f, true); err != nil {
			return err
		}
	}
	return nil
}

// walkDir reads every regular file below dir in lexical order, skipping
// hidden files and the files that sit beside messages in mail folders.
// maildir says that dir is a Maildir's new or cur folder, whose files each
// hold one message.
func walkDir(dir string, f Func, maildir bool) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return f(Message{Path: p}, err)
		}
		name := d.Name()
		if p != dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != dir && isMaildir(p) {
				files = append(files, p)
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !skipName(name) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, p := range files {
		var err error
		if isMaildir(p) {
			err = walkMaildir(p, f)
		} else {
			err = walkFile(p, f, maildir)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// skipName reports files that are known not to be messages.
func skipName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".md", ".txt", ".go", ".yaml", ".yml":
		return true
	}
	return strings.HasPrefix(name, "dovecot") || name == "maildirfolder" || name == "subscriptions"
}

// walkFile reads one file, which may be an mbox holding several messages.
// A Maildir file (whole is set) or an .eml file holds one message, whatever
// its body says: only its leading mbox envelope line, if any, is dropped.
func walkFile(path string, f Func, whole bool) error {
	fh, err := os.Open(path)
	if err != nil {
		return f(Message{Path: path}, err)
	}
	defer fh.Close()
	var size int64
	if st, err := fh.Stat(); err == nil {
		size = st.Size()
	}
	r := bufio.NewReaderSize(fh, 64<<10)
	head, _ := r.Peek(5)
	isEML := strings.EqualFold(filepath.Ext(path), ".eml")
	if string(head) == "From " {
		if !whole && !isEML {
			return readMbox(path, r, size, f)
		}
		line, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return f(Message{Path: path}, fmt.Errorf("read message: %w", err))
		}
		size -= int64(len(line))
	}
	raw, err := readMessage(r, size)
	if err != nil {
		return f(Message{Path: path}, err)
	}
	return f(Message{Path: path, Raw: raw}, nil)
}

// readMessage reads one message of about size bytes (the file's length,
// which may have changed since) into a buffer of that size, or shrinks it
// when it is longer than MaxMessageBytes.
func readMessage(r io.Reader, size int64) ([]byte, error) {
	if size > MaxMessageBytes {
		raw, err := report.Shrink(r, MaxMessageBytes)
		if err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		return raw, nil
	}
	// One byte more than expected tells a file that grew.
	raw := make([]byte, max(size, 0)+1)
	n, err := io.ReadFull(r, raw)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		raw = raw[:n]
	case err != nil:
		return nil, fmt.Errorf("read message: %w", err)
	default:
		rest, err := io.ReadAll(io.LimitReader(r, MaxMessageBytes+1-int64(n)))
		if err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		raw = append(raw, rest...)
	}
	if len(raw) > MaxMessageBytes {
		shrunk, err := report.Shrink(bytes.NewReader(raw), MaxMessageBytes)
		if err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		raw = shrunk
	}
	return raw, nil
}

// shrink makes room in a message read so far (see MaxMessageBytes). The
// lines that follow continue the shrunk message as they continued the
// whole one, as report.Shrink keeps structure line by line. It reports
// false when shrinking does not free half the room.
func shrink(cur *bytes.Buffer) bool {
	// Reading from memory cannot fail.
	small, _ := report.Shrink(bytes.NewReader(cur.Bytes()), MaxMessageBytes)
	if len(small) > MaxMessageBytes/2 {
		return false
	}
	cur.Reset()
	cur.Write(small)
	return true
}

// fromLine matches an mbox envelope line: "From sender weekday month day
// time year". A "From " line in a body that is not one (an unescaped quote)
// does not split the message.
var fromLine = regexp.MustCompile(`^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{1,2}:\d{2}(:\d{2})? `)

// readMbox splits an mbox file at its "From " lines. A file with a single
// message is reported with Index 0, as if it were an .eml file with an mbox
// envelope line (as many saved reports are). ">From " lines are unquoted
// (mboxrd). size is the file's length: a file holding one message is read
// into one buffer of that size. A message longer than MaxMessageBytes is
// shrunk as it is read (see MaxMessageBytes).
func readMbox(path string, r *bufio.Reader, size int64, f Func) error {
	var (
		cur      bytes.Buffer
		n        int
		pending  *Message
		overflow bool
		blank    = true // the previous line was empty (or there was none)
	)
	cur.Grow(int(min(max(size, 0), MaxMessageBytes)))
	flush := func() error {
		if n == 0 {
			return nil
		}
		m := Message{Path: path, Index: n, Raw: cur.Bytes()}
		cur = bytes.Buffer{}
		overflow = false
		if pending != nil {
			if err := f(*pending, nil); err != nil {
				return err
			}
		}
		pending = &m
		return nil
	}
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A very long line: keep what fits, drop the rest of it.
			if !overflow && cur.Len()+len(line) <= MaxMessageBytes {
				cur.Write(line)
			}
			continue
		}
		if len(line) > 0 {
			isBlank := len(bytes.TrimRight(line, "\r\n")) == 0
			switch {
			case n == 0 || blank && fromLine.Match(line):
				if ferr := flush(); ferr != nil {
					return ferr
				}
				n++
			default:
				if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) && line[0] == '>' {
					line = line[1:]
				}
				if !overflow && cur.Len()+len(line) > MaxMessageBytes {
					overflow = !shrink(&cur)
				}
				if cur.Len()+len(line) <= MaxMessageBytes {
					cur.Write(line)
				}
			}
			blank = isBlank
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return f(Message{Path: path, Index: n}, fmt.Errorf("read mbox: %w", err))
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if pending == nil {
		return nil
	}
	if n == 1 {
		pending.Index = 0
	}
	return f(*pending, nil)
}
