package recurlytest

import (
	"strconv"
)

// Word lists for realistic values. None contains a quote, a backslash or a
// non-ASCII byte, so values are written into JSON strings as they are.
var (
	firstNames = []string{"Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger",
		"Radia", "Tim", "Hedy", "John", "Katherine", "Donald", "Sophie", "Niklaus", "Joan", "Guido",
		"Anita", "Bjarne", "Shafi", "Yukihiro", "Karen", "Rob", "Lynn", "Brian", "Mary", "Whitfield"}
	lastNames = []string{"Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen", "Dijkstra",
		"Perlman", "Berners-Lee", "Lamarr", "McCarthy", "Johnson", "Knuth", "Wilson", "Wirth", "Clarke", "van Rossum",
		"Borg", "Stroustrup", "Goldwasser", "Matsumoto", "Sparck Jones", "Pike", "Conway", "Kernighan", "Shaw", "Diffie"}
	companies = []string{"Acme Corp", "Globex", "Initech", "Umbrella Labs", "Hooli", "Vandelay Industries", "Stark Industries",
		"Wayne Enterprises", "Soylent Co", "Tyrell Corp", "Cyberdyne Systems", "Wonka Industries", "Aperture Science",
		"Massive Dynamic", "Oceanic Airlines", "Pied Piper", "Dunder Mifflin", "Prestige Worldwide", "Gringotts", "Monarch Solutions"}
	domains = []string{"example.com", "example.org", "example.net", "mail.example.com", "corp.example"}
	streets = []string{"Main St", "Market St", "Oak Ave", "Pine St", "Maple Dr", "Cedar Ln", "Elm St", "Washington Blvd",
		"Lake Shore Dr", "Sunset Blvd", "High St", "Church Rd", "Station Rd", "Mill Ln", "Park Ave"}
	street2s = []string{"Apt 4B", "Suite 200", "Unit 12", "Floor 3", "PO Box 118", "Building C"}
	cities   = []string{"San Francisco", "New Orleans", "Boston", "Austin", "Chicago", "Seattle", "Denver", "Portland",
		"London", "Manchester", "Berlin", "Munich", "Toronto", "Vancouver", "Sydney", "Melbourne", "Paris", "Lyon", "Amsterdam", "Dublin"}
	regions    = []string{"CA", "LA", "MA", "TX", "IL", "WA", "CO", "OR", "NY", "FL", "ON", "BC", "NSW", "VIC", "BY", "BE"}
	countries  = []string{"US", "US", "US", "US", "GB", "DE", "CA", "AU", "FR", "NL", "IE"}
	currencies = []string{"USD", "EUR", "GBP", "CAD", "AUD"}
	words      = []string{"gold", "silver", "bronze", "platinum", "basic", "pro", "team", "starter", "premium", "enterprise",
		"monthly", "annual", "quarterly", "trial", "plus", "lite", "studio", "growth", "scale", "core"}
	phrases = []string{"Thank you for your business.", "Monthly subscription fee", "Annual plan renewal",
		"Prorated charge for plan change", "Credit for service interruption", "One-time setup fee",
		"Payment is due within 30 days.", "Please contact billing with any questions.", "Seat add-on",
		"Usage overage", "Promotional discount", "Refund for unused time", "Support package", "Extra storage (100 GB)"}
	taxCodes      = []string{"P0000000", "D0000000", "SW052000", "SW054000", "DC010500", "SA051000"}
	taxTypes      = []string{"usst", "vat", "gst", "pst"}
	gatewayTypes  = []string{"braintree", "stripe", "authorize_net", "test", "adyen", "paypal"}
	gatewayNames  = []string{"Braintree Production", "Stripe (USD)", "Authorize.Net", "Test Gateway", "Adyen EU", "PayPal Business"}
	statusCodes   = []string{"approved", "declined", "insufficient_funds", "call_issuer", "expired_card", "fraud_gateway", "invalid_card_number"}
	banks         = []string{"Bank of America", "Chase", "Wells Fargo", "Citibank", "US Bank", "PNC Bank", "Capital One"}
	customFields  = []string{"crm_id", "segment", "sales_rep", "region", "referral_source", "tier", "industry", "cohort"}
	customValues  = []string{"enterprise", "smb", "mid-market", "west", "east", "partner", "organic", "2021-q3", "healthcare", "retail"}
	expReasons    = []string{"nonpayment", "canceled", "expired", "tax_location_invalid", ""}
	nicknames     = []string{"Home", "Work", "Office", "Warehouse", "HQ", "Summer house"}
	locales       = []string{"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP"}
	responseCodes = []string{"00", "05", "51", "54", "N7", "1000", "2000"}
	timeZones     = []string{"America/Los_Angeles", "America/New_York", "America/Chicago", "Europe/London", "Europe/Berlin", "Australia/Sydney"}
	subchannels   = []string{"google", "facebook", "linkedin", "newsletter", "partner-referral", "bing", "podcast"}
	campaigns     = []string{"spring-sale", "black-friday", "launch-week", "webinar-q3", "retargeting", "brand"}
)

