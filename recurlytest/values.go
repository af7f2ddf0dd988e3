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
// object (component or property name) it sits in.
func stringGenFor(name, owner string) strGen {
	switch name {
	case "uuid", "hosted_login_token":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendHex(dst, st, 32) }
	case "id":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendRandomID(dst, st, 13) }
	case "email", "cc_emails":
		return func(_ arrCtx, st, objS uint64, dst []byte) []byte {
			dst = appendEmailLocal(dst, objS)
			dst = append(dst, '@')
			return append(dst, pick(domains, objS>>20)...)
		}
	case "username":
		return func(_ arrCtx, st, objS uint64, dst []byte) []byte { return appendEmailLocal(dst, objS) }
	case "first_name":
		return func(_ arrCtx, _, objS uint64, dst []byte) []byte { f, _, _ := person(objS); return append(dst, f...) }
	case "last_name":
		return func(_ arrCtx, _, objS uint64, dst []byte) []byte { _, l, _ := person(objS); return append(dst, l...) }
	case "name_on_account":
		return func(_ arrCtx, _, objS uint64, dst []byte) []byte {
			f, l, _ := person(objS)
			return append(append(append(dst, f...), ' '), l...)
		}
	case "company":
		return func(_ arrCtx, _, objS uint64, dst []byte) []byte {
			return append(dst, pick(companies, mix(objS^0xc0))...)
		}
	case "nickname":
		return listGen(nicknames)
	case "phone":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = append(dst, "+1 "...)
			dst = appendDigits(dst, st, 3)
			dst = append(dst, "-555-"...)
			return appendDigits(dst, st>>20, 4)
		}
	case "street1":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = strconv.AppendUint(dst, 1+st%9899, 10)
			return append(append(dst, ' '), pick(streets, st>>16)...)
		}
	case "street2":
		return listGen(street2s)
	case "city":
		return listGen(cities)
	case "region":
		return listGen(regions)
	case "postal_code":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 5) }
	case "country", "ip_address_country":
		return listGen(countries)
	case "currency":
		return func(a arrCtx, st, _ uint64, dst []byte) []byte {
			if a.in {
				return append(dst, currencies[(a.base+uint64(a.elem))%uint64(len(currencies))]...)
			}
			if st%4 != 0 {
				return append(dst, "USD"...)
			}
			return append(dst, pick(currencies, st>>8)...)
		}
	case "vat_number":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = append(dst, pick([]string{"GB", "DE", "FR", "NL", "IE"}, st)...)
			return appendDigits(dst, st>>8, 9)
		}
	case "exemption_certificate":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(append(dst, "EX-"...), st, 8) }
	case "po_number":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(append(dst, "PO-"...), st, 6) }
	case "number", "invoice_number":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return strconv.AppendUint(dst, 1000+st%900000, 10) }
	case "accounting_code", "setup_fee_accounting_code", "product_code":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			return appendDigits(append(append(dst, pick(words, st)...), '-'), st>>8, 4)
		}
	case "code", "plan_code", "add_on_code":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = append(append(dst, pick(words, st)...), '-')
			return appendRandomID(dst, st>>8, 6)
		}
	case "tax_code":
		return listGen(taxCodes)
	case "success_url", "cancel_url":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = append(dst, "https://"...)
			dst = append(dst, pick(domains, st)...)
			if name == "success_url" {
				return append(dst, "/thanks"...)
			}
			return append(dst, "/pricing"...)
		}
	case "ip", "ip_address_v4":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			for j := range 4 {
				if j > 0 {
					dst = append(dst, '.')
				}
				dst = strconv.AppendUint(dst, 1+(st>>(8*uint(j)))%254, 10)
			}
			return dst
		}
	case "customer_message_locale":
		return listGen(locales)
	case "status_code":
		return listGen(statusCodes)
	case "gateway_reference", "billing_agreement_id":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			if name == "billing_agreement_id" {
				dst = append(dst, "B-"...)
			}
			return appendRandomID(dst, st, 17)
		}
	case "gateway_approval_code":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendRandomID(dst, st, 6) }
	case "gateway_response_code":
		return listGen(responseCodes)
	case "first_six":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 6) }
	case "last_four":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 4) }
	case "routing_number":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return appendDigits(dst, st, 9) }
	case "routing_number_bank":
		return listGen(banks)
	case "unique_code_template":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = append(dst, '\'')
			for _, c := range []byte(pick(words, st)) {
				dst = append(dst, c-('a'-'A'))
			}
			return append(dst, "'99999"...)
		}
	case "expiration_reason":
		return listGen(expReasons)
	case "time_zone":
		return listGen(timeZones)
	case "subchannel":
		return listGen(subchannels)
	case "campaign":
		return listGen(campaigns)
	case "bill_to":
		return listGen([]string{"self", "self", "self", "parent"})
	case "value":
		if owner == "CustomField" {
			return func(a arrCtx, st, _ uint64, dst []byte) []byte { return append(dst, pick(customValues, st)...) }
		}
	}
	switch {
	case name == "name" && owner == "CustomField":
		return func(a arrCtx, st, _ uint64, dst []byte) []byte {
			return append(dst, customFields[(a.base+uint64(a.elem))%uint64(len(customFields))]...)
		}
	case name == "type" && owner == "TaxInfo":
		return listGen(taxTypes)
	case name == "type" && owner == "payment_gateway":
		return listGen(gatewayTypes)
	case name == "name" && owner == "payment_gateway":
		return listGen(gatewayNames)
	case name == "name" || name == "plans_names":
		return func(_ arrCtx, st, _ uint64, dst []byte) []byte {
			dst = appendTitle(dst, pick(words, st))
			dst = append(dst, ' ')
			return appendTitle(dst, pick(words, st>>16))
		}
	case name == "ip_address_country" || name == "country" && owner == "updated_by":
		return listGen(countries)
	}
	// Free text: descriptions, notes, messages.
	return func(_ arrCtx, st, _ uint64, dst []byte) []byte { return append(dst, pick(phrases, st)...) }
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
