package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// decodePageFields decodes a whole list body and locates the top-level keys of every record in
// Page.Fields. Records are sub-slices of b, which must not be modified afterwards. The common, well-formed
// page takes one strict pass (scanPage), in which check (if not nil) checks each record; anything scanPage
// declines goes through decodeEnvelope, which accepts or rejects it with a precise error, and leaves the
// caller's check to the caller. Records holding invalid UTF-8 are repaired (see Page.Repaired).
func decodePageFields(b []byte, keys []string, check RecordChecker) (*Page, error) {
	p, ok := scanPage(b, keys, check)
	if !ok {
		var err error
		if p, err = decodeEnvelope(bytes.NewReader(b)); err != nil {
			return nil, err
		}
		p.Fields = make([][]byte, len(p.Records)*len(keys))
		for i := range p.Records { // also refuses a record holding a key twice
			if err := p.fields(i, keys); err != nil {
				return nil, fmt.Errorf("list envelope: data[%d]: %w", i, err)
			}
		}
		if len(keys) == 0 {
			p.Fields = nil
		}
	}
	if !p.validUTF8() {
		return p, p.repair(keys)
	}
	return p, nil
}

// validUTF8 reports whether every record is valid UTF-8; a record the page's RecordChecker passed is.
// (The envelope's next link, the one other string used, is checked as it is read.)
func (p *Page) validUTF8() bool {
	for i, r := range p.Records {
		if (p.Checked == nil || !p.Checked[i]) && !utf8.Valid(r) {
			return false
		}
	}
	return true
}

// fields locates keys in record i.
func (p *Page) fields(i int, keys []string) error {
	return jsonscan.Fields(p.Records[i], keys, p.Fields[i*len(keys):(i+1)*len(keys)])
}

// repair replaces invalid UTF-8 in each record with U+FFFD, noting the record in p.Repaired.
func (p *Page) repair(keys []string) error {
	for i, r := range p.Records {
		if p.Checked != nil && p.Checked[i] || utf8.Valid(r) {
			continue
		}
		p.Records[i] = bytes.ToValidUTF8(r, []byte("\uFFFD"))
		p.Repaired = append(p.Repaired, i)
		if p.Checked != nil {
			p.Checked[i] = false // checked as it was, not as repaired
		}
		if len(keys) > 0 {
			if err := p.fields(i, keys); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanPage reads a list envelope in one pass of jsonscan.Value, which checks every value strictly, so
// whatever it accepts encoding/json accepts too, with the same result. It declines (ok false) rather than
// report errors, and also on keys with escapes, which it does not decode.
func scanPage(b []byte, keys []string, check RecordChecker) (p *Page, ok bool) {
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	p = &Page{}
	sawData := false
	i = jsonscan.SkipSpace(b, i+1)
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false // includes an empty envelope, which has no data
		}
		end, err := jsonscan.Value(b, i)
		if err != nil {
			return nil, false
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		i = jsonscan.SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = jsonscan.SkipSpace(b, i+1)
		if string(key) == "data" {
			if sawData {
				return nil, false
			}
			sawData = true
			i, ok = scanRecords(b, i, p, keys, check)
		} else {
			i, ok = scanMember(b, i, string(key), p)
		}
		if !ok {
			return nil, false
		}
		i = jsonscan.SkipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return nil, false
		}
		i = jsonscan.SkipSpace(b, i+1)
	}
	if !sawData || jsonscan.SkipSpace(b, i+1) != len(b) {
		return nil, false
	}
	return p, true
}

// scanMember reads the value at b[i] of the envelope's member key (other than data) into p and returns
// the offset just past it.
func scanMember(b []byte, i int, key string, p *Page) (int, bool) {
	end, err := jsonscan.Value(b, i)
	if err != nil {
		return 0, false
	}
	v := b[i:end]
	switch key {
	case "has_more":
		switch string(v) {
		case "true":
			p.HasMore = true
		case "false", "null":
			p.HasMore = false
		default:
			return 0, false
		}
	case "next":
		if string(v) != "null" { // null leaves Next as it was, as decoding into *string does
			s, ok := jsonscan.String(v)
			if !ok || !utf8.Valid(v) { // encoding/json would replace invalid UTF-8
				return 0, false
			}
			p.Next = s
		}
	}
	return end, true
}

// scanRecords reads the data array (or null) starting at b[i] into p.Records and returns the offset just
// past it. Every record must be a JSON object. A record that check passes is read by it alone.
func scanRecords(b []byte, i int, p *Page, keys []string, check RecordChecker) (int, bool) {
	if bytes.HasPrefix(b[i:], []byte("null")) {
		return i + 4, true
	}
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	var objs jsonscan.Objects // refuses a record holding a key twice
	for {
		if i >= len(b) || b[i] != '{' {
			return 0, false
		}
		n := len(p.Fields)
		p.Fields = append(p.Fields, make([][]byte, len(keys))...)
		end, checked := 0, false
		if check != nil {
			end, checked = check.Check(b, i, p.Fields[n:])
		}
		if !checked {
			var err error
			if end, err = objs.Fields(b, i, keys, p.Fields[n:]); err != nil {
				return 0, false
			}
		}
		if p.Records == nil {
			p.reserve(len(b)-i, end-i, len(keys), check != nil)
		}
		p.Records = append(p.Records, json.RawMessage(b[i:end:end]))
		if check != nil {
			p.Checked = append(p.Checked, checked)
		}
		i = jsonscan.SkipSpace(b, end)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == ']' {
			return i + 1, true
		}
		if b[i] != ',' {
			return 0, false
		}
		i = jsonscan.SkipSpace(b, i+1)
	}
}

// maxReserve bounds the records reserve sizes for from its estimate (a page holds at most 200).
const maxReserve = 256

// reserve sizes p.Records (and p.Fields for nKeys keys each, and p.Checked when checked) for a data array
// of rest bytes whose first record is first bytes long, so that a page of similar records is appended
// without regrowing (each regrowth is an allocation and a copy the garbage collector then pays for).
func (p *Page) reserve(rest, first, nKeys int, checked bool) {
	n := min(rest/max(first, 1)+rest/max(first, 1)/8+1, maxReserve)
	p.Records = make([]json.RawMessage, 0, n)
	if checked {
		p.Checked = make([]bool, 0, n)
	}
	if nKeys > 0 {
		p.Fields = slices.Grow(p.Fields, n*nKeys-len(p.Fields))
	}
}
