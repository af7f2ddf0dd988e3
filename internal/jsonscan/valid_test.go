package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{` [ ] `, true},
		{`{"a":[1,-2.5e+3,0,0.1,1E9,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"],"b":{"c":{}}}`, true},
		{`"plain"`, true},
		{`-0`, true},
		{"\"caf\xc3\xa9 \xff\"", true}, // bytes >= 0x80 are not checked, as in encoding/json
		{deep(MaxDepth), true},
		{deep(MaxDepth + 1), false},
		{``, false},
		{`   `, false},
		{`{`, false},
		{`{"a"}`, false},
		{`{"a":}`, false},
		{`{"a":1,}`, false},
		{`[1,]`, false},
		{`[1 2]`, false},
		{`{"a":1 "b":2}`, false},
		{`{a:1}`, false},
		{`{"a":1]`, false},
		{`[1}`, false},
		{`01`, false},
		{`1.`, false},
		{`.5`, false},
		{`1e`, false},
		{`1e+`, false},
		{`-`, false},
		{`+1`, false},
		{`tru`, false},
		{`truex`, false},
		{`nul`, false},
		{`"\x"`, false},
		{`"\u12g4"`, false},
		{`"\u12"`, false},
		{"\"tab\there\"", false},
		{`"unterminated`, false},
		{`{} {}`, false},
		{`{"a":1} x`, false},
		{`[1true]`, false},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			if got := Valid([]byte(tt.in)); got != tt.want {
				t.Errorf("Valid = %v, want %v", got, tt.want)
			}
			if jv := json.Valid([]byte(tt.in)); jv != tt.want {
				t.Errorf("test table disagrees with encoding/json: json.Valid = %v", jv)
			}
		})
	}
}

func TestValueEnd(t *testing.T) {
	tests := []struct {
		in   string
		at   int
		want int // -1: error
	}{
		{`{"a":[1,{"b":"}"}]},"next"`, 0, 19},
		{`x: "s\"q" ,`, 3, 9},
		{`[12,13]`, 1, 3},
		{`[12,13]`, 4, 6},
		{`{"a":1`, 0, -1},
		{`[`, 0, -1},
		{`[1,2]`, 5, -1},
	}
	for _, tt := range tests {
		end, err := Value([]byte(tt.in), tt.at)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("Value(%q, %d) = %d, want an error", tt.in, tt.at, end)
			}
			continue
		}
		if err != nil || end != tt.want {
			t.Errorf("Value(%q, %d) = %d, %v; want %d", tt.in, tt.at, end, err, tt.want)
		}
	}
}

func TestSkipSpace(t *testing.T) {
	for in, want := range map[string]int{"": 0, " \t\r\n x": 5, "x ": 0, "   ": 3} {
		if got := SkipSpace([]byte(in), 0); got != want {
			t.Errorf("SkipSpace(%q) = %d, want %d", in, got, want)
		}
	}
}

// FuzzValid checks Valid against encoding/json's Valid on any input, and
// that Value's end offset delimits exactly the value encoding/json reads.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9"}`, `[1,-0.5e3,true]`, `"x\"y"`, `{"a":}`, `01`, `[1,]`, "\"\x01\"",
		recurlyRecord, `["a string of twenty-four","\\ and \" at 16 \u00e9 \/","`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := Valid(data), json.Valid(data)
		if got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", data, got, want)
		}
		i := SkipSpace(data, 0)
		end, err := Value(data, i)
		if err != nil {
			return
		}
		if !json.Valid(data[i:end]) {
			t.Fatalf("Value accepted %q, which encoding/json rejects", data[i:end])
		}
	})
}

