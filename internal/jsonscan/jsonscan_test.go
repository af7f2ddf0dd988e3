package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFields(t *testing.T) {
	keys := []string{"id", "updated_at", "billing_info"}
	tests := []struct {
		name string
		in   string
		want []string // "" means absent
		err  bool
	}{
		{"plain", `{"id":"abc","updated_at":"2020-01-01T00:00:00Z","billing_info":null}`, []string{`"abc"`, `"2020-01-01T00:00:00Z"`, `null`}, false},
		{"nested and escapes", ` { "x" : {"id":"inner","a":[1,{"b":"}"}]}, "s":"q\"id\\", "id" : "top" , "billing_info":{"account_id":"top","n":[]} } `,
			[]string{`"top"`, "", `{"account_id":"top","n":[]}`}, false},
		{"numbers and literals", `{"n":-1.5e3,"t":true,"f":false,"id":12}`, []string{"12", "", ""}, false},
		{"a duplicate key", `{"id":"a","id":"b"}`, nil, true},
		{"empty", `{}`, []string{"", "", ""}, false},
		{"array", `[]`, nil, true},
		{"truncated", `{"id":"a","b":{"c":1}`, nil, true},
		{"unterminated string", `{"id":"a`, nil, true},
		{"missing colon", `{"id" "a"}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([][]byte, len(keys))
			err := Fields([]byte(tt.in), keys, out)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			if tt.err {
				return
			}
			for i, w := range tt.want {
				if string(out[i]) != w {
					t.Errorf("%s = %q, want %q", keys[i], out[i], w)
				}
			}
		})
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{`"abc"`: "abc", `"a\u00e9\n"`: "a\u00e9\n", `"a\"b"`: `a"b`} {
		got, ok := String([]byte(in))
		if !ok || got != want {
			t.Errorf("String(%s) = %q %v", in, got, ok)
		}
	}
	for _, in := range []string{`12`, `null`, `"`, ``} {
		if _, ok := String([]byte(in)); ok {
			t.Errorf("String(%s) ok", in)
		}
	}
}

// FuzzFields checks Fields against encoding/json: on a valid object it either
// names a top-level key that the object really holds twice, or finds every
// key encoding/json finds with the same bytes, and no other; anything that is
// not a valid object it rejects. It must never panic.
func FuzzFields(f *testing.F) {
	f.Add([]byte(`{"id":"abc","updated_at":"2020-01-01T00:00:00Z","billing_info":{"id":"x"}}`))
	f.Add([]byte(`{"a":[1,2,{"id":"no"}],"id":"yes"}`))
	f.Add([]byte(`{"id":"a\"}`))
	f.Add([]byte(`{"id":"a","i\u0064":"b"}`))
	f.Add([]byte(`{"id":"r1","updated_at":"x","updated_at":null}`))
	f.Add([]byte(recurlyRecord))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys := []string{"id", "updated_at", "billing_info"}
		out := make([][]byte, 3)
		err := Fields(data, keys, out)
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil || m == nil {
			if err == nil && !json.Valid(data) {
				t.Fatalf("Fields accepted invalid JSON %q", data)
			}
			return
		}
		if !utf8.Valid(data) {
			// encoding/json folds every invalid byte of a name to U+FFFD, so
			// "\x8e" and "\xe4" are one name to it and two to Fields, which
			// compares names as written; the client repairs such a record and
			// reads its fields again (client.Page.repair), refusing the
			// duplicate there.
			return
		}
		n, escaped := 0, false
		_ = EachMember(data, func(k, _ []byte) bool {
			n++
			escaped = escaped || bytes.IndexByte(k, '\\') >= 0
			return true
		})
		var dup *DuplicateKeyError
		if errors.As(err, &dup) {
			if n == len(m) {
				t.Fatalf("Fields says %v, but every name is unique", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid object rejected: %v", err)
		}
		if n != len(m) {
			t.Fatal("Fields accepted an object holding a name twice")
		}
		for i, k := range keys {
			if escaped {
				break // Fields matches names by their raw text (documented)
			}
			want, ok := m[k]
			if ok != (out[i] != nil) || !bytes.Equal(out[i], want) {
				t.Fatalf("%s: Fields %q, encoding/json %q (present %v)", k, out[i], want, ok)
			}
		}
	})
}

// TestText: a plain string's text is a sub-slice of the input (no copy); an escaped one is decoded.
func TestText(t *testing.T) {
	v := []byte(`"2024-01-05T00:00:00Z"`)
	got, ok := Text(v)
	if !ok || string(got) != "2024-01-05T00:00:00Z" || &got[0] != &v[1] {
		t.Fatalf("Text(%s) = %q %v, or a copy", v, got, ok)
	}
	if got, ok := Text([]byte(`"a\u00e9\/"`)); !ok || string(got) != "a\u00e9/" {
		t.Fatalf("Text escaped = %q %v", got, ok)
	}
	for _, in := range []string{`12`, `"a` + "\x01" + `"`, `"\x"`, ``} {
		if _, ok := Text([]byte(in)); ok {
			t.Errorf("Text(%q) ok", in)
		}
	}
}

// TestObjectFieldsAcrossInputs: ObjectFields recycles its tables of names,
// which hold offsets into the input; a call on another input must neither
// read the last input's names (a long record, then a short one with the
// same names) nor allocate.
func TestObjectFieldsAcrossInputs(t *testing.T) {
	long := []byte(`{"id":"` + strings.Repeat("x", 500) + `","updated_at":"2024-01-05T00:00:00Z","name":"n"}`)
	tests := []struct {
		in      string
		id      string
		wantErr bool
	}{
		{in: `{"id":"a","updated_at":null,"name":"n"}`, id: `"a"`},
		{in: `{"id":"b","updated_at":null,"id":"c"}`, wantErr: true},
		{in: `{"name":"n","id":"d"}`, id: `"d"`},
	}
	out := make([][]byte, 2)
	for _, tc := range tests {
		if _, err := ObjectFields(long, 0, []string{"id", "name"}, out); err != nil {
			t.Fatal(err)
		}
		_, err := ObjectFields([]byte(tc.in), 0, []string{"id", "name"}, out)
		if (err != nil) != tc.wantErr || err == nil && string(out[0]) != tc.id {
			t.Errorf("%s: id %s, err %v; want %s, error %v", tc.in, out[0], err, tc.id, tc.wantErr)
		}
	}
	rec := []byte(`{"id":"a","updated_at":null,"name":"n","email":"e","code":"c"}`)
	var o Objects
	if n := testing.AllocsPerRun(100, func() { o.forget(); _, _ = o.Fields(rec, 0, []string{"id"}, out[:1]) }); n != 0 {
		t.Errorf("Objects.Fields allocates %.1f times per call", n)
	}
	// ObjectFields recycles its Objects through a sync.Pool. Without the race
	// detector that costs nothing per call; with it, the pool drops a quarter
	// of what is Put, so the bound is what a fresh Objects per call costs.
	fresh := testing.AllocsPerRun(100, func() { _, _ = new(Objects).Fields(rec, 0, []string{"id"}, out[:1]) })
	pooled := testing.AllocsPerRun(400, func() { _, _ = ObjectFields(rec, 0, []string{"id"}, out[:1]) })
	if !raceEnabled && pooled >= 1 || raceEnabled && pooled >= fresh {
		t.Errorf("ObjectFields allocates %.2f times per call (a fresh Objects: %.2f)", pooled, fresh)
	}
}
