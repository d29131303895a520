package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mailack/mailack/track"
)

// fillAll sets every field reachable from v to a non-zero value, so that a
// field the codec does not carry shows up as a difference.
func fillAll(v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('a'+*seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*seed) * 1000)
	case reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*seed))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillAll(s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillAll(p.Elem(), seed)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0.Add(time.Duration(*seed) * time.Second)))
			return
		}
		for i := range v.NumField() {
			fillAll(v.Field(i), seed)
		}
	default:
		panic("fillAll: unhandled kind " + v.Kind().String())
	}
}

func filled[T any]() T {
	var x T
	seed := 0
	fillAll(reflect.ValueOf(&x).Elem(), &seed)
	return x
}

func TestCodecKeepsEveryField(t *testing.T) {
	t.Run("mail", func(t *testing.T) {
		m := filled[track.Mail]()
		b, err := encodeMail(&m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeMail(m.MessageID, b)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("decodeMail(encodeMail(m)) = %+v, %v\nwant %+v", got, err, m)
		}
	})
	t.Run("evidence", func(t *testing.T) {
		ev := filled[track.Evidence]()
		b, err := encodeEvidence(&ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEvidence(ev.MessageID, ev.ID, b)
		if err != nil || !reflect.DeepEqual(got, ev) {
			t.Errorf("decodeEvidence(encodeEvidence(ev)) = %+v, %v\nwant %+v", got, err, ev)
		}
	})
	t.Run("orphan", func(t *testing.T) {
		o := filled[track.Orphan]()
		b, err := encodeOrphan(&o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeOrphan(o.Evidence.ID, b)
		if err != nil || !reflect.DeepEqual(got, o) {
			t.Errorf("decodeOrphan(encodeOrphan(o)) = %+v, %v\nwant %+v", got, err, o)
		}
	})
	t.Run("notice", func(t *testing.T) {
		n := filled[track.Notice]()
		r := toNoticeRec(&n)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back noticeRec
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.notice(), n) {
			t.Errorf("notice round trip = %+v, %v\nwant %+v", back.notice(), err, n)
		}
	})
}

func TestTimeKeysSort(t *testing.T) {
	times := []time.Time{
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), // clamped
		time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, -1),
		time.Unix(0, 0),
		t0,
		t0.Add(time.Nanosecond),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), // clamped
	}
	for i := 1; i < len(times); i++ {
		a, b := string(appendTime(nil, times[i-1])), string(appendTime(nil, times[i]))
		if a >= b {
			t.Errorf("key(%v) >= key(%v)", times[i-1], times[i])
		}
	}
	if got := readTime(appendTime(nil, t0)); !got.Equal(t0) {
		t.Errorf("readTime(appendTime(%v)) = %v", t0, got)
	}
}
