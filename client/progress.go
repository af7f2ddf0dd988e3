package client

import (
	"hash/maphash"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// MaxStalePages is how many pages in a row may say has_more and bring nothing new before List stops: no
// records, or only records whose ids were already seen since the listing's sort field last advanced. A
// site that hands out a fresh cursor with every page but the same records, or empty pages between one
// repeated record, would otherwise be read forever.
const MaxStalePages = 3

// maxSeen bounds the ids progress remembers. A listing whose records carry no sort field (transactions
// have no updated_at in this API version) never advances it, so without a bound the set would grow with
// the listing; past it the set starts over, and only a loop longer than that goes unnoticed.
const maxSeen = 1 << 16

// hashSeed is the seed of the ids' hashes, one per process.
var hashSeed = maphash.MakeSeed()

// progress tells whether a listing's pages bring anything new: an advance of the sort field (by its last
// record; ascending or descending as asked) or a record whose id (its "id", which every Recurly object
// carries; the whole record when it has none) was not seen since the last advance. Its zero value is for
// a listing without a known sort field, which can only make progress by new ids.
type progress struct {
	sort  string              // the sort field; "" when the list was asked for no order
	desc  bool                // the sort is descending
	last  time.Time           // the furthest sort value seen
	seen  []uint64            // the ids' hashes since last advanced
	set   map[uint64]struct{} // seen as a set, built when a page did not advance
	stale int                 // pages in a row that brought nothing new
}

// newProgress is the progress of a list asked for with p.
func newProgress(p ListParams) progress {
	if p.Unpaged {
		return progress{}
	}
	pr := progress{sort: p.Sort, desc: p.Order == "desc"}
	if pr.sort == "" {
		pr.sort = "updated_at"
	}
	return pr
}

// page notes a page's records and reports whether it brought anything new; keys are the ListParams.Fields
// the page was decoded with.
func (pr *progress) page(p *Page, keys []string) bool {
	n := len(p.Records)
	if n == 0 {
		pr.stale++
		return false
	}
	if t, ok := timestamp(p.field(n-1, keys, pr.sort)); ok && (pr.last.IsZero() || pr.beyond(t)) {
		pr.last, pr.seen, pr.set, pr.stale = t, pr.seen[:0], nil, 0
		for i := range n {
			pr.seen = append(pr.seen, p.idHash(i, keys))
		}
		return true
	}
	if len(pr.seen) > maxSeen { // past the bound: start over
		pr.seen, pr.set = pr.seen[:0], nil
	}
	if pr.set == nil {
		pr.set = make(map[uint64]struct{}, len(pr.seen)+n)
		for _, h := range pr.seen {
			pr.set[h] = struct{}{}
		}
	}
	fresh := false
	for i := range n {
		h := p.idHash(i, keys)
		if _, ok := pr.set[h]; !ok {
			fresh = true
			pr.set[h] = struct{}{}
			pr.seen = append(pr.seen, h)
		}
	}
	if fresh {
		pr.stale = 0
	} else {
		pr.stale++
	}
	return fresh
}

// beyond reports whether t is past the furthest sort value seen, in the listing's order.
func (pr *progress) beyond(t time.Time) bool {
	if pr.desc {
		return t.Before(pr.last)
	}
	return t.After(pr.last)
}

// idHash is the hash of record i's id, or of the whole record when it has none.
func (p *Page) idHash(i int, keys []string) uint64 {
	if id := p.field(i, keys, "id"); !jsonscan.IsNull(id) {
		return maphash.Bytes(hashSeed, id)
	}
	return maphash.Bytes(hashSeed, p.Records[i])
}

// field is the raw value of record i's top-level key name (nil when absent): from p.Fields when the page
// was decoded with keys holding it, else read from the record.
func (p *Page) field(i int, keys []string, name string) []byte {
	if name == "" {
		return nil
	}
	for k, key := range keys {
		if key == name && len(p.Fields) == len(p.Records)*len(keys) {
			return p.Fields[i*len(keys)+k]
		}
	}
	var out [1][]byte
	if jsonscan.Fields(p.Records[i], []string{name}, out[:]) != nil {
		return nil
	}
	return out[0]
}

// timestamp reads a raw JSON string holding an RFC 3339 time.
func timestamp(v []byte) (time.Time, bool) {
	s, ok := jsonscan.Text(v)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(s)) // the conversion does not escape: no copy
	return t, err == nil
}
