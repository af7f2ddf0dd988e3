-- Staging views over the dbt_recurly layout, written after the staging
-- models of fivetran's dbt_recurly (models/staging/stg_recurly__*.sql) for
-- the six tables its final models read: the same renames and casts, and
-- is_most_recent_record over each record's versions. Run with search_path
-- set to the schema the tap's tables were loaded into. A column the layout
-- lacks makes a view fail here, where the package would fill it with NULL.

create or replace view stg_recurly__account_history as
select
    id as account_id,
    cast(updated_at as timestamp) as updated_at,
    account_city, account_country, account_postal_code, account_region,
    bill_to, cc_emails, code, company,
    cast(created_at as timestamp) as created_at,
    cast(deleted_at as timestamp) as deleted_at,
    email, first_name, last_name, state, username, vat_number,
    tax_exempt as is_tax_exempt,
    row_number() over (partition by id order by updated_at desc) = 1 as is_most_recent_record
from account_history;

create or replace view stg_recurly__invoice_history as
select
    id as invoice_id,
    cast(updated_at as timestamp) as updated_at,
    account_id,
    cast(balance as numeric) as balance,
    cast(closed_at as timestamp) as closed_at,
    collection_method,
    cast(created_at as timestamp) as created_at,
    currency,
    cast(discount as numeric) as discount,
    cast(due_at as timestamp) as due_at,
    net_terms, number, origin,
    cast(paid as numeric) as paid,
    po_number, previous_invoice_id,
    cast(refundable_amount as numeric) as refundable_amount,
    state,
    cast(subtotal as numeric) as subtotal,
    cast(tax as numeric) as tax,
    tax_rate, tax_region, tax_type,
    cast(total as numeric) as total,
    type,
    row_number() over (partition by id order by updated_at desc) = 1 as is_most_recent_record
from invoice_history;

create or replace view stg_recurly__line_item_history as
select
    id as line_item_id,
    cast(updated_at as timestamp) as updated_at,
    account_id, add_on_code, add_on_id,
    cast(amount as numeric) as amount,
    cast(created_at as timestamp) as created_at,
    cast(credit_applied as numeric) as credit_applied,
    currency, description,
    cast(discount as numeric) as discount,
    cast(end_date as timestamp) as ended_at,
    refund as has_refund,
    invoice_id, invoice_number,
    taxable as is_taxable,
    original_line_item_invoice_id, origin, plan_code, plan_id,
    previous_line_item_id, product_code, proration_rate, quantity,
    refunded_quantity,
    cast(start_date as timestamp) as started_at,
    state, subscription_id,
    cast(subtotal as numeric) as subtotal,
    cast(tax as numeric) as tax,
    tax_code, tax_exempt, tax_region, tax_rate, tax_type, type,
    cast(unit_amount as numeric) as unit_amount,
    uuid,
    row_number() over (partition by id order by updated_at desc) = 1 as is_most_recent_record
from line_item_history;

create or replace view stg_recurly__plan_history as
select
    id as plan_id,
    cast(updated_at as timestamp) as updated_at,
    accounting_code, code,
    cast(created_at as timestamp) as created_at,
    cast(deleted_at as timestamp) as deleted_at,
    description,
    auto_renew as has_auto_renew,
    interval_length, interval_unit,
    tax_exempt as is_tax_exempt,
    name, setup_fee_accounting_code, state, tax_code,
    total_billing_cycles, trial_length, trial_unit,
    row_number() over (partition by id order by updated_at desc) = 1 as is_most_recent_record
from plan_history;

create or replace view stg_recurly__subscription_history as
select
    id as subscription_id,
    cast(updated_at as timestamp) as updated_at,
    account_id,
    cast(activated_at as timestamp) as activated_at,
    cast(add_ons_total as numeric) as add_ons_total,
    cast(canceled_at as timestamp) as canceled_at,
    collection_method,
    cast(created_at as timestamp) as created_at,
    currency,
    cast(current_period_ends_at as timestamp) as current_period_ended_at,
    cast(current_period_started_at as timestamp) as current_period_started_at,
    cast(current_term_ends_at as timestamp) as current_term_ended_at,
    cast(current_term_started_at as timestamp) as current_term_started_at,
    expiration_reason,
    cast(expires_at as timestamp) as expires_at,
    auto_renew as has_auto_renew,
    object,
    cast(paused_at as timestamp) as paused_at,
    plan_id, quantity, remaining_billing_cycles, remaining_pause_cycles,
    renewal_billing_cycles, state,
    cast(subtotal as numeric) as subtotal,
    total_billing_cycles,
    cast(trial_ends_at as timestamp) as trial_ends_at,
    cast(trial_started_at as timestamp) as trial_started_at,
    cast(unit_amount as numeric) as unit_amount,
    uuid,
    -- the package orders a subscription's versions by its current period
    row_number() over (partition by id order by current_period_started_at desc) = 1 as is_most_recent_record
