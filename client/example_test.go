package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// Page a whole list, one page of raw records at a time, from a simulated site.
func ExampleClient_List() {
	srv, err := recurlytest.NewServer(recurlytest.Config{Seed: 1, Counts: recurlytest.Counts{Accounts: 450, Plans: 3}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(),
		client.WithBaseURL(srv.URL), client.WithQuotaLimit(50), client.WithTimeout(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	pages, records := 0, 0
	for page, err := range c.List(context.Background(), "accounts", client.ListParams{}) {
		if err != nil {
			log.Fatal(err)
		}
		pages++
		records += len(page.Records) // each a json.RawMessage, exactly as the site sent it
	}
	fmt.Println(pages, "pages,", records, "accounts,", c.Stats().Requests, "requests")
	// Output: 3 pages, 450 accounts, 3 requests
}
