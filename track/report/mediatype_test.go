package report

import (
	"bytes"
	"mime"
	"reflect"
	"testing"
)

// checkMediaType checks that parseSimpleMediaType, when it reads v, reads
// it as mime.ParseMediaType does.
func checkMediaType(t *testing.T, v string) {
	t.Helper()
	mt, ps, ok := parseSimpleMediaType(v)
	if !ok {
		return
	}
	params := map[string]string{}
	for _, p := range ps {
		params[p.name] = p.value
	}
	wmt, wparams, err := mime.ParseMediaType(v)
	if err != nil || mt != wmt || !reflect.DeepEqual(params, wparams) {
		t.Errorf("parseSimpleMediaType(%q) = %q, %q, want %q, %q, %v", v, mt, params, wmt, wparams, err)
	}
}

var mediaTypeCases = []string{
	"text/plain", "Text/Plain; Charset=\"US-ASCII\"", "multipart/report; report-type=delivery-status;\tboundary=\"a b\"",
	"text/plain;", "text/plain; ;", "text/plain; charset=a; charset=a", "text/plain; charset=a; charset=b",
	"text/plain; name*=utf-8''x", "text/plain; a=\"x\\\"y\"", "text/plain; a=\"unterminated", "text/plain a=b",
	"text; a=b", "text/; a=b", "/plain", "text/plain; a=", "text/plain; =b", "text/plain; a=b c", "text/plain;a=b;",
	" text/plain ; a = b ", "text/plain; a=\"\"", "text/plain; a=\"é\"", "text/plain\r; a=b", "téxt/plain",
}

func TestParseSimpleMediaType(t *testing.T) {
	for _, v := range mediaTypeCases {
		checkMediaType(t, v)
	}
	read := 0
	for _, raw := range sampleMessages(t) {
		w := &walker{}
		var visit func(e *entity)
		visit = func(e *entity) {
			v := e.hdr.get("content-type")
			if _, _, ok := parseSimpleMediaType(v); ok {
				read++
			}
			checkMediaType(t, v)
			for _, c := range e.children {
				visit(c)
			}
			if e.embedded != nil {
				visit(e.embedded)
			}
		}
		visit(w.parseEntity(normalizeNewlines(raw), 0, "text/plain"))
	}
	if read == 0 {
		t.Errorf("parseSimpleMediaType read no Content-Type of the samples")
	}
}

func FuzzSimpleMediaType(f *testing.F) {
	for _, v := range mediaTypeCases {
		f.Add(v)
	}
	f.Fuzz(checkMediaType)
}

// refGuessBoundary is guessBoundary as it was, searching the rest of the
// body for each candidate.
func refGuessBoundary(body []byte) string {
	rest := body
	for i := 0; len(rest) > 0 && i < 1000; i++ {
		var line []byte
		line, rest = cutLine(rest)
		if len(line) < 4 || line[0] != '-' || line[1] != '-' || bytes.ContainsAny(line, " \t") {
			continue
		}
		b := bytes.TrimSuffix(line[2:], []byte("--"))
		if bytes.Contains(rest, append([]byte("\n--"), b...)) {
			return string(b)
		}
	}
	return ""
}

func FuzzGuessBoundary(f *testing.F) {
	for _, s := range []string{"--a\n--a\n", "--ab\n--a\n--abc--\n", "----\n--x\n", "--A\n--a\n", "--b1\r\n--b2\r\n--b1x\r\n",
		"x\n--bb\n--aa\n--bb--\n--aa\n", "--aa--\n--aa\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := guessBoundary(body), refGuessBoundary(body); got != want {
			t.Errorf("guessBoundary(%q) = %q, want %q", body, got, want)
		}
	})
}

func TestGuessBoundary(t *testing.T) {
	for name, raw := range sampleMessages(t) {
		_, body := parseHeader(normalizeNewlines(raw))
		if got, want := guessBoundary(body), refGuessBoundary(body); got != want {
			t.Errorf("guessBoundary(%s body) = %q, want %q", name, got, want)
		}
	}
}
