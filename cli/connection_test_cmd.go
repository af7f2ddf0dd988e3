package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/config"
)

// runConnectionTest fetches one record of each selected stream's listing
// and prints an OK / FAILED table on stderr. It fails unless all pass.
func runConnectionTest(ctx context.Context, o options, cfg *config.Config, e env, log *slog.Logger) error {
	selected, err := selectStreams(o, log)
	if err != nil {
		return err
	}
	api, err := newClient(cfg, log)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stderr, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "STREAM\tRESULT\tDETAIL\n")
	failed := 0
	bySource := map[string]string{}
	for _, s := range selected {
		st := s.Stream
		detail, ok := bySource[st.Source]
		if !ok {
			page, _, err := api.ListPage(ctx, st.Source, client.ListParams{Limit: 1, Sort: "updated_at", Order: "asc"})
			switch {
			case err != nil:
				detail = "FAILED\t" + strings.ReplaceAll(err.Error(), "\n", " ")
			default:
				detail = fmt.Sprintf("OK\tGET /sites/%s/%s answered (%d record(s) on the first page)", cfg.SiteID(), st.Source, len(page.Records))
			}
			bySource[st.Source] = detail
		}
		if strings.HasPrefix(detail, "FAILED") {
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\n", st.Name, detail)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("connection test: %d of %d streams failed", failed, len(selected))
	}
	log.Info(fmt.Sprintf("connection test: all %d selected streams OK", len(selected)))
	return nil
}
