package recurlytest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/openapi"
)

// A generation plan is compiled once per object type from the spec's
// component schema: a tree of nodes, each knowing how to append its value
// as JSON. Every value is a pure function of the record's states, so
// records are rendered on demand and never stored.

type nodeKind uint8

const (
	nkObject nodeKind = iota
	nkArray
	nkString
	nkEnum
	nkInt
	nkMoney   // two decimals, in [lo, hi] cents
	nkDecimal // [lo, hi] in units of 10^-scale
	nkBool
	nkTime        // record created_at + [lo, hi] seconds
	nkTimeBetween // within [record created_at, record updated_at]
	nkFreeObject  // an object the spec leaves open: {}
	nkConst       // raw bytes
	nkRecordID
	nkCreated
	nkUpdated
	nkCollected
	nkCode // a unique code derived from the record id
	nkInvoiceNumber
	nkBilling // an account's billing_info (null when it has none)
	nkBillingID
	nkBillingCreated
	nkBillingUpdated
	nkRefID    // the id of a related record
	nkRefField // a field of a related record (plan_code, invoice_number, plans_names)
	nkMini     // a *Mini object of a related record
	nkFull     // the full object of a related record (a redemption's coupon)
	nkFunc     // a value the site model computes (fn)
)

// selector says how a reference picks its record.
type selector uint8

const (
	selObject     selector = iota // pseudo-randomly from the enclosing object's stable state
	selAccount                    // the record's account
	selParentPlan                 // an add-on's plan
	selSelf                       // the record itself (nested objects pointing back)
	selModel                      // the site model decides (pick)
)

type node struct {
	name     string
	key      []byte // `"name":`
	kind     nodeKind
	salt     uint64
	stable   bool // value independent of the record version
	nullPct  uint64
	emptyPct uint64 // strings: "" probability; arrays: [] probability
	maxLen   int
	str      strGen
	enum     [][]byte // quoted values
	lo, hi   int64
	scale    int
	raw      []byte
	children []*node
	item     *node
	maxItems uint64
	// references
	target  kind
	sel     selector
	refSalt uint64 // shared by an id and its paired fields (plan_id, plan_code)
	refNull uint64
	field   *node // nkRefField: the target's top-level node
	// model hooks
	pick func(g *gen) int                                   // selModel: the related record's index, -1 for null
	fn   func(g *gen, dst []byte, objS, objV uint64) []byte // nkFunc: appends the value
	// count, when set on an array, is its length
	count func(g *gen) int
}

// plans holds the compiled plan of every resource.
type plans struct {
	top     [numKinds]*node // root object nodes
	billing *node           // Account.billing_info
	// accountMini renders an account's AccountMini (Subscription.account).
	accountMini *node
	minis       []*node  // mini nodes linked after all tops exist
	paths       []string // every compiled property path, for tests
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h)
}

type compileCtx struct {
	rec     kind
	depth   int
	owner   string // Ref of the enclosing object, or its property name
	billing bool
	path    string
}