// recurlyRecord is shaped like a Recurly account: many short keys and
// strings, a few nulls, numbers and nested objects.
const recurlyRecord = `{"id":"a1b2c3d4e5f6","object":"account","code":"user-1234","state":"active","username":null,"email":"someone@example.com","first_name":"Ada","last_name":"Lovelace","company":"Analytical Engines Ltd","vat_number":null,"tax_exempt":false,"address":{"phone":"+44 20 1234 5678","street1":"12 Some Street","street2":"","city":"London","region":"","postal_code":"NW1","country":"GB"},"created_at":"2020-01-02T03:04:05Z","updated_at":"2024-05-06T07:08:09Z","balance":-12.5e2,"tags":["a","b","c"]}`

func BenchmarkValid(b *testing.B) {
	rec := []byte(recurlyRecord)
	page := []byte(`{"object":"list","has_more":true,"next":"/n","data":[` + strings.TrimSuffix(strings.Repeat(string(rec)+",", 200), ",") + `]}`)
	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for range b.N {
			if !Valid(page) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for range b.N {
			if !json.Valid(page) {
				b.Fatal("invalid")
			}
		}
	})
}

func TestObjectFields(t *testing.T) {
	keys := []string{"id", "updated_at", "billing_info"}
	tests := []struct {
		name string
		in   string
		at   int
		want []string // "" means absent
		end  int      // -1: an error; 0: the whole input
	}{
		{"plain", `{"id":"abc","updated_at":"2020-01-01T00:00:00Z","billing_info":null}`, 0,
			[]string{`"abc"`, `"2020-01-01T00:00:00Z"`, `null`}, 0},
		{"nested keys are not top-level", `{"x":{"id":"inner"},"s":"\"id\"","id" : "top" , "billing_info":{"id":"b","n":[1,2.5e3]} }`, 0,
			[]string{`"top"`, "", `{"id":"b","n":[1,2.5e3]}`}, 0},
		{"inside a page", `[{"id":"a"},{"id":"b"}]`, 12, []string{`"b"`, "", ""}, 22},
		{"a duplicate key", `{"id":"a","id":"b"}`, 0, nil, -1},
		{"a duplicate key not asked for", `{"id":"a","x":1,"y":{"x":2},"x":3}`, 0, nil, -1},
		{"a duplicate key nested (not checked)", `{"id":"a","y":{"x":2,"x":3}}`, 0, []string{`"a"`, "", ""}, 0},
		{"empty", `{ }`, 0, []string{"", "", ""}, 0},
		{"white space after", `{"id":"a"}  `, 0, []string{`"a"`, "", ""}, 10},
		{"prefixes and extensions of wanted keys", `{"i":1,"idd":2,"updated":"x","updated_at_x":"y","billing_inf":3}`, 0,
			[]string{"", "", ""}, 0},
		{"escaped wanted keys do not match (raw text)", `{"i\u0064":"x","updated\u005fat":"t","xid":"raw"}`, 0,
			[]string{"", "", ""}, 0},
		{"a duplicate key written with an escape", `{"id":"raw","i\u0064":"x"}`, 0, nil, -1},
		{"wanted keys only nested", `{"a":[{"id":"x"}],"b":{"updated_at":"t"}}`, 0, []string{"", "", ""}, 0},
		{"value holding the keys", `{"billing_info":{"id":"in","updated_at":"t"},"id":"out"}`, 0,
			[]string{`"out"`, "", `{"id":"in","updated_at":"t"}`}, 0},
		{"every value kind", "{\"id\":-1.5e3,\"updated_at\":[true,false,null,\"\\u00e9\"] ,\n\"billing_info\"\t: null}", 0,
			[]string{`-1.5e3`, `[true,false,null,"\u00e9"]`, `null`}, 0},
		{"not an object", `["id"]`, 0, nil, -1},
		{"invalid value after the keys", `{"id":"a","updated_at":"b","billing_info":1,"z":tru}`, 0, nil, -1},
		{"bad number", `{"id":01}`, 0, nil, -1},
		{"truncated", `{"id":"a","b":{"c":1}`, 0, nil, -1},
		{"missing colon", `{"id" "a"}`, 0, nil, -1},
		{"trailing comma", `{"id":"a",}`, 0, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.end == 0 {
				tt.end = len(tt.in)
			}
			out := make([][]byte, len(keys))
			end, err := ObjectFields([]byte(tt.in), tt.at, keys, out)
			if tt.end < 0 {
				if err == nil {
					t.Fatalf("ObjectFields = %d, want an error", end)
				}
				return
			}
			if err != nil || end != tt.end {
				t.Fatalf("ObjectFields = %d, %v; want %d", end, err, tt.end)
			}
			for i, w := range tt.want {
				if string(out[i]) != w {
					t.Errorf("%s = %q, want %q", keys[i], out[i], w)
				}
			}
		})
	}
}

