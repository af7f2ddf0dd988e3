package client

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		records []string
		hasMore bool
		next    string
		wantErr string
	}{
		{"typical", `{"object":"list","has_more":true,"next":"/sites/s/accounts?cursor=a%3A1","data":[{"id":"a"},{"id":"b","n":[1,2]}]}`,
			[]string{`{"id":"a"}`, `{"id":"b","n":[1,2]}`}, true, "/sites/s/accounts?cursor=a%3A1", ""},
		{"bytes kept exactly", "{\"data\":[ {\"id\" : \"a\",\n \"x\":1.50e2, \"s\":\"\\u00e9<>\"} ],\"has_more\":false}",
			[]string{"{\"id\" : \"a\",\n \"x\":1.50e2, \"s\":\"\\u00e9<>\"}"}, false, "", ""},
		{"keys in any order, unknown skipped", `{"data":[],"extra":{"a":[1,{"b":null}]},"next":null,"has_more":false,"object":"list"}`,
			nil, false, "", ""},
		{"empty page with more", `{"object":"list","has_more":true,"next":"/n","data":[]}`, nil, true, "/n", ""},
		{"null data", `{"object":"list","has_more":false,"data":null}`, nil, false, "", ""},
		{"null has_more", `{"has_more":null,"data":[]}`, nil, false, "", ""},
		{"surrounding whitespace", " \n{\"data\":[{}]}\n ", []string{`{}`}, false, "", ""},
		{"empty input", ``, nil, false, "", "unexpected EOF"},
		{"html", `<html><body>502 Bad Gateway</body></html>`, nil, false, "", "invalid character"},
		{"truncated in record", `{"object":"list","has_more":true,"data":[{"id":"a"},{"id":"b`, nil, false, "", "data[1]"},
		{"truncated between records", `{"object":"list","data":[{"id":"a"},`, nil, false, "", "unexpected EOF"},
		{"truncated after data", `{"object":"list","data":[{"id":"a"}]`, nil, false, "", "unexpected EOF"},
		{"truncated in key", `{"object":"list","has_m`, nil, false, "", "unexpected EOF"},
		{"truncated value", `{"object":"list","has_more":tr`, nil, false, "", "has_more"},
		{"no data", `{"object":"list","has_more":false}`, nil, false, "", "no data array"},
		{"data not array", `{"data":{"id":"a"}}`, nil, false, "", "not an array"},
		{"record not object", `{"data":[{"id":"a"},"b"]}`, nil, false, "", "data[1] is not a JSON object"},
		{"not an object", `[{"id":"a"}]`, nil, false, "", "want \"{\""},
		{"has_more wrong type", `{"has_more":"yes","data":[]}`, nil, false, "", "has_more"},
		{"next wrong type", `{"next":5,"data":[]}`, nil, false, "", "next"},
		{"trailing garbage", `{"data":[]} x`, nil, false, "", "after the closing brace"},
		{"two envelopes", `{"data":[]}{"data":[]}`, nil, false, "", "after the closing brace"},
		{"duplicate data", `{"data":[],"data":[]}`, nil, false, "", "duplicate data"},
		{"single object (billing_info)", `{"id":"b","object":"billing_info"}`, nil, false, "", "no data array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, one := range []bool{false, true} {
				r := iotestReader(tt.in, one)
				p, err := decodeFrom(r)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("DecodePage err = %v, want containing %q", err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("DecodePage: %v", err)
				}
				if p.HasMore != tt.hasMore || p.Next != tt.next || len(p.Records) != len(tt.records) {
					t.Fatalf("page = has_more %v next %q %d records; want %v %q %d", p.HasMore, p.Next, len(p.Records), tt.hasMore, tt.next, len(tt.records))
				}
				for i, rec := range p.Records {
					if string(rec) != tt.records[i] {
						t.Errorf("record %d = %s, want %s", i, rec, tt.records[i])
					}
				}
			}
		})
	}
}

// iotestReader feeds s whole or one byte per Read: DecodePage must not depend on how reads are split.
func iotestReader(s string, oneByte bool) io.Reader {
	if oneByte {
		return iotest.OneByteReader(strings.NewReader(s))
	}
	return strings.NewReader(s)
}

func TestDecodePageReadError(t *testing.T) {
	in := `{"object":"list","has_more":true,"next":"/n","data":[{"id":"a"},{"id":"b"}]}`
	if _, err := decodeFrom(iotest.TimeoutReader(strings.NewReader(in))); err == nil {
		t.Fatal("DecodePage ignored a read error")
	}
}

// FuzzDecodePage checks that DecodePage never panics, and that whatever it accepts is a well-formed page:
// every record is a valid JSON object, and the input was valid JSON.
func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{
		`{"object":"list","has_more":true,"next":"/sites/s/accounts?cursor=a%3A1","data":[{"id":"a"},{"id":"b"}]}`,
		`{"object":"list","has_more":false,"next":null,"data":[]}`,
		`{"data":[{"id":"a","nested":{"list":[1,2,{"x":null}]}}],"has_more":false}`,
		`{"object":"list","has_more":true,"data":[{"id":"a"},{"id":"b`,
		`<html>502</html>`,
		`{"data":null}`,
		``,
		`{"data":[]} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := decodeFrom(bytes.NewReader(in))
		if err != nil {
			if p != nil {
				t.Fatalf("DecodePage returned a page with error %v", err)
			}
			return
		}
		if !json.Valid(in) {
			t.Fatalf("DecodePage accepted invalid JSON %q", in)
		}
		for i, r := range p.Records {
			if !json.Valid(r) || r[0] != '{' {
				t.Fatalf("record %d is not a JSON object: %q", i, r)
			}
			if !utf8.Valid(r) {
				t.Fatalf("record %d is not valid UTF-8: %q", i, r)
			}
			if slices.Contains(p.Repaired, i) {
				// Its invalid UTF-8 was replaced: it is the input's record
				// with U+FFFD where the input had invalid bytes.
				if utf8.Valid(in) {
					t.Fatalf("repaired record %d %q, but the input was valid UTF-8", i, r)
				}
				if !bytes.Contains(bytes.ToValidUTF8(in, []byte("\uFFFD")), r) {
					t.Fatalf("repaired record %d %q is not the input's record with U+FFFD for its invalid bytes", i, r)
				}
				continue
			}
			if !bytes.Contains(in, r) {
				t.Fatalf("record %d bytes %q not found verbatim in input", i, r)
			}
		}
	})
}

// decodeFrom reads r whole and decodes it as the client decodes a list body.
func decodeFrom(r io.Reader) (*Page, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return decodePageFields(b, nil, nil)
}
