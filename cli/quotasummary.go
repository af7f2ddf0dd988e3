package cli

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
)

// logClientStats writes the run's client-level summary: what the requests met on the way (retries, failed
// attempts, 429s) and how long they waited for quota. It is written whether the run succeeded or not.
func logClientStats(log *slog.Logger, s client.Stats) {
	log.Info(fmt.Sprintf("quota: %d requests (%d retries, %d failed attempts), %d throttled (429), %d waits totalling %s",
		s.Requests, s.Retries, s.Failures, s.Throttled, s.QuotaWaits, s.QuotaWaited.Round(time.Millisecond)))
}