// TestFieldsReadsWholeObject: Fields checks the whole object, past its last
// key, so that a later duplicate of a key it read is refused.
func TestFieldsReadsWholeObject(t *testing.T) {
	out := make([][]byte, 2)
	if err := Fields([]byte(`{"id":"a","updated_at":"t","rest":not json at all}`), []string{"updated_at", "id"}, out); err == nil {
		t.Fatal("Fields accepted invalid JSON after its keys")
	}
	err := Fields([]byte(`{"id":"r1","updated_at":"2024-01-05T00:00:00Z","x":1,"updated_at":"garbage","id":null}`), []string{"updated_at", "id"}, out)
	var dup *DuplicateKeyError
	if !errors.As(err, &dup) || dup.Key != "updated_at" || !strings.Contains(err.Error(), `the key "updated_at" appears twice`) {
		t.Fatalf("Fields = %v, want the duplicate updated_at named", err)
	}
}

// FuzzObjectFields checks ObjectFields against Value (same end, same
// verdict) and, on valid objects, against Fields (same values).
func FuzzObjectFields(f *testing.F) {
	for _, s := range []string{`{"id":"a","updated_at":"t","billing_info":{"id":"x"}}`, `{"a":[1,{"id":"no"}],"id":"yes"}`, `{"id":"a\"}`, `{}`, `[]`, recurlyRecord} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys := []string{"id", "updated_at", "billing_info"}
		out := make([][]byte, len(keys))
		i := SkipSpace(data, 0)
		end, err := ObjectFields(data, i, keys, out)
		vEnd, vErr := Value(data, i)
		isObj := i < len(data) && data[i] == '{'
		var dup *DuplicateKeyError
		if errors.As(err, &dup) {
			if vErr != nil || !hasDuplicateName(data[i:vEnd]) {
				t.Fatalf("ObjectFields says %v; Value err %v", err, vErr)
			}
			return
		}
		if isObj && (err == nil) != (vErr == nil) {
			t.Fatalf("ObjectFields err %v, Value err %v", err, vErr)
		}
		if err != nil {
			return
		}
		if hasDuplicateName(data[i:end]) {
			t.Fatalf("ObjectFields accepted an object holding a name twice")
		}
		if !isObj || end != vEnd {
			t.Fatalf("ObjectFields end %d, Value end %d (object %v)", end, vEnd, isObj)
		}
		want := make([][]byte, len(keys))
		if err := Fields(data[i:end], keys, want); err != nil {
			t.Fatalf("Fields rejects what ObjectFields accepts: %v", err)
		}
		for k := range keys {
			if string(out[k]) != string(want[k]) {
				t.Fatalf("%s: ObjectFields %q, Fields %q", keys[k], out[k], want[k])
			}
		}
	})
}

// hasDuplicateName reports whether the valid object obj holds a top-level
// name twice, once decoded (by encoding/json, independently of scan).
func hasDuplicateName(obj []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return false
	}
	n := 0
	_ = EachMember(obj, func([]byte, []byte) bool { n++; return true })
	return n != len(m)
}

