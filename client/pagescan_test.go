package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// TestScanPageFastPath checks which pages the one-pass scan takes itself (the well-formed ones) and which it
// leaves to decodeEnvelope, and that both agree on what the fast path returns.
func TestScanPageFastPath(t *testing.T) {
	tests := []struct {
		name string
		in   string
		fast bool
	}{
		{"typical", `{"object":"list","has_more":true,"next":"/sites/s/accounts?cursor=a%3A1","data":[{"id":"a"},{"id":"b","n":[1,2]}]}`, true},
		{"white space everywhere", " \n{ \"data\" : [ {\"id\" : \"a\",\n \"x\":1.50e2} , {} ] , \"has_more\" : false } \n", true},
		{"null data and next", `{"data":null,"next":null,"has_more":null}`, true},
		{"escaped next", `{"data":[],"next":"/n?c=\u0061"}`, true},
		{"duplicate has_more, last wins", `{"has_more":true,"has_more":false,"data":[]}`, true},
		{"null next keeps the earlier link", `{"next":"/a","next":null,"data":[]}`, true},
		{"invalid UTF-8 in next declined", "{\"next\":\"\xc9\",\"data\":[]}", false},
		{"escaped key declined", `{"d\u0061ta":[]}`, false},
		{"no data", `{"has_more":false}`, false},
		{"empty envelope", `{}`, false},
		{"duplicate data", `{"data":[],"data":[]}`, false},
		{"record not object", `{"data":[1]}`, false},
		{"invalid number in record", `{"data":[{"n":01}]}`, false},
		{"truncated", `{"data":[{"id":"a"},{"id":"b`, false},
		{"trailing garbage", `{"data":[]} x`, false},
		{"has_more a string", `{"has_more":"yes","data":[]}`, false},
		{"next a number", `{"next":5,"data":[]}`, false},
		{"nullish data", `{"data":nul}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := scanPage([]byte(tt.in), nil, nil)
			if ok != tt.fast {
				t.Fatalf("scanPage ok = %v, want %v", ok, tt.fast)
			}
			want, err := decodeEnvelope(bytes.NewReader([]byte(tt.in)))
			if !ok {
				return
			}
			if err != nil {
				t.Fatalf("scanPage accepted what decodeEnvelope rejects: %v", err)
			}
			if !samePage(p, want) {
				t.Fatalf("scanPage = %+v, decodeEnvelope = %+v", p, want)
			}
		})
	}
}

func samePage(a, b *Page) bool {
	if a.HasMore != b.HasMore || a.Next != b.Next || len(a.Records) != len(b.Records) {
		return false
	}
	for i := range a.Records {
		if !bytes.Equal(a.Records[i], b.Records[i]) {
			return false
		}
	}
	return true
}

// FuzzScanPage checks that whatever the fast scan accepts, decodeEnvelope accepts with the same page.
func FuzzScanPage(f *testing.F) {
	for _, s := range []string{
		`{"object":"list","has_more":true,"next":"/sites/s/accounts?cursor=a%3A1","data":[{"id":"a"},{"id":"b"}]}`,
		`{"data":[{"id":"a","nested":{"list":[1,-2.5e3,{"x":null}]},"s":"\"\\\u00e9"}],"has_more":false,"next":null}`,
		`{"data":null,"next":"/x","next":null}`,
		`{"data":[{}] }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		keys := []string{"id", "updated_at"}
		if p, ok := scanPage(in, keys, nil); ok {
			if len(p.Fields) != len(p.Records)*len(keys) {
				t.Fatalf("%d fields for %d records", len(p.Fields), len(p.Records))
			}
			want := make([][]byte, len(keys))
			for i, r := range p.Records {
				if err := jsonscan.Fields(r, keys, want); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				for k := range keys {
					if !bytes.Equal(p.Fields[i*len(keys)+k], want[k]) {
						t.Fatalf("record %d key %s: %q, Fields says %q", i, keys[k], p.Fields[i*len(keys)+k], want[k])
					}
				}
			}
		}
		p, ok := scanPage(in, nil, nil)
		if !ok {
			return
		}
		want, err := decodeEnvelope(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("scanPage accepted %q, decodeEnvelope says %v", in, err)
		}
		if !samePage(p, want) && !(len(p.Records) == 0 && len(want.Records) == 0 && p.HasMore == want.HasMore && p.Next == want.Next) {
			t.Fatalf("scanPage = %+v, decodeEnvelope = %+v", p, want)
		}
	})
}