from subscription_history;

create or replace view stg_recurly__transaction as
select
    id as transaction_id,
    cast(created_at as timestamp) as created_at,
    account_id,
    cast(amount as numeric) as amount,
    billing_city, billing_country, billing_first_name, billing_last_name,
    billing_phone, billing_postal_code, billing_region, billing_street_1,
    billing_street_2,
    cast(collected_at as timestamp) as collected_at,
    collection_method, currency, customer_message, customer_message_locale,
    gateway_approval_code, gateway_message, gateway_reference,
    gateway_response_code, gateway_response_time, gateway_response_values,
    invoice_id,
    refunded as is_refunded,
    success as is_successful,
    origin, original_transaction_id, payment_gateway_id,
    payment_gateway_name, payment_gateway_type, payment_method_object,
    status, status_code, status_message, type, uuid,
    cast(voided_at as timestamp) as voided_at,
    voided_by_invoice_id,
    row_number() over (partition by id order by created_at desc) = 1 as is_most_recent_record
from "transaction";

-- recurly__balance_transactions: each line item's latest version with its
-- invoice's and, through the invoice, its transactions' (one row per
-- transaction of the invoice, as the package's left join gives).
create or replace view recurly__balance_transactions as
select
    li.line_item_id as balance_transaction_id,
    li.created_at, li.updated_at, li.account_id, li.invoice_id,
    li.invoice_number, li.type, li.state, li.origin, li.product_code,
    li.discount, li.tax, li.description, li.plan_code, li.add_on_code,
    li.has_refund, li.refunded_quantity, li.currency, li.amount,
    li.credit_applied, li.quantity, li.unit_amount, li.subtotal,
    li.started_at, li.ended_at, li.original_line_item_invoice_id,
    li.previous_line_item_id,
    inv.state as invoice_state,
    inv.origin as invoice_origin,
    inv.type as invoice_type,
    inv.created_at as invoice_created_at,
    inv.due_at as invoice_due_at,
    inv.closed_at as invoice_closed_at,
    tr.transaction_id,
    tr.created_at as transaction_created_at,
    tr.type as transaction_type,
    tr.origin as transaction_origin,
    tr.status as transaction_status,
    tr.billing_country as transaction_billing_country,
    tr.status_message as transaction_status_message,
    tr.payment_method_object as transaction_payment_method_object
from (select * from stg_recurly__line_item_history where is_most_recent_record) li
left join (select * from stg_recurly__invoice_history where is_most_recent_record) inv
    on li.invoice_id = inv.invoice_id
left join (select * from stg_recurly__transaction where is_most_recent_record) tr
    on inv.invoice_id = tr.invoice_id;

-- recurly__monthly_recurring_revenue: per account and month, the charges
-- that cover a service period, against the month before. The package sums
-- amounts per account without regard to currency; currency is carried
-- here (an account bills in one) so totals can be kept apart by it.
create or replace view recurly__monthly_recurring_revenue as
with mrr_by_account as (
    select
        account_id,
        date_trunc('month', created_at) as account_month,
        min(currency) as currency,
        row_number() over (partition by account_id order by date_trunc('month', created_at)) as account_month_number,
        sum(amount) as current_month_mrr
    from recurly__balance_transactions
    where lower(type) = 'charge'
        and started_at is not null
        and ended_at is not null
    group by account_id, date_trunc('month', created_at)
),
current_vs_previous as (
    select *,
        lag(current_month_mrr) over (partition by account_id order by account_month) as previous_month_mrr
    from mrr_by_account
)
select
    c.account_id, c.account_month, c.currency, c.account_month_number,
    c.current_month_mrr, c.previous_month_mrr,
    case when c.current_month_mrr > c.previous_month_mrr then 'expansion'
        when c.current_month_mrr < c.previous_month_mrr then 'contraction'
        when c.current_month_mrr = c.previous_month_mrr then 'unchanged'
        when c.previous_month_mrr is null then 'new'
        when (c.current_month_mrr = 0.0 or c.current_month_mrr is null)
            and c.previous_month_mrr != 0.0 then 'churned'
        when c.previous_month_mrr = 0.0 and c.current_month_mrr > 0.0
            and c.account_month_number >= 3 then 'reactivation'
    end as mrr_type,
    a.code as account_code,
    a.created_at as account_created_at,
    a.email as account_email,
    a.first_name as account_first_name,
    a.last_name as account_last_name,
    a.username as account_username
from current_vs_previous c
left join (select * from stg_recurly__account_history where is_most_recent_record) a
    on c.account_id = a.account_id;
