package jsonscan

import (
	"encoding/json"
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
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9"}`, `[1,-0.5e3,true]`, `"x\"y"`, `{"a":}`, `01`, `[1,]`, "\"\x01\""} {
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

func BenchmarkValid(b *testing.B) {
	rec := []byte(`{"id":"a1b2c3d4e5f6","object":"account","code":"user-1234","state":"active","username":null,"email":"someone@example.com","first_name":"Ada","last_name":"Lovelace","company":"Analytical Engines Ltd","vat_number":null,"tax_exempt":false,"address":{"phone":"+44 20 1234 5678","street1":"12 Some Street","street2":"","city":"London","region":"","postal_code":"NW1","country":"GB"},"created_at":"2020-01-02T03:04:05Z","updated_at":"2024-05-06T07:08:09Z","balance":-12.5e2,"tags":["a","b","c"]}`)
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
