package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/tap-recurly/tap-recurly/internal/pgtest"
	"github.com/tap-recurly/tap-recurly/internal/warehouse"
)

// demoDSN names a PostgreSQL the demo may load into (schema demoSchema is
// dropped and made anew); without it the demo starts a throwaway server
// when the machine has PostgreSQL's binaries.
const (
	demoDSN    = "TAP_RECURLY_DEMO_PG"
	demoSchema = "tap_recurly_demo"
)

// dbtRecurly syncs the site once more in the dbt_recurly layout (its default
// selection) and prints the 18 tables with their records; with a PostgreSQL
// at hand it loads them and prints the rows kept and the monthly recurring
// revenue of the last three months, by the proof test's query.
func dbtRecurly(tap, out string, cfg map[string]any) error {
	cfg["layout"] = "dbt_recurly"
	cfgPath := filepath.Join(out, "dbt_recurly.config.json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return err
	}
	fmt.Print("\nWhat the dbt_recurly layout adds: fivetran dbt_recurly's 18 source tables, flat and versioned,\n" +
		"from the same listings (\"layout\": \"dbt_recurly\" in the config).\n\n")
	res, err := sync(tap, out, "dbt_recurly", cfgPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	conn, where, stop, err := openWarehouse(ctx)
	if err != nil {
		printTables(res, nil)
		fmt.Printf("\nNo PostgreSQL to compute MRR in (%s).\nSet %s to a connection string, or install PostgreSQL\n"+
			"(apt-get install postgresql) and the demo starts one.\n", strings.Join(strings.Fields(err.Error()), " "), demoDSN)
		return nil
	}
	defer stop()
	rows, months, err := loadAndQuery(ctx, conn, res.output)
	if err != nil {
		return fmt.Errorf("loading %s into PostgreSQL: %w", res.output, err)
	}
	printTables(res, rows)
	fmt.Printf("\nLoaded into schema %s of %s.\n"+
		"Monthly recurring revenue of the last three months, by recurly__monthly_recurring_revenue\n"+
		"as internal/warehouse/staging.sql writes it after the package:\n", demoSchema, where)
	printMRR(months)
	return nil
}

// openWarehouse connects to $TAP_RECURLY_DEMO_PG, or starts a server; close
// disconnects (and stops the server).
func openWarehouse(ctx context.Context) (*pgx.Conn, string, func(), error) {
	dsn, where, stopServer := os.Getenv(demoDSN), "$"+demoDSN, func() {}
	if dsn == "" {
		srv, err := pgtest.Start()
		if err != nil {
			return nil, "", nil, err
		}
		dsn, where, stopServer = srv.DSN, "a throwaway PostgreSQL (stopped when the demo ends)", func() { _ = srv.Stop() }
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		stopServer()
		return nil, "", nil, err
	}
	return conn, where, func() { conn.Close(ctx); stopServer() }, nil
}

// loadAndQuery loads a run's output into demoSchema (made anew) and returns
// each table's rows and the MRR by month.
func loadAndQuery(ctx context.Context, conn *pgx.Conn, output string) (map[string]int, []warehouse.Month, error) {
	s := pgtest.Ident(demoSchema)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+s+" CASCADE; CREATE SCHEMA "+s); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(output)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	l := &pgtest.Loader{Conn: conn, Schema: demoSchema}
	if err := l.Load(ctx, f); err != nil {
		return nil, nil, err
	}
	rows, err := warehouse.RowCounts(ctx, conn, demoSchema, loadedTables(l.Records))
	if err != nil {
		return nil, nil, err
	}
	if err := warehouse.Stage(ctx, conn, demoSchema); err != nil {
		return nil, nil, err
	}
	months, err := warehouse.MRRByMonth(ctx, conn, demoSchema)
	return rows, months, err
}

// loadedTables are the package's tables that a run wrote records to.
func loadedTables(records map[string]int) []string {
	var out []string
	for _, t := range warehouse.Tables {
		if records[t] > 0 {
			out = append(out, t)
		}
	}
	return out
}

func printTables(res *result, rows map[string]int) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\trecords\trows in PostgreSQL\t")
	for _, t := range warehouse.Tables {
		n, ran := res.counts[t]
		switch {
		case !ran:
			fmt.Fprintf(tw, "%s\t-\topt-in: one request per parent\t\n", t)
		case rows == nil:
			fmt.Fprintf(tw, "%s\t%d\t-\t\n", t, n)
		default:
			fmt.Fprintf(tw, "%s\t%d\t%d\t\n", t, n, rows[t])
		}
	}
	tw.Flush()
}

// printMRR prints the last three months, a row per currency.
func printMRR(months []warehouse.Month) {
	var order []string
	for _, m := range months {
		if !slices.Contains(order, m.Month) {
			order = append(order, m.Month)
		}
	}
	if len(order) == 0 {
		fmt.Println("  no MRR: no charge line item with a service period was loaded")
		return
	}
	last := order[max(0, len(order)-3):]
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "month\tcurrency\taccounts\tMRR (the package's model)\teach line item once\t")
	for _, m := range months {
		if slices.Contains(last, m.Month) {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t\n", m.Month, m.Currency, m.Accounts, m.MRR, m.Once)
		}
	}
	tw.Flush()
	fmt.Println("The package joins line items to their invoice's transactions, so its MRR counts a line item once per\n" +
		"transaction of its invoice (failed payment attempts too); the last column counts each once.")
}