// arrCtx locates a value inside the innermost enclosing array, so elements
// can differ systematically (distinct currencies, custom field names).
type arrCtx struct {
	in   bool
	base uint64
	elem int
}

// strGen appends the content of a string value (without quotes). st is the
// node's own state; objS the enclosing object's stable state.
type strGen func(a arrCtx, st, objS uint64, dst []byte) []byte

func pick(list []string, r uint64) string { return list[r%uint64(len(list))] }

func appendDigits(dst []byte, r uint64, n int) []byte {
	for range n {
		dst = append(dst, byte('0'+r%10))
		r = r/10 ^ mix(r)>>40
	}
	return dst
}

const hexDigits = "0123456789abcdef"

func appendHex(dst []byte, r uint64, n int) []byte {
	for j := 0; j < n; j++ {
		if j%16 == 0 && j > 0 {
			r = mix(r)
		}
		dst = append(dst, hexDigits[(r>>(4*uint(j%16)))&15])
	}
	return dst
}

// appendRandomID appends an n-character lowercase id like Recurly's.
func appendRandomID(dst []byte, r uint64, n int) []byte {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
	for j := 0; j < n; j++ {
		if j%10 == 0 && j > 0 {
			r = mix(r)
		}
		dst = append(dst, alpha[r%36])
		r /= 36
	}
	return dst
}

// person picks a name pair from an object's stable state, so first_name,
// last_name and email of one object agree.
func person(objS uint64) (first, last string, n uint64) {
	p := mix(objS ^ 0x9e150)
	return pick(firstNames, p), pick(lastNames, p>>16), (p >> 32) % 1000
}

func appendEmailLocal(dst []byte, objS uint64) []byte {
	first, last, n := person(objS)
	dst = appendLower(dst, first)
	dst = append(dst, '.')
	dst = appendLower(dst, last)
	if n%3 == 0 {
		dst = strconv.AppendUint(dst, n, 10)
	}
	return dst
}

// appendLower appends s in lower case without spaces (ASCII only).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendTitle appends an ASCII word with its first letter upper-cased.
func appendTitle(dst []byte, w string) []byte {
	c := w[0]
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	return append(append(dst, c), w[1:]...)
}

// stringGenFor returns the generator for a string field by its name and the
// object (component or property name) it sits in: a generator of the
// owner's kind first, then one of the tables by name, then title-cased
// names and free text.
func stringGenFor(name, owner string) strGen {
	if g := ownedStringGen(name, owner); g != nil {
		return g
	}
	for _, table := range []map[string]strGen{personGens, addressGens, codeGens, paymentGens, webGens} {
		if g, ok := table[name]; ok {
			return g
		}
	}
	if name == "name" || name == "plans_names" {
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = appendTitle(dst, pick(words, st))
			dst = append(dst, ' ')
			return appendTitle(dst, pick(words, st>>16))
		}
	}
	return listGen(phrases) // free text: descriptions, notes, messages
}

