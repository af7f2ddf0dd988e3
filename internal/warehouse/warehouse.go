// Package warehouse runs SQL of our own, written after fivetran's dbt_recurly
// package, on the tap's dbt_recurly layout loaded into PostgreSQL: staging
// views for the six tables the package's final models read, its balance
// transactions and its monthly recurring revenue (staging.sql). The proof
// test and the demo both read MRR through it, so they show the same query.
package warehouse

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tap-recurly/tap-recurly/internal/pgtest"
)

//go:embed staging.sql
var stagingSQL string

// Tables are the package's 18 source tables (its src_recurly.yml), the
// tables the dbt_recurly layout emits.
var Tables = []string{
	"account_balance_history", "account_history", "account_note_history", "billing_info_history",
	"coupon_discount", "coupon_redemption_history", "credit_payment_history",
	"invoice_coupon_redemption_history", "invoice_history", "invoice_subscription_history",
	"line_item_history", "plan_currency_history", "plan_history", "subscription_add_on_history",
	"subscription_change_history", "subscription_history", "transaction", "transaction_subscription",
}

// use points the session at schema, in UTC (the package's casts to
// timestamp, and its months, are then UTC).
func use(ctx context.Context, conn *pgx.Conn, schema string) error {
	_, err := conn.Exec(ctx, "SET search_path TO "+pgtest.Ident(schema)+"; SET TIME ZONE 'UTC'")
	return err
}

// Stage creates the staging views, recurly__balance_transactions and
// recurly__monthly_recurring_revenue in schema, over the tables loaded there.
func Stage(ctx context.Context, conn *pgx.Conn, schema string) error {
	if err := use(ctx, conn, schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, stagingSQL); err != nil {
		return fmt.Errorf("staging views: %w", err)
	}
	return nil
}

// Month is the monthly recurring revenue of one month in one currency.
type Month struct {
	Month    string // YYYY-MM
	Currency string
	Accounts int    // accounts with MRR that month
	MRR      string // the package's model: the sum of current_month_mrr (exact decimal)
	// Once is the same sum with each line item counted once. The package
	// joins line items to their invoice's transactions, so its MRR counts
	// a line item once per transaction of its invoice (failed attempts
	// too); Once is what the line items themselves add up to.
	Once string
}

// mrrQuery sums recurly__monthly_recurring_revenue by month and currency, and
// beside it the same line items each counted once.
const mrrQuery = `with package as (
    select to_char(account_month, 'YYYY-MM') as month, currency,
        count(*)::int as accounts, sum(current_month_mrr) as mrr
    from recurly__monthly_recurring_revenue group by 1, 2
), once as (
    select to_char(date_trunc('month', created_at), 'YYYY-MM') as month, currency, sum(amount) as once
    from (select distinct on (balance_transaction_id) * from recurly__balance_transactions
        where lower(type) = 'charge' and started_at is not null and ended_at is not null) li
    group by 1, 2
)
select month, currency, coalesce(accounts, 0), coalesce(mrr, 0)::text, coalesce(once, 0)::text
from package full join once using (month, currency) order by 1, 2`

// MRRByMonth sums recurly__monthly_recurring_revenue (made by Stage) by month
// and currency, oldest first.
func MRRByMonth(ctx context.Context, conn *pgx.Conn, schema string) ([]Month, error) {
	if err := use(ctx, conn, schema); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, mrrQuery)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Month, error) {
		var m Month
		err := r.Scan(&m.Month, &m.Currency, &m.Accounts, &m.MRR, &m.Once)
		return m, err
	})
}

// RowCounts counts the rows of each of tables in schema.
func RowCounts(ctx context.Context, conn *pgx.Conn, schema string, tables []string) (map[string]int, error) {
	out := make(map[string]int, len(tables))
	for _, t := range tables {
		var n int
		if err := conn.QueryRow(ctx, "select count(*) from "+pgtest.Ident(schema)+"."+pgtest.Ident(t)).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}
