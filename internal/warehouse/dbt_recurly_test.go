package warehouse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tap-recurly/tap-recurly/cli"
	"github.com/tap-recurly/tap-recurly/internal/pgtest"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// touchedTables are the history tables whose records the test changes on
// the site between its two runs, by the site resource they come from.
var touchedTables = map[string]string{
	"accounts":      "account_history",
	"invoices":      "invoice_history",
	"line_items":    "line_item_history",
	"plans":         "plan_history",
	"subscriptions": "subscription_history",
}

// TestDBTRecurlyOnPostgres syncs the demo business (the simulated site of
// `make demo`, seed 1) in the dbt_recurly layout, every table selected, into
// a real PostgreSQL; changes records on the site and syncs again from the
// loaded STATE. Then the package's column contract holds for every table,
// changed records have two versions, and the monthly recurring revenue of
// our SQL (written after the package's model) is what the site's own line
// items and transactions give, computed here in Go.
func TestDBTRecurlyOnPostgres(t *testing.T) {
	conn, schema := pgtest.Connect(t)
	srv := testutil.StartSite(t, recurlytest.Config{Seed: 1, RateLimit: 1_000_000})
	l := &pgtest.Loader{Conn: conn, Schema: schema}
	tap := newTap(t, srv)
	tap.sync(t, l)
	touched := map[string][]string{}
	for resource := range touchedTables {
		touched[resource] = srv.Site.Touch(resource, 5)
	}
	tap.sync(t, l, "--state", tap.write(t, "state.json", l.State))
	if err := Stage(context.Background(), conn, schema); err != nil {
		t.Fatal(err)
	}

	t.Run("every column the package lists", func(t *testing.T) { checkColumns(t, conn, schema) })
	t.Run("changed records have two versions", func(t *testing.T) { checkVersions(t, conn, schema, srv.Site, touched) })
	t.Run("MRR by month is the site's", func(t *testing.T) { checkMRR(t, conn, schema, srv.Site) })
}

// tap runs the tap in-process against one site in the dbt_recurly layout.
type tap struct{ dir, config, catalog string }