func compilePlans(transactionUpdatedAt bool) (*plans, error) {
	spec, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	p := &plans{}
	for k := range numKinds {
		sc, err := spec.Component(kindComponents[k])
		if err != nil {
			return nil, err
		}
		root := &node{kind: nkObject, stable: false}
		cc := compileCtx{rec: k, owner: kindComponents[k], path: kindComponents[k]}
		for _, prop := range sc.Properties {
			c, err := p.compile(prop.Name, prop.Schema, cc)
			if err != nil {
				return nil, err
			}
			root.children = append(root.children, c)
			if k == kTransaction && prop.Name == "created_at" && transactionUpdatedAt {
				root.children = append(root.children, &node{name: "updated_at", key: keyBytes("updated_at"), kind: nkUpdated})
			}
			if k == kAccount && prop.Name == "billing_info" {
				p.billing = c
			}
		}
		p.top[k] = root
	}
	if p.billing == nil {
		return nil, fmt.Errorf("recurlytest: Account has no billing_info in the spec")
	}
	if p.accountMini = p.topField(kSubscription, "account"); p.accountMini == nil {
		return nil, fmt.Errorf("recurlytest: Subscription has no account in the spec")
	}
	for _, m := range p.minis {
		if err := p.link(m); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// topField returns a resource's top-level node by name, or nil.
func (p *plans) topField(k kind, name string) *node {
	for _, c := range p.top[k].children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// link points a mini's or paired reference's fields at the target's
// top-level nodes.
func (p *plans) link(m *node) error {
	if m.kind == nkRefField {
		name := m.field.name
		f := p.topField(m.target, name)
		if f == nil {
			return fmt.Errorf("recurlytest: %s has no field %s", kindComponents[m.target], name)
		}
		m.field = f
		return nil
	}
	for j, c := range m.children {
		if c.kind != nkRefField {
			continue
		}
		f := p.topField(m.target, c.name)
		if f == nil {
			// A mini field the full object lacks: keep it generic.
			m.children[j] = c.field
			continue
		}
		m.children[j] = f
	}
	return nil
}

func keyBytes(name string) []byte { return []byte(strconv.Quote(name) + ":") }

func snake(ref string) string {
	ref = strings.TrimSuffix(ref, "Mini")
	var b strings.Builder
	for i, r := range ref {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// refTargets maps id-like field names to the resource they point at.
var refTargets = map[string]kind{
	"account_id": kAccount, "parent_account_id": kAccount,
	"plan_id": kPlan, "plan_code": kPlan, "plans_names": kPlan,
	"add_on_id": kAddOn, "add_on_code": kAddOn,
	"invoice_id": kInvoice, "invoice_number": kInvoice, "previous_invoice_id": kInvoice, "original_line_item_invoice_id": kInvoice,
	"subscription_id": kSubscription, "subscription_ids": kSubscription,
	"previous_line_item_id":      kLineItem,
	"original_transaction_id":    kTransaction,
	"original_credit_payment_id": kCreditPayment,
}

// refNullPct is how often a reference is null, shared by paired fields.
func refNullPct(pair string) uint64 {
	switch pair {
	case "parent_account", "previous_invoice", "previous_line_item", "original_transaction", "original_credit_payment":
		return 80
	case "original_line_item_invoice":
		return 70
	case "account", "plans_names", "subscription_ids":
		return 0
	}
	return 30
}

var miniTargets = map[string]kind{"AccountMini": kAccount, "PlanMini": kPlan, "InvoiceMini": kInvoice, "CouponMini": kCoupon, "AddOnMini": kAddOn}

// stableNames are identity-like fields that keep their value across updates.
var stableNames = map[string]bool{
	"id": true, "uuid": true, "code": true, "email": true, "username": true, "first_name": true, "last_name": true,
	"company": true, "name": true, "number": true, "currency": true, "type": true, "bill_to": true, "object": true,
	"hosted_login_token": true, "plan_code": true, "add_on_code": true, "invoice_number": true, "name_on_account": true,
}

// objectNullPct is how often a nested object is null, by property name.
func objectNullPct(name string) uint64 {
	switch name {
	case "pending_change", "refund_transaction":
		return 70
	case "voided_by_invoice":
		return 85
	case "original_invoice":
		return 50
	case "shipping_address", "updated_by", "fraud":
		return 30
	case "tax_info":
		return 20
	case "account", "plan", "coupon", "add_on", "invoice", "discount", "line_items", "payment_method":
		return 0
	}
	return 10
}

func timeRule(name string) (nullPct uint64, lo, hi int64) {
	const day = 86400
	switch name {
	case "deleted_at", "voided_at", "canceled_at", "paused_at", "expired_at", "removed_at", "bank_account_authorized_at":
		return 80, 1 * day, 400 * day
	case "closed_at", "expires_at", "trial_started_at", "trial_ends_at", "redeem_by", "activate_at":
		return 40, 1 * day, 400 * day
	case "activated_at", "current_period_started_at", "current_term_started_at", "start_date":
		return 5, 0, 30 * day
	case "current_period_ends_at", "current_term_ends_at", "end_date", "due_at":
		return 5, 30 * day, 400 * day
	}
	return 10, 0, 365 * day
}

// compile builds the node of one property, then hands it to the site model
// where the model decides the value (see override).
func (p *plans) compile(name string, sc *openapi.Schema, cc compileCtx) (*node, error) {
	n, err := p.compileSpec(name, sc, cc)
	if err != nil {
		return nil, err
	}
	p.paths = append(p.paths, cc.path+"."+name)
	override(cc.path+"."+name, n)
	return n, nil
}

// compileSpec builds the node of one property from its spec schema: the
// record's own fields first (fixedNode), then by the schema's type.
func (p *plans) compileSpec(name string, sc *openapi.Schema, cc compileCtx) (*node, error) {
	n := &node{name: name, key: keyBytes(name), salt: hashString(cc.path + "." + name), maxLen: sc.MaxLength}
	n.stable = stableNames[name] || n.salt%2 == 0
	if fixedNode(n, sc, cc) {
		return n, nil
	}
	switch sc.Type {
	case "object":
		return n, p.compileObject(n, sc, cc)
	case "array":
		return n, p.compileArray(n, sc, cc)
	case "string":
		return n, p.compileString(n, name, sc, cc)
	case "integer", "number", "boolean", "":
		compileScalar(n, sc)
		return n, nil
	}
	return nil, fmt.Errorf("recurlytest: %s.%s: unsupported schema type %q", cc.path, name, sc.Type)
}

// fixedNode makes n one of the fields the site itself decides rather than
// the schema: a record's id, object, timestamps, code and number, an
// add-on's plan_id, billing info's own fields, and the "object" constant
// of nested objects. It reports whether it did.
func fixedNode(n *node, sc *openapi.Schema, cc compileCtx) bool {
	top := cc.depth == 0
	switch name := n.name; {
	case top && name == "id":
		n.kind = nkRecordID
	case top && name == "object":
		n.kind, n.raw = nkConst, []byte(strconv.Quote(kindObjects[cc.rec]))
	case top && name == "created_at":
		n.kind = nkCreated
	case top && name == "updated_at":
		n.kind = nkUpdated
	case top && name == "collected_at" && cc.rec == kTransaction:
		n.kind = nkCollected
	case top && name == "code":
		n.kind, n.stable = nkCode, true
	case top && name == "number" && cc.rec == kInvoice:
		n.kind, n.stable = nkInvoiceNumber, true
	case top && name == "plan_id" && cc.rec == kAddOn:
		n.kind, n.target, n.sel = nkRefID, kPlan, selParentPlan
	case cc.billing && name == "id":
		n.kind = nkBillingID
	case cc.billing && name == "created_at":
		n.kind = nkBillingCreated
	case cc.billing && name == "updated_at":
		n.kind = nkBillingUpdated
	case cc.billing && name == "account_id":
		n.kind, n.target, n.sel = nkRefID, kAccount, selAccount
	case name == "object" && len(sc.Enum) == 0:
		obj := snake(cc.owner)
		if strings.HasSuffix(cc.owner, "List") {
			obj = "list"
		}
		n.kind, n.raw = nkConst, []byte(strconv.Quote(obj))
	default:
		return false
	}
	return true
}

// compileObject builds an object node: an account's billing info, a
// *Mini of a related record, an open object, an embedded list or a plain
// nested object.
func (p *plans) compileObject(n *node, sc *openapi.Schema, cc compileCtx) error {
	path := cc.path + "." + n.name
	if cc.depth == 0 && n.name == "billing_info" && cc.rec == kAccount {
		n.kind = nkBilling
		return p.children(n, sc, compileCtx{rec: cc.rec, depth: 1, owner: "BillingInfo", billing: true, path: path})
	}
	if tk, ok := miniTargets[sc.Ref]; ok {
		return p.compileMini(n, sc, cc, tk)
	}
	n.nullPct = objectNullPct(n.name)
	if len(sc.Properties) == 0 {
		n.kind = nkFreeObject
		return nil
	}
	n.kind = nkObject
	owner := sc.Ref
	if owner == "" {
		owner = n.name
	}
	if strings.HasSuffix(sc.Ref, "List") {
		return p.compileList(n, sc, compileCtx{rec: cc.rec, depth: cc.depth + 1, owner: owner, path: path})
	}
	return p.children(n, sc, compileCtx{rec: cc.rec, depth: cc.depth + 1, owner: owner, billing: cc.billing, path: path})
}

// compileMini builds a *Mini object of a record of kind tk: the record's
// account, the record itself (an invoice's own mini), or one the site
// picks. Its fields other than id and object are linked to the target's
// top-level nodes once every resource is compiled.
func (p *plans) compileMini(n *node, sc *openapi.Schema, cc compileCtx, tk kind) error {
	path := cc.path + "." + n.name
	n.kind, n.target = nkMini, tk
	n.nullPct = objectNullPct(n.name)
	switch {
	case tk == kAccount:
		n.sel = selAccount
	case tk == cc.rec && cc.depth > 0 && n.name == "invoice":
		n.sel = selSelf
	default:
		n.sel, n.refSalt = selObject, hashString("mini."+path)
	}
	for _, prop := range sc.Properties {
		var c *node
		switch prop.Name {
		case "id":
			c = &node{name: "id", key: keyBytes("id"), kind: nkRecordID}
		case "object":
			c = &node{name: "object", key: keyBytes("object"), kind: nkConst, raw: []byte(strconv.Quote(kindObjects[tk]))}
		default:
			generic, err := p.compile(prop.Name, prop.Schema, compileCtx{rec: tk, depth: 1, owner: sc.Ref, path: path})
			if err != nil {
				return err
			}
			c = &node{name: prop.Name, kind: nkRefField, field: generic}
		}
		n.children = append(n.children, c)
	}
	p.minis = append(p.minis, n)
	return nil
}

// compileList builds an embedded list (an invoice's line_items): the list
// envelope of one page, holding everything.
func (p *plans) compileList(n *node, sc *openapi.Schema, cc compileCtx) error {
	n.stable = false
	for _, prop := range sc.Properties {
		var c *node
		switch prop.Name {
		case "object":
			c = &node{name: "object", key: keyBytes("object"), kind: nkConst, raw: []byte(`"list"`)}
		case "has_more":
			c = &node{name: "has_more", key: keyBytes("has_more"), kind: nkConst, raw: []byte("false")}
		case "next":
			c = &node{name: "next", key: keyBytes("next"), kind: nkConst, raw: []byte("null")}
		default:
			var err error
			if c, err = p.compile(prop.Name, prop.Schema, cc); err != nil {
				return err
			}
		}
		n.children = append(n.children, c)
	}
	return nil
}

// compileArray builds an array node: up to maxItems elements, empty as
// often as emptyPct says, elements compiled from the item schema.
func (p *plans) compileArray(n *node, sc *openapi.Schema, cc compileCtx) error {
	n.kind = nkArray
	n.maxItems, n.emptyPct = 3, 25
	switch n.name {
	case "transactions", "credit_payments", "coupon_redemptions", "shipping_addresses", "add_ons", "plans":
		n.maxItems, n.emptyPct = 2, 40
	case "currencies":
		n.maxItems, n.emptyPct = 3, 0
	case "custom_fields":
		n.maxItems, n.emptyPct = 4, 30
	}
	if sc.Items == nil {
		n.kind, n.raw = nkConst, []byte("[]")
		return nil
	}
	it, err := p.compile(n.name, sc.Items, compileCtx{rec: cc.rec, depth: cc.depth + 1, owner: cc.owner, path: cc.path + "." + n.name + "[]"})
	if err != nil {
		return err
	}
	it.key = nil
	if it.kind == nkObject || it.kind == nkMini {
		it.nullPct = 0
	}
	n.item = it
	return nil
}

// compileScalar builds an integer, number or boolean node (an untyped
// schema is an open object).
func compileScalar(n *node, sc *openapi.Schema) {
	n.nullPct = 4
	switch {
	case sc.Type == "integer":
		n.kind = nkInt
		n.lo, n.hi = intRange(n.name)
		clampRange(&n.lo, &n.hi, sc, 1)
	case sc.Type == "boolean":
		n.kind = nkBool
	case sc.Type == "":
		n.kind, n.nullPct = nkFreeObject, 0
	case n.name == "proration_rate":
		n.kind, n.scale, n.lo, n.hi = nkDecimal, 4, 0, 10000
	case n.name == "rate":
		n.kind, n.scale, n.lo, n.hi = nkDecimal, 4, 0, 2500
	case n.name == "gateway_response_time":
		n.kind, n.scale, n.lo, n.hi = nkDecimal, 3, 50, 5000
	default:
		n.kind, n.lo, n.hi = nkMoney, 0, 200000
		clampRange(&n.lo, &n.hi, sc, 100)
	}
}

func clampRange(lo, hi *int64, sc *openapi.Schema, unit float64) {
	if sc.Minimum != nil && float64(*lo) < *sc.Minimum*unit {
		*lo = int64(*sc.Minimum * unit)
	}
	if sc.Maximum != nil && float64(*hi) > *sc.Maximum*unit {
		*hi = int64(*sc.Maximum * unit)
	}
	if *hi < *lo {
		*hi = *lo
	}
}

func (p *plans) children(n *node, sc *openapi.Schema, cc compileCtx) error {
	for _, prop := range sc.Properties {
		c, err := p.compile(prop.Name, prop.Schema, cc)
		if err != nil {
			return err
		}
		n.children = append(n.children, c)
	}
	return nil
}

func (p *plans) compileString(n *node, name string, sc *openapi.Schema, cc compileCtx) error {
	if sc.Format == "date-time" {
		if cc.depth > 0 && (name == "created_at" || name == "updated_at") {
			n.kind = nkTimeBetween
			return nil
		}
		n.kind = nkTime
		n.nullPct, n.lo, n.hi = timeRule(name)
		return nil
	}
	if len(sc.Enum) > 0 {
		n.kind = nkEnum
		switch name {
		case "state", "type", "status", "origin", "object":
		default:
			n.nullPct = 3
		}
		for _, e := range sc.Enum {
			n.enum = append(n.enum, []byte(strconv.Quote(e)))
		}
		return nil
	}
	if tk, ok := refTargets[name]; ok {
		p.compileRef(n, tk, cc)
		return nil
	}
	n.kind = nkString
	n.str = stringGenFor(name, cc.owner)
	if strings.HasSuffix(name, "_id") || name == "id" {
		n.str = stringGenFor("id", cc.owner)
		if name != "id" {
			n.nullPct = 20
		}
		return nil
	}
	n.nullPct, n.emptyPct = 4, 6
	switch name {
	case "email", "first_name", "last_name", "uuid", "hosted_login_token", "name", "currency", "value":
		n.nullPct, n.emptyPct = 0, 0
	}
	return nil
}

// compileRef builds a reference to a record of kind tk: an id (or a list
// of ids), or a field of the record such as plan_code or invoice_number.
// Paired fields (plan_id, plan_code) pick the same record.
func (p *plans) compileRef(n *node, tk kind, cc compileCtx) {
	name := n.name
	pair := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_id"), "_code"), "_number"), "_ids")
	n.target, n.refNull = tk, refNullPct(pair)
	switch {
	case name == "account_id":
		n.sel = selAccount
	case tk == cc.rec && cc.depth > 0 && !strings.HasPrefix(name, "previous_") && !strings.HasPrefix(name, "original_") && name != "subscription_ids":
		n.sel = selSelf
	default:
		n.sel, n.refSalt = selObject, hashString("ref."+pair)
	}
	switch {
	case strings.HasSuffix(name, "_id") || name == "subscription_ids":
		n.kind = nkRefID
	default:
		n.kind = nkRefField
		field := "code"
		switch name {
		case "invoice_number":
			field = "number"
		case "plans_names":
			field = "name"
		}
		n.field = &node{name: field}
		p.minis = append(p.minis, n)
	}
	if name == "subscription_ids" || name == "plans_names" {
		n.refNull = 0 // array elements are never null
	}
}

// gen renders one record (or a related record, for minis and paired fields).
type gen struct {
	s       *Site
	k       kind
	t       *table
	i       int
	acct    int
	created int64
	updated int64
	arr     arrCtx
	m       memo // the record's model facts, computed once per rendering
}

// genPool recycles generators: model hooks take a *gen, so a generator
// escapes to the heap, and allocating one per rendered record (and per
// related record) cost a third of the rendering time.
var genPool = sync.Pool{New: func() any { return new(gen) }}

// newGen returns a generator for record i of kind k; give it back with
// release.
func (s *Site) newGen(k kind, i int) *gen {
	t := s.tables[k]
	g := genPool.Get().(*gen)
	*g = gen{s: s, k: k, t: t, i: i, acct: s.recordAccount(k, i), created: t.created[i], updated: t.updated[i]}
	return g
}

func (g *gen) release() {
	g.s, g.t = nil, nil
	genPool.Put(g)
}

// appendRecord appends the JSON of record i of kind k. The caller holds s.mu.
func (s *Site) appendRecord(dst []byte, k kind, i int) []byte {
	g := s.newGen(k, i)
	start := len(dst)
	dst = g.object(dst, s.plans.top[k].children, g.t.stable(i), g.t.volatile(i))
	g.release()
	if s.cfg.Drift != (Drift{}) {
		dst = s.drift(dst, start, k, i)
	}
	return dst
}

// appendBillingInfo appends account i's billing info (which must exist).
func (s *Site) appendBillingInfo(dst []byte, i int) []byte {
	g := s.newGen(kAccount, i)
	dst = g.billingObject(dst, s.plans.billing, g.t.stable(i))
	g.release()
	return dst
}

// appendTopField appends just one top-level field's value of a record, for
// filters.
func (s *Site) appendTopField(dst []byte, k kind, i int, f *node) []byte {
	g := s.newGen(k, i)
	dst = g.value(dst, f, g.t.stable(i), g.t.volatile(i))
	g.release()
	return dst
}

func (g *gen) object(dst []byte, children []*node, s, v uint64) []byte {
	dst = append(dst, '{')
	for j, c := range children {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.key...)
		dst = g.value(dst, c, s, v)
	}
	return append(dst, '}')
}

func (g *gen) billingObject(dst []byte, n *node, objS uint64) []byte {
	t := g.t
	s := mix(objS ^ n.salt)
	v := mix(s ^ uint64(t.billUpdated[g.i]))
	return g.object(dst, n.children, s, v)
}

const rfc3339Z = "2006-01-02T15:04:05Z"

// appendTime appends sec as a quoted "2006-01-02T15:04:05Z" (UTC, no
// fraction), the way Recurly sends timestamps.
func appendTime(dst []byte, sec int64) []byte {
	days, rem := sec/86400, sec%86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		return append(append(append(dst, '"'), time.Unix(sec, 0).UTC().Format(rfc3339Z)...), '"')
	}
	h, mi, s := rem/3600, rem%3600/60, rem%60
	return append(dst, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), 'Z', '"')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's civil_from_days).
func civil(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// pickRef chooses the related record of a reference node; ok is false for
// null.
func (g *gen) pickRef(n *node, objS uint64) (int, bool) {
	switch n.sel {
	case selAccount:
		return g.acct, g.acct >= 0
	case selParentPlan:
		pi := g.s.parent(g.t, g.i, kPlan)
		return pi, pi >= 0
	case selSelf:
		return g.i, true
	case selModel:
		ti := n.pick(g)
		return ti, ti >= 0
	}
	tn := uint64(g.s.tables[n.target].n)
	if tn == 0 {
		return -1, false
	}
	r := mix(objS ^ n.refSalt)
	if r%100 < n.refNull {
		return -1, false
	}
	return int((r >> 8) % tn), true
}

// value appends node n's value in an object of states objS (stable) and
// objV (this version): null as often as the node says, else by what the
// node is: a composite, a value from the schema, a field of the record
// itself, or a reference to a related record (or a model value).
func (g *gen) value(dst []byte, n *node, objS, objV uint64) []byte {
	base := objV
	if n.stable {
		base = objS
	}
	st := mix(base ^ n.salt)
	if n.nullPct > 0 && st%100 < n.nullPct && n.kind != nkMini {
		return append(dst, "null"...)
	}
	switch {
	case n.kind == nkObject || n.kind == nkArray:
		return g.composite(dst, n, objS, objV, st>>7)
	case n.kind <= nkConst:
		return g.scalar(dst, n, st>>7, objS)
	case n.kind <= nkBillingUpdated:
		return g.recordField(dst, n, objS)
	}
	return g.reference(dst, n, objS, objV, st)
}

// composite appends an object or an array; their children's states derive
// from the enclosing object's.
func (g *gen) composite(dst []byte, n *node, objS, objV, r uint64) []byte {
	cs := mix(objS ^ n.salt)
	cv := cs
	if !n.stable {
		cv = mix(objV ^ n.salt)
	}
	if n.kind == nkObject {
		return g.object(dst, n.children, cs, cv)
	}
	count := uint64(0)
	if n.count != nil {
		count = uint64(n.count(g))
	} else if (r>>20)%100 >= n.emptyPct {
		count = 1 + r%n.maxItems
	}
	saved := g.arr
	g.arr = arrCtx{in: true, base: mix(cs ^ 0xa11)}
	dst = append(dst, '[')
	for e := range count {
		if e > 0 {
			dst = append(dst, ',')
		}
		g.arr.elem = int(e)
		es, ev := mix(cs+e*0x9E3779B97F4A7C15), mix(cv+e*0x9E3779B97F4A7C15)
		dst = g.value(dst, n.item, es, ev)
	}
	g.arr = saved
	return append(dst, ']')
}

// scalar appends a value the spec's schema and the field's name decide
// (r is the node's state).
func (g *gen) scalar(dst []byte, n *node, r, objS uint64) []byte {
	switch n.kind {
	case nkString:
		if (r>>30)%100 < n.emptyPct {
			return append(dst, `""`...)
		}
		dst = append(dst, '"')
		start := len(dst)
		dst = n.str(g.arr, r, objS, dst)
		if n.maxLen > 0 && len(dst)-start > n.maxLen {
			dst = dst[:start+n.maxLen]
		}
		return append(dst, '"')
	case nkEnum:
		return append(dst, n.enum[r%uint64(len(n.enum))]...)
	case nkInt:
		return strconv.AppendInt(dst, n.lo+int64(r%uint64(n.hi-n.lo+1)), 10)
	case nkMoney:
		c := n.lo + int64(r%uint64(n.hi-n.lo+1))
		if (r>>40)%3 == 0 {
			c -= c % 100 // whole amounts are common
		}
		return appendMoney(dst, c)
	case nkDecimal:
		v := n.lo + int64(r%uint64(n.hi-n.lo+1))
		return strconv.AppendFloat(dst, float64(v)/pow10(n.scale), 'f', -1, 64)
	case nkBool:
		return strconv.AppendBool(dst, r%2 == 0)
	case nkTime:
		return appendTime(dst, g.created+n.lo+int64(r%uint64(n.hi-n.lo+1)))
	case nkTimeBetween:
		// A nested object's created_at and updated_at: both within the
		// record's [created_at, updated_at], created first.
		c := g.created + int64(mix(objS^0xc1)%uint64(g.updated-g.created+1))
		if n.name == "updated_at" {
			c += int64(mix(objS^0xc2) % uint64(g.updated-c+1))
		}
		return appendTime(dst, c)
	case nkFreeObject:
		return append(dst, "{}"...)
	}
	return append(dst, n.raw...) // nkConst
}

// recordField appends a field of the record itself: its id, timestamps,
// code, invoice number, or an account's billing info and its fields.
func (g *gen) recordField(dst []byte, n *node, objS uint64) []byte {
	switch n.kind {
	case nkRecordID:
		return append(g.t.appendID(append(dst, '"'), g.i), '"')
	case nkCreated:
		return appendTime(dst, g.created)
	case nkUpdated:
		return appendTime(dst, g.updated)
	case nkCollected:
		return timeIf(dst, g.t.collected[g.i] != noTime, g.t.collected[g.i])
	case nkCode:
		var idb [13]byte
		dst = append(dst, '"')
		dst = append(dst, pick(words, g.t.stable(g.i))...)
		dst = append(dst, '-')
		dst = append(dst, g.t.appendID(idb[:0], g.i)[1:]...) // unique, and invertible for code- lookups
		return append(dst, '"')
	case nkInvoiceNumber:
		dst = strconv.AppendInt(append(dst, '"'), int64(invoiceNumberBase+g.i), 10)
		return append(dst, '"')
	case nkBilling:
		if g.k != kAccount || g.t.billUpdated[g.i] == noTime {
			return append(dst, "null"...)
		}
		return g.billingObject(dst, n, objS)
	case nkBillingID:
		return append(g.t.billingID(append(dst, '"'), g.i), '"')
	case nkBillingCreated:
		return appendTime(dst, g.t.billCreated[g.i])
	}
	return appendTime(dst, g.t.billUpdated[g.i]) // nkBillingUpdated
}

// reference appends what a reference node names: a related record's id,
// one of its fields, its full object or its *Mini, or a value the site
// model computes (nkFunc). st is the node's state (a mini's null draw).
func (g *gen) reference(dst []byte, n *node, objS, objV, st uint64) []byte {
	if n.kind == nkFunc {
		return n.fn(g, dst, objS, objV)
	}
	if n.kind == nkMini && n.nullPct > 0 && st%100 < n.nullPct {
		return append(dst, "null"...)
	}
	ti, ok := g.pickRef(n, objS)
	if !ok {
		return append(dst, "null"...)
	}
	switch n.kind {
	case nkRefID:
		return append(g.s.tables[n.target].appendID(append(dst, '"'), ti), '"')
	case nkFull:
		return g.s.appendRecord(dst, n.target, ti)
	case nkMini:
		if n.sel == selSelf {
			return g.object(dst, n.children, g.t.stable(ti), g.t.volatile(ti))
		}
	case nkRefField:
	default:
		panic(fmt.Sprintf("recurlytest: node %s has unknown kind %d", n.name, n.kind))
	}
	tg := g.s.newGen(n.target, ti)
	if n.kind == nkMini {
		dst = tg.object(dst, n.children, tg.t.stable(ti), tg.t.volatile(ti))
	} else {
		dst = tg.value(dst, n.field, tg.t.stable(ti), tg.t.volatile(ti))
	}
	tg.release()
	return dst
}

func pow10(n int) float64 {
	f := 1.0
	for range n {
		f *= 10
	}
	return f
}