// ownedStringGen is the generator of a field whose value depends on the
// object it sits in (custom fields, tax info, payment gateways), or nil.
func ownedStringGen(name, owner string) strGen {
	switch {
	case name == "value" && owner == "CustomField":
		return listGen(customValues)
	case name == "name" && owner == "CustomField":
		return func(a arrCtx, _, _ uint64, dst []byte) []byte {
			return append(dst, customFields[(a.base+uint64(a.elem))%uint64(len(customFields))]...)
		}
	case name == "type" && owner == "TaxInfo":
		return listGen(taxTypes)
	case name == "type" && owner == "payment_gateway":
		return listGen(gatewayTypes)
	case name == "name" && owner == "payment_gateway":
		return listGen(gatewayNames)
	}
	return nil
}

// personGens describe people: ids, names and emails that agree within an
// object, phones, locales.
var personGens = map[string]strGen{
	"uuid":               hexGen(32),
	"hosted_login_token": hexGen(32),
	"id":                 func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendRandomID(dst, st, 13) },
	"email":              emailGen,
	"cc_emails":          emailGen,
	"username":           func(_ arrCtx, _, objS uint64, dst []byte) []byte { return appendEmailLocal(dst, objS) },
	"first_name":         func(_ arrCtx, _, objS uint64, dst []byte) []byte { f, _, _ := person(objS); return append(dst, f...) },
	"last_name":          func(_ arrCtx, _, objS uint64, dst []byte) []byte { _, l, _ := person(objS); return append(dst, l...) },
	"name_on_account": func(_ arrCtx, _, objS uint64, dst []byte) []byte {
		f, l, _ := person(objS)
		return append(append(append(dst, f...), ' '), l...)
	},
	"company": func(_ arrCtx, _, objS uint64, dst []byte) []byte {
		return append(dst, pick(companies, mix(objS^0xc0))...)
	},
	"nickname": listGen(nicknames),
	"phone": func(_ arrCtx, st, _ uint64, dst []byte) []byte {
		dst = append(dst, "+1 "...)
		dst = appendDigits(dst, st, 3)
		dst = append(dst, "-555-"...)
		return appendDigits(dst, st>>20, 4)
	},
	"customer_message_locale": listGen(locales),
	"time_zone":               listGen(timeZones),
}

// addressGens describe addresses and where requests came from.
var addressGens = map[string]strGen{
	"street1": func(_ arrCtx, st, _ uint64, dst []byte) []byte {
		dst = strconv.AppendUint(dst, 1+st%9899, 10)
		return append(append(dst, ' '), pick(streets, st>>16)...)
	},
	"street2":            listGen(street2s),
	"city":               listGen(cities),
	"region":             listGen(regions),
	"postal_code":        func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 5) },
	"country":            listGen(countries),
	"ip_address_country": listGen(countries),
	"vat_number": func(_ arrCtx, st, _ uint64, dst []byte) []byte {
		dst = append(dst, pick([]string{"GB", "DE", "FR", "NL", "IE"}, st)...)
		return appendDigits(dst, st>>8, 9)
	},
	"ip":            ipGen,
	"ip_address_v4": ipGen,
}