// TestDecodePageFields checks that the keys asked for are read from every record, the same way on the fast
// path and on the encoding/json fallback (taken here for an envelope key written with an escape).
func TestDecodePageFields(t *testing.T) {
	keys := []string{"id", "updated_at"}
	records := `[{"id":"a","x":{"id":"no"},"updated_at":"t1"},{"updated_at":"t2"},{"id":"c","n":{"id":"nested"}}]`
	want := []string{`"a"`, `"t1"`, "", `"t2"`, `"c"`, ""}
	for _, in := range []string{`{"has_more":false,"data":` + records + `}`, `{"has_more":false,"d\u0061ta":` + records + `}`} {
		_, fast := scanPage([]byte(in), keys, nil)
		p, err := decodePageFields([]byte(in), keys, nil)
		if err != nil {
			t.Fatalf("fast %v: %v", fast, err)
		}
		if len(p.Records) != 3 || len(p.Fields) != len(want) {
			t.Fatalf("fast %v: %d records, %d fields", fast, len(p.Records), len(p.Fields))
		}
		for i, w := range want {
			if string(p.Fields[i]) != w {
				t.Errorf("fast %v: Fields[%d] = %q, want %q", fast, i, p.Fields[i], w)
			}
		}
		if p, err := decodePageFields([]byte(in), nil, nil); err != nil || p.Fields != nil {
			t.Errorf("fast %v: without keys: Fields %q, err %v", fast, p.Fields, err)
		}
	}
}

// TestListPageFields: ListParams.Fields is read from the answer, never sent.
func TestListPageFields(t *testing.T) {
	srv := newScripted(t, respond(http.StatusOK, page(false, "", "a", "b")))
	c := newTestClient(t, srv.URL)
	p, _, err := c.ListPage(context.Background(), "accounts", ListParams{Fields: []string{"object", "id"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.requests()[0].URL.RawQuery; got != "limit=200&order=asc&sort=updated_at" {
		t.Errorf("query = %q", got)
	}
	want := []string{`"account"`, `"a"`, `"account"`, `"b"`}
	if len(p.Fields) != len(want) {
		t.Fatalf("Fields = %q", p.Fields)
	}
	for i, w := range want {
		if string(p.Fields[i]) != w {
			t.Errorf("Fields[%d] = %q, want %q", i, p.Fields[i], w)
		}
	}
}

// TestListRefusesDuplicateKeys: a record holding a top-level key twice is checked by its first value while
// consumers read the last, so a page holding one is refused at once (a contract error, not retried), on
// the fast scan and on the encoding/json fallback alike, naming the key and the record.
func TestListRefusesDuplicateKeys(t *testing.T) {
	rec := `{"id":"r1","updated_at":"2024-01-05T00:00:00Z","name":"x","updated_at":"garbage","id":null}`
	tests := []struct{ name, body, key string }{
		{"fast scan", `{"object":"list","has_more":false,"next":null,"data":[{"id":"r0"},` + rec + `]}`, "updated_at"},
		{"fallback", `{"object":"list","has_more":false,"next":null,"d\u0061ta":[{"id":"r0"},` + rec + `]}`, "updated_at"},
		{"a key written with an escape", `{"object":"list","has_more":false,"data":[{"id":"r0"},{"id":"r1","i\u0064":null}]}`, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, keys := range [][]string{nil, {"id", "updated_at"}} {
				_, err := decodePageFields([]byte(tt.body), keys, nil)
				var dup *jsonscan.DuplicateKeyError
				if !errors.As(err, &dup) || dup.Key != tt.key || !strings.Contains(err.Error(), "data[1]") {
					t.Fatalf("keys %q: err = %v, want the duplicate %q of data[1]", keys, err, tt.key)
				}
			}
			srv := newScripted(t, respond(http.StatusOK, tt.body))
			c := newTestClient(t, srv.URL)
			_, _, err := c.ListPage(context.Background(), "accounts", ListParams{Fields: []string{"id"}})
			var ce *ContractError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), fmt.Sprintf("the key %q appears twice", tt.key)) {
				t.Fatalf("ListPage err = %v, want a contract error naming the key", err)
			}
			if n := len(srv.requests()); n != 1 {
				t.Fatalf("%d requests, want 1 (not retried)", n)
			}
		})
	}
}

