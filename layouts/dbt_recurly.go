package layouts

import (
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/streams"
)

// The dbt_recurly layout: the 18 source tables that Fivetran's dbt
// packages fivetran/dbt_recurly (and dbt_recurly_source) read, under their
// names, each with every column the package's get_<table>_columns macro
// lists, flat. Table and column names are the package's; the rows are
// derived from the same listings the streams layout reads:
//
//   - one listing feeds every table derived from it (accounts feeds
//     account_history and billing_info_history; invoices feeds
//     invoice_history and invoice_subscription_history; and so on);
//   - child tables unpacked from arrays a record embeds cost no request;
//   - the per-parent tables (balances, notes and coupon redemptions under
//     each account, coupon redemptions under each invoice) are opt-in,
//     as the per-parent streams are.
//
// History tables keep one row per version: objects are keyed by id and
// updated_at, child rows by the parent's id, the child's key and the
// parent's updated_at. Where a table's columns hold no value the bookmark
// can follow (the parent's updated_at or collected_at), the row carries it
// in one extra column named <parent>_<field>, e.g. subscription_updated_at:
// extra columns are ignored by the package's staging models.

// table is one row of the layout: the stream it is, and the spec stream
// whose JSON Schema describes its source record ("" when none does: the
// columns then declare their types).
type table struct {
	streams.Stream
	spec string
}

// dbtTables is the dbt_recurly layout's tables.
func dbtTables() []streams.Stream {
	var out []streams.Stream
	for _, t := range dbtTable {
		out = append(out, t.Stream)
	}
	return out
}

// col is a column read from the dotted path from.
func col(name, from string) streams.Column { return streams.Column{Name: name, From: from} }

// same is columns named as the fields they are read from.
func same(names ...string) []streams.Column {
	out := make([]streams.Column, len(names))
	for i, n := range names {
		out[i] = col(n, n)
	}
	return out
}