// newTap writes the config and a catalog selecting every table (the opt-in
// ones too) from the tap's own discovery.
func newTap(t *testing.T, srv *recurlytest.Server) *tap {
	tp := &tap{dir: t.TempDir()}
	tp.config = tp.write(t, "config.json", map[string]any{
		"api_key":    srv.Site.APIKey(),
		"subdomain":  strings.TrimPrefix(srv.Site.SiteID(), "subdomain-"),
		"start_date": "2019-01-01T00:00:00Z",
		"base_url":   srv.URL,
		"layout":     "dbt_recurly",
	})
	var out, errs bytes.Buffer
	if code := cli.Main([]string{"--config", tp.config, "--discover"}, &out, &errs); code != cli.ExitOK {
		t.Fatalf("--discover: exit %d: %s", code, errs.String())
	}
	var cat struct {
		Streams []map[string]any `json:"streams"`
	}
	if err := json.Unmarshal(out.Bytes(), &cat); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cat.Streams {
		names = append(names, fmt.Sprint(s["stream"]))
		for _, m := range s["metadata"].([]any) {
			m := m.(map[string]any)
			if len(m["breadcrumb"].([]any)) == 0 {
				m["metadata"].(map[string]any)["selected"] = true
			}
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, Tables) {
		t.Fatalf("discovery lists %v, want the package's 18 source tables %v", names, Tables)
	}
	tp.catalog = tp.write(t, "catalog.json", cat)
	return tp
}

func (tp *tap) sync(t *testing.T, l *pgtest.Loader, args ...string) {
	t.Helper()
	var out, errs bytes.Buffer
	began := time.Now()
	if code := cli.Main(append([]string{"--config", tp.config, "--catalog", tp.catalog}, args...), &out, &errs); code != cli.ExitOK {
		t.Fatalf("sync: exit %d: %s", code, errs.String())
	}
	l.Records = nil
	if err := l.Load(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("sync %v: records %v in %s", args, l.Records, time.Since(began).Round(time.Millisecond))
}

func (tp *tap) write(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tp.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// column is one column of the package's contract (testdata/columns.txt):
// its macro's datatype and the cast its staging model applies ("-": none).
type column struct{ name, kind, cast string }

func readContract(t *testing.T) map[string][]column {
	f, err := os.Open("testdata/columns.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]column{}
	var table string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch f := strings.Fields(line); {
		case len(f) == 0 || strings.HasPrefix(line, "#"):
		case !strings.HasPrefix(line, " "):
			table = line
		case len(f) == 3:
			out[table] = append(out[table], column{f[0], f[1], f[2]})
		default:
			t.Fatalf("testdata/columns.txt: bad line %q", line)
		}
	}
	return out
}

// loadedColumns is each table's columns and their types in schema.
func loadedColumns(t *testing.T, conn *pgx.Conn, schema string) map[string]map[string]string {
	rows, err := conn.Query(context.Background(), `select c.table_name, c.column_name, c.data_type
		from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
		where c.table_schema = $1 and t.table_type = 'BASE TABLE'`, schema)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for rows.Next() {
		var tbl, col, typ string
		if err := rows.Scan(&tbl, &col, &typ); err != nil {
			t.Fatal(err)
		}
		if out[tbl] == nil {
			out[tbl] = map[string]string{}
		}
		out[tbl][col] = typ
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// family is the macro datatype a PostgreSQL column type stands for.
var family = map[string]string{
	"text": "string", "character varying": "string", "boolean": "boolean",
	"timestamp with time zone": "timestamp", "timestamp without time zone": "timestamp",
	"bigint": "int", "integer": "int", "numeric": "float", "double precision": "float",
}

// checkColumns: the schema holds the 18 tables, each with every column of
// the package's macro. Every value of a column its staging model casts takes
// the cast; a boolean (staging's is_/has_ predicates) is boolean and an id
// (a join key) is text. Other differences from the macro's datatype, which
// staging passes through as loaded, are logged.
func checkColumns(t *testing.T, conn *pgx.Conn, schema string) {
	contract := readContract(t)
	if len(contract) != len(Tables) {
		t.Fatalf("testdata/columns.txt has %d tables, want %d", len(contract), len(Tables))
	}
	loaded := loadedColumns(t, conn, schema)
	total := 0
	for _, tbl := range Tables {
		cols, ok := loaded[tbl]
		if !ok {
			t.Errorf("%s: not loaded", tbl)
			continue
		}
		for _, c := range contract[tbl] {
			typ, ok := cols[c.name]
			id := c.name == "id" || strings.HasSuffix(c.name, "_id")
			switch {
			case !ok:
				t.Errorf("%s.%s: missing (the package lists it as %s)", tbl, c.name, c.kind)
				continue
			case c.kind == "boolean" && typ != "boolean", id && family[typ] != "string":
				t.Errorf("%s.%s: loaded as %s; the package reads a %s", tbl, c.name, typ, c.kind)
			case family[typ] != c.kind && !(family[typ] == "int" && c.kind == "float"):
				t.Logf("note: %s.%s: loaded as %s; the macro says %s (staging passes it through)", tbl, c.name, typ, c.kind)
			}
			total++
			if c.cast == "-" {
				continue
			}
			// count(expr) evaluates expr on every row: a value the cast refuses fails the query.
			q := fmt.Sprintf("select count(cast(%s as %s)) from %s.%s", pgtest.Ident(c.name), c.cast, pgtest.Ident(schema), pgtest.Ident(tbl))
			if _, err := conn.Exec(context.Background(), q); err != nil {
				t.Errorf("%s.%s: staging casts it to %s, which fails: %v", tbl, c.name, c.cast, err)
			}
		}
		for c := range cols {
			if !slices.ContainsFunc(contract[tbl], func(k column) bool { return k.name == c }) {
				t.Logf("note: %s.%s: loaded, not in the package's macro", tbl, c)
			}
		}
	}
	t.Logf("%d columns of %d tables checked", total, len(Tables))
}

// checkVersions: each record touched on the site between the runs has two
// rows in its history table, and the staging view's most recent one is the
// site's current version.
func checkVersions(t *testing.T, conn *pgx.Conn, schema string, site *recurlytest.Site, touched map[string][]string) {
	ctx := context.Background()
	for resource, ids := range touched {
		tbl := touchedTables[resource]
		if len(ids) == 0 {
			t.Errorf("%s: nothing touched", resource)
		}
		for _, id := range ids {
			var versions, distinct int
			var latest time.Time
			err := conn.QueryRow(ctx, "select count(*), count(distinct updated_at), max(updated_at) from "+
				pgtest.Ident(schema)+"."+pgtest.Ident(tbl)+" where id = $1", id).Scan(&versions, &distinct, &latest)
			if err != nil {
				t.Fatal(err)
			}
			rec, _ := site.Record(resource, id)
			var now struct {
				UpdatedAt time.Time `json:"updated_at"`
			}
			if err := json.Unmarshal(rec, &now); err != nil {
				t.Fatal(err)
			}
			if versions != 2 || distinct != 2 || !latest.Equal(now.UpdatedAt) {
				t.Errorf("%s %s: %d rows (%d updated_at), latest %s; want 2 versions, the latest the site's %s",
					tbl, id, versions, distinct, latest.UTC().Format(time.RFC3339), now.UpdatedAt.UTC().Format(time.RFC3339))
			}
		}
	}
	for resource, view := range map[string]string{"accounts": "account", "invoices": "invoice", "line_items": "line_item", "plans": "plan"} {
		for _, id := range touched[resource] {
			var latest time.Time
			q := fmt.Sprintf("select updated_at from stg_recurly__%s_history where %s_id = $1 and is_most_recent_record", view, view)
			if err := conn.QueryRow(ctx, q, id).Scan(&latest); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			rec, _ := site.Record(resource, id)
			var now struct {
				UpdatedAt time.Time `json:"updated_at"`
			}
			_ = json.Unmarshal(rec, &now)
			if !latest.Equal(now.UpdatedAt.UTC()) {
				t.Errorf("stg_recurly__%s_history %s: most recent record updated %s, the site's %s", view, id, latest, now.UpdatedAt)
			}
		}
	}
}

// checkMRR: MRR by month and currency from our SQL, written after the
// package's model, is not empty and is what the site's records give: each
// line item counted once, it equals the site's own totals (its model's
// MonthlyRecurringRevenue); as the package counts them (once per
// transaction of the invoice), it equals that model computed here in Go
// from the site's records.
func checkMRR(t *testing.T, conn *pgx.Conn, schema string, site *recurlytest.Site) {
	got, err := MRRByMonth(context.Background(), conn, schema)
	if err != nil {
		t.Fatal(err)
	}
	own, want := site.MonthlyRecurringRevenue(), siteMRR(t, site)
	if len(got) == 0 || len(own) == 0 {
		t.Fatalf("no MRR: %d month-currency rows from SQL, %d in the site's totals", len(got), len(own))
	}
	if len(got) != len(own) || len(got) != len(want) {
		t.Errorf("month-currency rows: %d from SQL, %d in the site's totals, %d from its records", len(got), len(own), len(want))
	}
	for i := range min(len(got), len(own), len(want)) {
		g, o, w := got[i], own[i], want[i]
		if g.Month != o.Month || g.Currency != o.Currency || !sameDecimal(g.Once, o.Amount) {
			t.Errorf("row %d: SQL %s %s %s, the site's own total %s %s %s", i, g.Month, g.Currency, g.Once, o.Month, o.Currency, o.Amount)
		}
		if !(g.Month == w.Month && g.Currency == w.Currency && g.Accounts == w.Accounts && sameDecimal(g.MRR, w.MRR) && sameDecimal(g.Once, w.Once)) {
			t.Errorf("row %d: SQL %+v, the package's model over the site's records %+v", i, g, w)
		}
	}
	for _, m := range got[max(0, len(got)-6):] {
		t.Logf("%s %s: %s over %d accounts (%s with each line item once)", m.Month, m.Currency, m.MRR, m.Accounts, m.Once)
	}
}

// chargeLine is a charge line item that covers a service period (start and
// end date both set): what the package's MRR model sums.
type chargeLine struct {
	account, invoice, month, currency string
	amount                            *big.Rat
}

// chargeLines reads the site's line items (their current JSON) for the
// ones MRR sums.
func chargeLines(t *testing.T, site *recurlytest.Site) []chargeLine {
	var out []chargeLine
	for _, k := range site.Keys(recurlytest.LineItems) {
		var li struct {
			Type, Currency string
			InvoiceID      string `json:"invoice_id"`
			Account        struct{ ID string }
			Amount         json.Number
			CreatedAt      time.Time  `json:"created_at"`
			StartDate      *time.Time `json:"start_date"`
			EndDate        *time.Time `json:"end_date"`
		}
		rec, _ := site.Record(recurlytest.LineItems, k.ID)
		if err := json.Unmarshal(rec, &li); err != nil {
			t.Fatal(err)
		}
		if strings.ToLower(li.Type) != "charge" || li.StartDate == nil || li.EndDate == nil {
			continue
		}
		amount, ok := new(big.Rat).SetString(li.Amount.String())
		if !ok {
			t.Fatalf("line item %s: amount %q", k.ID, li.Amount)
		}
		out = append(out, chargeLine{li.Account.ID, li.InvoiceID, li.CreatedAt.UTC().Format("2006-01"), li.Currency, amount})
	}
	return out
}

// siteMRR is the package's MRR model over the site's current records, in
// Go: per account and month (UTC) of its charge lines, the sum of their
// amounts, each counted once per transaction of its invoice (the package
// joins line items to transactions through the invoice; once when there
// is none), in the account-month's least currency; then summed by month
// and currency. Once sums the same lines each counted once.
func siteMRR(t *testing.T, site *recurlytest.Site) []Month {
	attempts := invoiceAttempts(t, site)
	type accountMonth struct{ account, month string }
	type monthCurrency struct{ month, currency string }
	perAccount, currency := map[accountMonth]*big.Rat{}, map[accountMonth]string{}
	mrr, once := map[monthCurrency]*big.Rat{}, map[monthCurrency]*big.Rat{}
	add := func(m map[monthCurrency]*big.Rat, k monthCurrency, v *big.Rat) {
		if m[k] == nil {
			m[k] = new(big.Rat)
		}
		m[k].Add(m[k], v)
	}
	for _, li := range chargeLines(t, site) {
		am := accountMonth{li.account, li.month}
		if perAccount[am] == nil {
			perAccount[am], currency[am] = new(big.Rat), li.currency
		}
		currency[am] = min(currency[am], li.currency)
		perAccount[am].Add(perAccount[am], new(big.Rat).Mul(li.amount, big.NewRat(max(1, attempts[li.invoice]), 1)))
		add(once, monthCurrency{li.month, li.currency}, li.amount)
	}
	accounts := map[monthCurrency]int{}
	for am, sum := range perAccount {
		mc := monthCurrency{am.month, currency[am]}
		add(mrr, mc, sum)
		accounts[mc]++
	}
	var out []Month
	for mc := range merged(mrr, once) {
		m := Month{Month: mc.month, Currency: mc.currency, Accounts: accounts[mc], MRR: "0.00", Once: "0.00"}
		if v := mrr[mc]; v != nil {
			m.MRR = v.FloatString(2)
		}
		if v := once[mc]; v != nil {
			m.Once = v.FloatString(2)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Month) int { return strings.Compare(a.Month+a.Currency, b.Month+b.Currency) })
	return out
}

// merged is the set of keys of both maps.
func merged[K comparable, V any](a, b map[K]V) map[K]bool {
	out := map[K]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// invoiceAttempts is the number of transactions of each invoice on the
// site, for the invoices that exist.
func invoiceAttempts(t *testing.T, site *recurlytest.Site) map[string]int64 {
	out := map[string]int64{}
	for _, k := range site.Keys(recurlytest.Invoices) {
		out[k.ID] = 0
	}
	for _, k := range site.Keys(recurlytest.Transactions) {
		var tr struct {
			Invoice *struct{ ID string } `json:"invoice"`
		}
		rec, _ := site.Record(recurlytest.Transactions, k.ID)
		if err := json.Unmarshal(rec, &tr); err != nil {
			t.Fatal(err)
		}
		if tr.Invoice == nil {
			continue
		}
		if _, ok := out[tr.Invoice.ID]; ok {
			out[tr.Invoice.ID]++
		}
	}
	return out
}

func sameDecimal(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}