// TestGetRefusesDuplicateKeys: a single object (a billing_info fetched by Get) holding a key twice is
// refused as a contract error, not retried.
func TestGetRefusesDuplicateKeys(t *testing.T) {
	srv := newScripted(t, respond(http.StatusOK, `{"account_id":"a1","updated_at":"2024-01-05T00:00:00Z","account_id":null}`))
	c := newTestClient(t, srv.URL)
	_, _, err := c.Get(context.Background(), "accounts/a1/billing_info")
	var ce *ContractError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `the key "account_id" appears twice`) || len(srv.requests()) != 1 {
		t.Fatalf("Get err = %v after %d requests; want one contract error naming the key", err, len(srv.requests()))
	}
}

// idChecker is a RecordChecker passing the records whose id starts with "ok" (reading them with jsonscan,
// as strictly as the client does, and refusing invalid UTF-8 as the contract asks).
type idChecker struct{ keys []string }

func (c idChecker) Check(b []byte, i int, out [][]byte) (int, bool) {
	end, err := jsonscan.ObjectFields(b, i, c.keys, out)
	id, _ := jsonscan.String(out[0])
	return end, err == nil && strings.HasPrefix(id, "ok") && utf8.Valid(b[i:end])
}

// TestListCheck: ListParams.Check reads each record in the client's pass; Page.Checked says which records
// it passed, the fields are the same either way, and a page read by the slow path, or a record repaired,
// is not taken as checked.
func TestListCheck(t *testing.T) {
	keys := []string{"id", "n"}
	tests := []struct {
		name, body string
		checked    []bool
	}{
		{"fast scan", `{"object":"list","has_more":false,"next":null,"data":[{"id":"ok1","n":1},{"n":2,"id":"no"},{"id":"ok3"}]}`,
			[]bool{true, false, true}},
		{"slow path", `{"object":"list","has_more":false,"next":null,"d\u0061ta":[{"id":"ok1","n":1},{"n":2,"id":"no"},{"id":"ok3"}]}`,
			nil},
		{"repaired", "{\"object\":\"list\",\"has_more\":false,\"next\":null,\"data\":[{\"id\":\"ok1\",\"n\":1},{\"n\":2,\"id\":\"no\"},{\"id\":\"ok\xff\"}]}",
			[]bool{true, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, respond(http.StatusOK, tt.body))
			c := newTestClient(t, srv.URL)
			p, _, err := c.ListPage(context.Background(), "accounts", ListParams{Fields: keys, Check: idChecker{keys}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Checked, tt.checked) {
				t.Errorf("Checked = %v, want %v", p.Checked, tt.checked)
			}
			want := []string{`"ok1"`, `1`, `"no"`, `2`, `"ok3"`, ``}
			if tt.name == "repaired" {
				want[4] = "\"ok\uFFFD\""
			}
			for i, w := range want {
				if string(p.Fields[i]) != w {
					t.Errorf("Fields[%d] = %q, want %q", i, p.Fields[i], w)
				}
			}
		})
	}
}
