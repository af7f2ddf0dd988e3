package recurlytest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// Drift makes the site's records drift from the v2018-08-09 spec in small
// ways a real site can, for testing that a tap's RECORDs still conform to
// its SCHEMA. Every switch is off in the zero value.
type Drift struct {
	// UnknownFields adds two fields the spec does not have to every tenth
	// account (indexes 0, 10, 20, ...): "loyalty_tier" (a string) and
	// "marketing" (an object).
	UnknownFields bool
	// StringTotal sends the total of invoice 0 (the first created) as the
	// string "123.45" where the spec has a number.
	StringTotal bool
	// BadValue sends the net_terms of the middle invoice (index n/2) as
	// the string "thirty" where the spec has an integer: a value that
	// converts to no integer.
	BadValue bool
	// StringValid sends the valid of every account's embedded billing_info
	// as the string "true" or "false" where the spec has a boolean: drift
	// inside an embedded record.
	StringValid bool
}

// Drifted values, for tests.
const (
	DriftTotal    = `"123.45"`
	DriftNetTerms = `"thirty"`
)

// drift applies the configured drift to record i of kind k, which
// dst[start:] holds.
func (s *Site) drift(dst []byte, start int, k kind, i int) []byte {
	d := s.cfg.Drift
	switch {
	case k == kAccount && d.UnknownFields && i%10 == 0:
		return append(dst[:len(dst)-1], `,"loyalty_tier":"gold","marketing":{"opted_in":true,"channel":"email"}}`...)
	case k == kInvoice && d.StringTotal && i == 0:
		return replaceMember(dst, start, "total", DriftTotal)
	case k == kInvoice && d.BadValue && i == s.n(kInvoice)/2:
		return replaceMember(dst, start, "net_terms", DriftNetTerms)
	case k == kAccount && d.StringValid:
		return quoteValid(dst, start)
	}
	return dst
}

// quoteValid quotes the boolean valid of the billing_info the account
// dst[start:] embeds, if it has one.
func quoteValid(dst []byte, start int) []byte {
	rec := dst[start:]
	bi := bytes.Index(rec, []byte(`"billing_info":{`))
	if bi < 0 {
		return dst
	}
	for _, lit := range []string{"true", "false"} {
		if v := bytes.Index(rec[bi:], []byte(`"valid":`+lit)); v >= 0 {
			at := start + bi + v + len(`"valid":`)
			tail := append([]byte(`"`+lit+`"`), dst[at+len(lit):]...)
			return append(dst[:at], tail...)
		}
	}
	return dst
}

// replaceMember rewrites the object dst[start:] with value as the value of
// its top-level member key.
func replaceMember(dst []byte, start int, key, value string) []byte {
	obj := append([]byte(nil), dst[start:]...)
	out := append(dst[:start], '{')
	first := true
	jsonscan.EachMember(obj, func(rawKey, v []byte) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(append(out, rawKey...), ':')
		if string(rawKey) == `"`+key+`"` {
			v = []byte(value)
		}
		out = append(out, v...)
		return true
	})
	return append(out, '}')
}

// DriftNames are the names ParseDrift knows, in order.
var DriftNames = []string{"unknown-fields", "string-total", "bad-value", "string-valid"}

// ParseDrift reads a comma-separated list of DriftNames, or "all" or ""
// (none), as recurly-sim's --drift flag takes it.
func ParseDrift(list string) (Drift, error) {
	var d Drift
	switches := []*bool{&d.UnknownFields, &d.StringTotal, &d.BadValue, &d.StringValid}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.Index(DriftNames, name)
		switch {
		case name == "":
		case name == "all":
			for _, sw := range switches {
				*sw = true
			}
		case i < 0:
			return Drift{}, fmt.Errorf("unknown drift %q (known: %s, all)", name, strings.Join(DriftNames, ", "))
		default:
			*switches[i] = true
		}
	}
	return d, nil
}

// Drifted names the records that the switched-on drift changes, by id.
type Drifted struct {
	UnknownFields []string // accounts carrying unknown fields
	StringTotal   string   // the invoice whose total is a string
	BadValue      string   // the invoice whose net_terms is "thirty"
}

// Drifted reports which records the site's drift changes; "" and nil for
// switches that are off.
func (s *Site) Drifted() Drifted {
	d := s.cfg.Drift
	var out Drifted
	s.mu.RLock()
	defer s.mu.RUnlock()
	if d.UnknownFields {
		for i := 0; i < s.n(kAccount); i += 10 {
			out.UnknownFields = append(out.UnknownFields, s.key(kAccount, i).ID)
		}
	}
	if d.StringTotal && s.n(kInvoice) > 0 {
		out.StringTotal = s.key(kInvoice, 0).ID
	}
	if d.BadValue && s.n(kInvoice) > 0 {
		out.BadValue = s.key(kInvoice, s.n(kInvoice)/2).ID
	}
	return out
}