// cols joins column lists, with _fivetran_synced first.
func cols(parts ...[]streams.Column) []streams.Column {
	out := []streams.Column{col("_fivetran_synced", streams.Synced)}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// typed is a column whose value no spec field types: its JSON type.
func typed(c streams.Column, typ string) streams.Column { c.Type = typ; return c }

// history is the key of an object's history table.
var history = []string{"id", "updated_at"}

// fromObject is a table of one flat row per listed record.
func fromObject(name, object, source, spec, rk string, keys []string, columns ...[]streams.Column) table {
	return table{Stream: streams.Stream{Name: name, Object: object, Source: source, KeyProperty: "id", ReplicationKey: rk,
		Keys: keys, Rows: &streams.Derive{Columns: cols(columns...)}}, spec: spec}
}

// unpacked is a child table of one row per element of the array at path
// in each listed record, bookmarked by the record's field sourceKey held
// in the row's column rk.
func unpacked(name, object, source, spec, path, rk, sourceKey string, keys []string, columns ...[]streams.Column) table {
	return table{Stream: streams.Stream{Name: name, Object: object, Source: source, KeyProperty: "id", ReplicationKey: rk,
		SourceKey: sourceKey, Keys: keys, Rows: &streams.Derive{Unpack: path, Columns: cols(columns...)}}, spec: spec}
}

var dbtTable = []table{
	fromObject("account_history", "Account", "accounts", "accounts", "updated_at", history,
		same("id", "created_at", "updated_at", "deleted_at", "code", "bill_to", "state", "username", "first_name", "last_name",
			"email", "cc_emails", "company", "vat_number", "tax_exempt"),
		[]streams.Column{col("account_city", "address.city"), col("account_country", "address.country"),
			col("account_postal_code", "address.postal_code"), col("account_region", "address.region")}),

	{Stream: streams.Stream{Name: "billing_info_history", Object: "BillingInfo", Source: "accounts", KeyProperty: "account_id",
		ReplicationKey: "updated_at", Keys: history, Embedded: "billing_info", Fallback: "accounts/%s/billing_info",
		Rows: &streams.Derive{Columns: cols(
			same("id", "updated_at", "account_id", "first_name", "last_name", "company"),
			[]streams.Column{col("billing_phone", "address.phone"), col("billing_street_1", "address.street1"),
				col("billing_street_2", "address.street2"), col("billing_city", "address.city"), col("billing_region", "address.region"),
				col("billing_postal_code", "address.postal_code"), col("billing_country", "address.country")},
			same("vat_number", "valid"),
			[]streams.Column{col("payment_method_object", "payment_method.object"), col("payment_method_card_type", "payment_method.card_type"),
				col("payment_method_first_six", "payment_method.first_six"), col("payment_method_last_four", "payment_method.last_four"),
				col("payment_method_exp_month", "payment_method.exp_month"), col("payment_method_exp_year", "payment_method.exp_year"),
				col("fraud_score", "fraud.score"), col("fraud_decision", "fraud.decision"),
				col("fraud_risk_rules_triggered", "fraud.risk_rules_triggered"),
				col("created_at", "created_at"), col("updated_by_ip", "updated_by.ip"), col("updated_by_country", "updated_by.country")})}},
		spec: "billing_info"},

	fromObject("invoice_history", "Invoice", "invoices", "invoices", "updated_at", history,
		same("id", "created_at", "updated_at", "due_at", "closed_at"),
		[]streams.Column{col("account_id", "account.id")},
		same("previous_invoice_id", "type", "origin", "state", "number", "collection_method", "po_number", "net_terms", "currency",
			"balance", "paid", "total", "subtotal", "refundable_amount", "discount", "tax"),
		[]streams.Column{col("tax_type", "tax_info.type"), col("tax_region", "tax_info.region"), col("tax_rate", "tax_info.rate")}),

	unpacked("invoice_subscription_history", "Invoice", "invoices", "invoices", "subscription_ids", "invoice_updated_at", "updated_at",
		[]string{"invoice_id", "subscription_id", "invoice_updated_at"},
		[]streams.Column{col("invoice_id", "^id"), col("invoice_updated_at", "^updated_at"), col("subscription_id", ".")}),

	fromObject("line_item_history", "LineItem", "line_items", "adjustments", "updated_at", history,
		same("id", "created_at", "updated_at"),
		[]streams.Column{col("account_id", "account.id")},
		same("plan_id", "add_on_id", "invoice_id", "previous_line_item_id", "original_line_item_invoice_id", "subscription_id", "uuid",
			"type", "state", "plan_code", "add_on_code", "invoice_number", "origin", "product_code", "currency", "amount", "description",
			"quantity", "unit_amount", "subtotal", "discount", "tax", "taxable", "tax_exempt", "tax_code"),
		[]streams.Column{col("tax_type", "tax_info.type"), col("tax_region", "tax_info.region"), col("tax_rate", "tax_info.rate")},
		same("proration_rate", "refund", "refunded_quantity", "credit_applied", "start_date", "end_date")),

	fromObject("plan_history", "Plan", "plans", "plans", "updated_at", history,
		same("id", "created_at", "updated_at", "deleted_at", "code", "state", "name", "description", "interval_unit", "interval_length",
			"trial_unit", "trial_length", "total_billing_cycles", "auto_renew", "accounting_code", "setup_fee_accounting_code",
			"tax_code", "tax_exempt")),

	unpacked("plan_currency_history", "Plan", "plans", "plans", "currencies", "plan_updated_at", "updated_at",
		[]string{"plan_id", "currency", "plan_updated_at"},
		[]streams.Column{col("plan_id", "^id"), col("plan_updated_at", "^updated_at"), col("currency", "currency"),
			col("setup_fees", "setup_fee"), col("unit_amount", "unit_amount")}),

	fromObject("subscription_history", "Subscription", "subscriptions", "subscriptions", "updated_at", history,
		same("id", "created_at", "updated_at", "activated_at", "canceled_at", "expires_at"),
		[]streams.Column{col("account_id", "account.id"), col("plan_id", "plan.id")},
		same("object", "uuid", "state", "current_period_started_at", "current_period_ends_at", "current_term_started_at",
			"current_term_ends_at", "trial_started_at", "trial_ends_at", "remaining_billing_cycles", "total_billing_cycles",
			"renewal_billing_cycles", "auto_renew", "paused_at", "remaining_pause_cycles", "currency", "unit_amount", "quantity",
			"add_ons_total", "subtotal", "collection_method", "expiration_reason")),

	unpacked("subscription_add_on_history", "Subscription", "subscriptions", "subscriptions", "add_ons", "subscription_updated_at", "updated_at",
		history,
		same("created_at", "expired_at", "id", "object"),
		[]streams.Column{col("plan_add_on_id", "add_on.id")},
		same("quantity"),
		[]streams.Column{col("subscription_id", "^id")},
		same("unit_amount", "updated_at"),
		[]streams.Column{col("subscription_updated_at", "^updated_at")}),

	unpacked("subscription_change_history", "Subscription", "subscriptions", "subscriptions", "pending_change", "subscription_updated_at", "updated_at",
		history,
		same("id", "updated_at"),
		[]streams.Column{col("plan_id", "plan.id"), col("subscription_id", "^id")},
		same("object", "unit_amount", "quantity", "activate_at", "activated", "created_at", "deleted_at"),
		[]streams.Column{col("subscription_updated_at", "^updated_at")}),

	fromObject("transaction", "Transaction", "transactions", "transactions", "collected_at", []string{"id"},
		same("id", "created_at", "voided_at", "collected_at", "original_transaction_id"),
		[]streams.Column{col("account_id", "account.id"), col("invoice_id", "invoice.id"), col("voided_by_invoice_id", "voided_by_invoice.id")},
		same("uuid", "type", "origin", "currency", "amount", "status", "success", "refunded"),
		[]streams.Column{col("billing_first_name", "billing_address.first_name"), col("billing_last_name", "billing_address.last_name"),
			col("billing_phone", "billing_address.phone"), col("billing_street_1", "billing_address.street1"),
			col("billing_street_2", "billing_address.street2"), col("billing_city", "billing_address.city"),
			col("billing_region", "billing_address.region"), col("billing_postal_code", "billing_address.postal_code"),
			col("billing_country", "billing_address.country")},
		same("collection_method"),
		[]streams.Column{col("payment_method_object", "payment_method.object")},
		same("status_code", "status_message", "customer_message", "customer_message_locale", "gateway_message", "gateway_reference",
			"gateway_approval_code", "gateway_response_code", "gateway_response_time"),
		[]streams.Column{col("payment_gateway_id", "payment_gateway.id"), col("payment_gateway_type", "payment_gateway.type"),
			col("payment_gateway_name", "payment_gateway.name")},
		same("gateway_response_values")),

	unpacked("transaction_subscription", "Transaction", "transactions", "transactions", "subscription_ids", "transaction_collected_at", "collected_at",
		[]string{"transaction_id", "subscription_id"},
		[]streams.Column{col("transaction_id", "^id"), col("subscription_id", "."), col("transaction_collected_at", "^collected_at")}),

	fromObject("credit_payment_history", "CreditPayment", "credit_payments", "credit_payments", "updated_at", history,
		same("id", "updated_at"),
		[]streams.Column{col("account_id", "account.id"), col("applied_to_invoice_id", "applied_to_invoice.id"),
			col("original_invoice_id", "original_invoice.id"), col("refund_transaction_id", "refund_transaction.id")},
		same("original_credit_payment_id", "uuid", "action", "currency", "amount", "created_at", "voided_at")),

	couponDiscount(),

	// Opt-in per-parent tables: one request per parent on every run. A
	// child row carries its parent's updated_at (as the package's grain
	// asks), but nothing says a new balance or redemption moves it, so the
	// balances and the invoices' redemptions are all written on every run
	// (their bookmark column is not in the child record: no bookmark), and
	// notes are kept from their own created_at bookmark, as account_notes.
	{Stream: streams.Stream{Name: "account_balance_history", Object: "AccountBalance", Source: "accounts/%s/balance",
		Parent: "accounts", Params: streams.OneObject, OptIn: true,
		ReplicationKey: "account_updated_at", Keys: []string{"account_id", "currency", "account_updated_at"},
		Rows: &streams.Derive{Unpack: "balances", Columns: cols([]streams.Column{
			typed(col("account_id", streams.ParentID), "string"), typed(col("account_updated_at", streams.ParentUpdatedAt), "date-time"),
			typed(col("amount", "amount"), "number"), typed(col("currency", "currency"), "string"), typed(col("past_due", "^past_due"), "boolean")})}}},

	{Stream: streams.Stream{Name: "account_note_history", Object: "AccountNote", Source: "accounts/%s/notes",
		Parent: "accounts", Params: streams.NoParams, OptIn: true, KeyProperty: "id",
		ReplicationKey: "created_at", Keys: []string{"id", "account_updated_at"},
		Rows: &streams.Derive{Columns: cols([]streams.Column{col("account_id", "account_id"),
			typed(col("account_updated_at", streams.ParentUpdatedAt), "date-time")},
			same("created_at", "id", "message", "object"),
			[]streams.Column{col("user_email", "user.email"), col("user_id", "user.id")})}},
		spec: "account_notes"},

	{Stream: streams.Stream{Name: "coupon_redemption_history", Object: "CouponRedemption", Source: "accounts/%s/coupon_redemptions",
		Parent: "accounts", Params: streams.DateParams, OptIn: true, KeyProperty: "id", ReplicationKey: "updated_at", Keys: history,
		Rows: &streams.Derive{Columns: cols([]streams.Column{col("account_id", "account.id"), col("coupon_id", "coupon.id")},
			same("created_at", "currency", "discounted", "id", "removed_at", "state", "updated_at"))}},
		spec: "coupon_redemptions"},

	{Stream: streams.Stream{Name: "invoice_coupon_redemption_history", Object: "CouponRedemption", Source: "invoices/%s/coupon_redemptions",
		Parent: "invoices", Params: streams.NoParams, OptIn: true, KeyProperty: "id",
		ReplicationKey: "invoice_updated_at",
		Keys:           []string{"invoice_id", "coupon_redemption_id", "invoice_updated_at"},
		Rows: &streams.Derive{Columns: cols([]streams.Column{col("coupon_redemption_id", "id"),
			typed(col("invoice_id", streams.ParentID), "string"), typed(col("invoice_updated_at", streams.ParentUpdatedAt), "date-time")})}},
		spec: "coupon_redemptions"},
}

// couponDiscount is the coupon_discount table: one row per currency of a
// fixed-amount coupon, else one row for its percent or free-trial
// discount. fivetran_id is "<coupon id>:<currency>" for a currency's row
// and "<coupon id>:<discount type>" for the others: stable across runs.
func couponDiscount() table {
	t := unpacked("coupon_discount", "Coupon", "coupons", "coupons", "discount.currencies", "coupon_updated_at", "updated_at",
		[]string{"fivetran_id"},
		[]streams.Column{col("amount", "amount"), col("coupon_id", "^id"), col("currency", "currency"),
			typed(streams.Column{Name: "fivetran_id", Value: couponDiscountID}, "string"),
			col("percentage", "^discount.percent"), col("trial_length", "^discount.trial.length"),
			col("trial_unit", "^discount.trial.unit"), col("type", "^discount.type"), col("coupon_updated_at", "^updated_at")})
	t.Rows.Else = "discount"
	return t
}

// couponDiscountID is coupon_discount.fivetran_id (see couponDiscount).
func couponDiscountID(record, elem []byte) any {
	id := field(record, "id")
	if cur := field(elem, "currency"); cur != "" {
		return id + ":" + cur
	}
	if typ := field(elem, "type"); typ != "" {
		return id + ":" + typ
	}
	return id + ":discount"
}

// field is the string value of a top-level field of a raw JSON object, ""
// when it has none.
func field(obj []byte, name string) string {
	var v [1][]byte
	if jsonscan.Fields(obj, []string{name}, v[:]) != nil {
		return ""
	}
	s, _ := jsonscan.String(v[0])
	return s
}