// codeGens are billing codes and numbers: currencies, codes, accounting
// and tax codes, purchase orders.
var codeGens = map[string]strGen{
	"currency": func(a arrCtx, st, _ uint64, dst []byte) []byte {
		if a.in {
			return append(dst, currencies[(a.base+uint64(a.elem))%uint64(len(currencies))]...)
		}
		if st%4 != 0 {
			return append(dst, "USD"...)
		}
		return append(dst, pick(currencies, st>>8)...)
	},
	"exemption_certificate":     prefixedDigits("EX-", 8),
	"po_number":                 prefixedDigits("PO-", 6),
	"number":                    invoiceNumberGen,
	"invoice_number":            invoiceNumberGen,
	"accounting_code":           accountingCodeGen,
	"setup_fee_accounting_code": accountingCodeGen,
	"product_code":              accountingCodeGen,
	"code":                      codeGen,
	"plan_code":                 codeGen,
	"add_on_code":               codeGen,
	"tax_code":                  listGen(taxCodes),
	"unique_code_template": func(_ arrCtx, st, _ uint64, dst []byte) []byte {
		dst = append(dst, '\'')
		for _, c := range []byte(pick(words, st)) {
			dst = append(dst, c-('a'-'A'))
		}
		return append(dst, "'99999"...)
	},
	"expiration_reason": listGen(expReasons),
	"bill_to":           listGen([]string{"self", "self", "self", "parent"}),
}

// paymentGens describe payments: gateway answers, card and bank details.
var paymentGens = map[string]strGen{
	"status_code":           listGen(statusCodes),
	"gateway_reference":     func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendRandomID(dst, st, 17) },
	"billing_agreement_id":  func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendRandomID(append(dst, "B-"...), st, 17) },
	"gateway_approval_code": func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendRandomID(dst, st, 6) },
	"gateway_response_code": listGen(responseCodes),
	"first_six":             func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 6) },
	"last_four":             func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 4) },
	"routing_number":        func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 9) },
	"routing_number_bank":   listGen(banks),
}

// webGens are hosted pages' URLs and marketing attribution.
var webGens = map[string]strGen{
	"success_url": urlGen("/thanks"),
	"cancel_url":  urlGen("/pricing"),
	"subchannel":  listGen(subchannels),
	"campaign":    listGen(campaigns),
}

func hexGen(n int) strGen {
	return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendHex(dst, st, n) }
}

func emailGen(_ arrCtx, _, objS uint64, dst []byte) []byte {
	dst = appendEmailLocal(dst, objS)
	dst = append(dst, '@')
	return append(dst, pick(domains, objS>>20)...)
}

func ipGen(_ arrCtx, st, _ uint64, dst []byte) []byte {
	for j := range 4 {
		if j > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendUint(dst, 1+(st>>(8*uint(j)))%254, 10)
	}
	return dst
}

func prefixedDigits(prefix string, n int) strGen {
	return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(append(dst, prefix...), st, n) }
}

func invoiceNumberGen(_ arrCtx, st, _ uint64, dst []byte) []byte {
	return strconv.AppendUint(dst, 1000+st%900000, 10)
}

func accountingCodeGen(_ arrCtx, st, _ uint64, dst []byte) []byte {
	return appendDigits(append(append(dst, pick(words, st)...), '-'), st>>8, 4)
}

func codeGen(_ arrCtx, st, _ uint64, dst []byte) []byte {
	dst = append(append(dst, pick(words, st)...), '-')
	return appendRandomID(dst, st>>8, 6)
}

func urlGen(path string) strGen {
	return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
		dst = append(dst, "https://"...)
		dst = append(dst, pick(domains, st)...)
		return append(dst, path...)
	}
}

func listGen(list []string) strGen {
	return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return append(dst, pick(list, st)...) }
}

// intRange is the range of an integer field by name.
func intRange(name string) (lo, hi int64) {
	switch name {
	case "quantity", "default_quantity":
		return 1, 10
	case "exp_month":
		return 1, 12
	case "exp_year":
		return 2020, 2032
	case "score":
		return 1, 99
	case "net_terms":
		return 0, 60
	case "interval_length", "temporal_amount":
		return 1, 12
	case "trial_length", "length", "free_trial_amount":
		return 0, 30
	case "total_billing_cycles", "remaining_billing_cycles", "renewal_billing_cycles":
		return 0, 36
	case "percent":
		return 5, 75
	case "max_redemptions", "max_redemptions_per_account":
		return 1, 1000
	case "unique_coupon_codes_count":
		return 0, 500
	case "refunded_quantity", "remaining_pause_cycles":
		return 0, 3
	}
	return 0, 100
}
