package jsonscan

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
)

// DuplicateKeyError is the error for an object that holds a member name twice. JSON leaves such an object's
// meaning open: encoding/json and most readers keep the last value, while Fields would have read the first.
type DuplicateKeyError struct {
	Key    string // the name, decoded
	Offset int    // where its second occurrence starts
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("jsonscan: the key %q appears twice in an object (the second at offset %d)", e.Key, e.Offset)
}

// names is the set of one object's member names, for refusing duplicates. scan only appends each name's
// offsets (a call per name in its loop would cost more than the check); check then runs after the object.
// Records of one list mostly hold the same names in the same order, so it first compares each name with
// the one at its position in the previous object, which had no duplicates: while they agree, no name can
// repeat. Only an object that departs from that shape goes through a table: open addressing over offsets
// into the input, emptied between objects by a generation count rather than by zeroing. Names are compared
// by their raw text; an object with an escape in a name is checked again, decoded, by checkDecoded. Its
// zero value is ready to use; every object it reads must be in the same input.
type names struct {
	prev, cur []nameRef  // the previous object's names, and the current one's (scan appends them)
	slots     []nameSlot // a power of two long; at most half full
	gen       uint32     // the generation of the table; slots of other generations are empty
	n         int        // names in the table's generation
	escaped   bool       // a name of the current object may hold an escape
}

// nameRef is a name as offsets into the input.
type nameRef struct{ off, len uint32 }

type nameSlot struct {
	gen, hash uint32 // hash: the name's hash's high bits, compared before the bytes
	ref       nameRef
}

// reset empties the set for the next object; done says the last object read ended well (its names
// become the shape to compare with).
func (s *names) reset(done bool) {
	if done {
		s.prev, s.cur = s.cur, s.prev
	}
	if s.cur == nil {
		buf := make([]nameRef, 0, 128) // one allocation for both, room for 64 names each
		s.cur, s.prev = buf[:0:64], buf[64:64]
	}
	s.cur, s.escaped = s.cur[:0], false
}

// check reports the first name of the object just read (in cur) that repeats an earlier one, or -1.
func (s *names) check(b []byte) int {
	m := 0
	for m < len(s.cur) && m < len(s.prev) && sameName(b, s.prev[m], s.cur[m]) {
		m++
	}
	if m == len(s.cur) {
		return -1
	}
	s.startTable(b, s.cur[:m])
	for ; m < len(s.cur); m++ {
		if s.insert(b, s.cur[m]) {
			return m
		}
	}
	return -1
}

// sameName reports whether two names in b are the same text, comparing eight bytes at a time.
func sameName(b []byte, x, y nameRef) bool {
	n := int(x.len)
	if n != int(y.len) {
		return false
	}
	xo, yo := int(x.off), int(y.off)
	if n <= 8 && xo+8 <= len(b) && yo+8 <= len(b) {
		return (binary.LittleEndian.Uint64(b[xo:])^binary.LittleEndian.Uint64(b[yo:]))&(^uint64(0)>>(64-8*n)) == 0
	}
	return string(b[xo:xo+n]) == string(b[yo:yo+n])
}

// startTable empties the table and puts the names known to differ in it.
func (s *names) startTable(b []byte, known []nameRef) {
	s.gen++
	s.n = 0
	if s.gen == 0 { // wrapped: stale slots could pass for current ones
		clear(s.slots)
		s.gen = 1
	}
	if s.slots == nil {
		s.slots = make([]nameSlot, 64)
	}
	for _, r := range known {
		s.insert(b, r)
	}
}

// insert puts a name in the table and reports whether it was there already.
func (s *names) insert(b []byte, r nameRef) bool {
	h := nameHash(b, int(r.off), int(r.off+r.len))
	mask := uint64(len(s.slots) - 1)
	for k := h & mask; ; k = (k + 1) & mask {
		sl := &s.slots[k]
		if sl.gen != s.gen {
			*sl = nameSlot{gen: s.gen, hash: uint32(h >> 32), ref: r}
			if s.n++; 2*s.n > len(s.slots) {
				s.grow(b)
			}
			return false
		}
		if sl.hash == uint32(h>>32) && sameName(b, sl.ref, r) {
			return true
		}
	}
}

// grow doubles the table, keeping the current object's names.
func (s *names) grow(b []byte) {
	old := s.slots
	s.slots = make([]nameSlot, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, sl := range old {
		if sl.gen != s.gen {
			continue
		}
		k := nameHash(b, int(sl.ref.off), int(sl.ref.off+sl.ref.len)) & mask
		for s.slots[k].gen == s.gen {
			k = (k + 1) & mask
		}
		s.slots[k] = sl
	}
}

// nameHash hashes a name from its first and last eight bytes and its length (names are short).
func nameHash(b []byte, off, end int) uint64 {
	n := end - off
	var x uint64
	if n >= 8 {
		x = binary.LittleEndian.Uint64(b[off:]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[end-8:]), 29)
	} else {
		for _, c := range b[off:end] {
			x = x<<8 | uint64(c)
		}
	}
	x ^= uint64(n) << 56
	x *= 0x9E3779B97F4A7C15
	return x ^ x>>31
}

// checkDecoded checks the names of the object obj, which scan has checked, once decoded: "\u0069d" is
// "id". It is for the rare object whose names hold escapes.
func checkDecoded(obj []byte, base int) error {
	seen := map[string]bool{}
	var dup error
	_, err := walkObject(obj, 0, func(rawKey, _ []byte) bool {
		var k string
		if json.Unmarshal(rawKey, &k) != nil {
			k = string(rawKey)
		}
		if seen[k] {
			dup = &DuplicateKeyError{Key: k, Offset: base + cap(obj) - cap(rawKey)}
			return false
		}
		seen[k] = true
		return true
	})
	if dup != nil {
		return dup
	}
	return err
}