// TestSpecial checks the eight-byte test against the byte-at-a-time one:
// for every byte c at every position p, with every byte f around it (plain
// bytes before p, anything after), the lowest flag is at p exactly when c
// ends a run of plain string bytes, and no flag is below p.
func TestSpecial(t *testing.T) {
	plain := func(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' }
	for c := range 256 {
		for p := range 8 {
			for f := range 256 {
				var w [8]byte
				for k := range w {
					w[k] = byte(f)
					if k < p && !plain(byte(f)) {
						w[k] = 'a'
					}
				}
				w[p] = byte(c)
				got := bits.TrailingZeros64(special(binary.LittleEndian.Uint64(w[:]))) / 8
				want := 8
				for k, b := range w {
					if !plain(b) {
						want = k
						break
					}
				}
				if got != want {
					t.Fatalf("special(% x): first flag at %d, want %d", w, got, want)
				}
			}
		}
	}
}

// TestStringsEveryPosition puts a byte that ends or breaks a run of plain
// string bytes (and some that look close to one) at every position of
// strings 0 to 33 bytes long, as a value, a key, an array element and a
// whole document, with 0 to 8 bytes after it, so that every word boundary
// and the bytewise tail are crossed; Valid and Value must agree with
// encoding/json on each, and Value must end just after a valid document.
func TestStringsEveryPosition(t *testing.T) {
	bytesAt := []string{"\"", "\\", "\\n", "\\u00e9", "\\u12", "\\x", "\x00", "\x1f", "\n", "\t", " ", "!", "#", "]", "[", "\x7f", "\x80", "\xff", "\\\\", "\\\""}
	frames := []struct{ pre, post string }{{``, ``}, {`{"k":`, `}`}, {`{`, `:1}`}, {`[`, `,"x"]`}, {`{"a":[`, `],"b":null}`}}
	for n := range 34 {
		for p := range max(n, 1) {
			for _, c := range bytesAt {
				s := []byte(strings.Repeat("a", n))
				if n > 0 {
					s = append(s[:p:p], append([]byte(c), s[p+1:]...)...)
				}
				for _, fr := range frames {
					for pad := range 9 {
						doc := []byte(fr.pre + `"` + string(s) + `"` + fr.post + strings.Repeat(" ", pad))
						want := json.Valid(doc)
						if got := Valid(doc); got != want {
							t.Fatalf("Valid(%q) = %v, encoding/json says %v", doc, got, want)
						}
						if end, err := Value(doc, 0); want && (err != nil || end != len(bytes.TrimRight(doc, " "))) {
							t.Fatalf("Value(%q) = %d, %v; want %d", doc, end, err, len(bytes.TrimRight(doc, " ")))
						}
					}
				}
			}
		}
	}
}

// TestObjectFieldsKeyLists: a key asked for twice is filled twice, and a
// key of 63 bytes or more (past the length test's last bucket) is found.
func TestObjectFieldsKeyLists(t *testing.T) {
	long := strings.Repeat("k", 70)
	tests := []struct {
		keys []string
		in   string
		want []string
	}{
		{[]string{"id", "id"}, `{"x":1,"id":"a"}`, []string{`"a"`, `"a"`}},
		{[]string{long, "id"}, `{"` + long[:69] + `":1,"` + long + `":2,"id":3}`, []string{"2", "3"}},
		{[]string{"", "a"}, `{"":0,"a":1}`, []string{"0", "1"}},
		{nil, `{"a":1}`, nil},
	}
	for _, tt := range tests {
		out := make([][]byte, len(tt.keys))
		end, err := ObjectFields([]byte(tt.in), 0, tt.keys, out)
		if err != nil || end != len(tt.in) {
			t.Fatalf("ObjectFields(%s) = %d, %v", tt.in, end, err)
		}
		for k, w := range tt.want {
			if string(out[k]) != w {
				t.Errorf("%s: key %d = %q, want %q", tt.in, k, out[k], w)
			}
		}
	}
}
