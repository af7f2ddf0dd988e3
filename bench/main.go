// Command bench measures tap-recurly against the simulated Recurly site and
// writes the figures, next to the targets of issue 6, into BENCHMARKS.md.
//
// The site (package recurlytest) is served over loopback from this process;
// the tap is the built binary (bin/tap-recurly), run as a separate process
// so that its CPU time (user+sys) and peak RSS (ru_maxrss) are its own. Taps
// are started through a small spawner process (see spawn.go) so that the
// site's memory does not leak into the tap's ru_maxrss.
//
// Run it with `make bench`, which builds the tap, runs the Go benchmarks of
// this directory and then this program:
//
//	go run ./bench -tap bin/tap-recurly -gobench /tmp/gobench.txt -out BENCHMARKS.md
//
// Only the part of BENCHMARKS.md between the generated-section markers is
// rewritten; the hand-written profiling notes around it are kept.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	spawnerMode := flag.Bool("spawner", false, "internal: run as the tap spawner (see spawn.go)")
	tap := flag.String("tap", "bin/tap-recurly", "path of the tap binary to measure")
	out := flag.String("out", "BENCHMARKS.md", "report to write (only its generated section is replaced)")
	gobench := flag.String("gobench", "", "file holding `go test -bench` output to include in the report")
	quick := flag.Bool("quick", false, "small sites only (a smoke run; the figures do not meet the size conditions of the targets)")
	work := flag.String("work", "", "folder for configs and tap logs (default: a new temporary folder)")
	profile := flag.String("profile", "", "instead of benchmarking, profile one sync (cli.Main in this process, the site in a child) into this CPU profile")
	records := flag.Int("records", 200_000, "site size for -profile")
	workers := flag.Int("max-workers", 4, "the tap's max_workers for -profile")
	serve := flag.Int("serve", 0, "internal: serve a site of this many records for -profile")
	only := flag.String("only", "", "comma-separated run names to run (default: all of the plan)")
	noGzip := flag.Bool("no-gzip", false, "for -profile: the site answers plain JSON instead of gzip")
	allStreams := flag.Bool("all-streams", false, "for -profile: sync every stream, the opt-in per-account ones included (a catalog selecting all)")
	floor := flag.String("floor", "", "internal: run as the floor reader on the site of this tap config (see floor.go)")
	flag.Parse()

	if *floor != "" {
		if err := runFloor(*floor, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench floor:", err)
			os.Exit(1)
		}
		return
	}

	if *spawnerMode {
		if err := serveSpawner(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench spawner:", err)
			os.Exit(1)
		}
		return
	}
	if *serve > 0 {
		if err := serveSite(*serve, *noGzip); err != nil {
			fmt.Fprintln(os.Stderr, "bench site:", err)
			os.Exit(1)
		}
		return
	}
	if *profile != "" {
		if err := profileTap(*profile, *records, *workers, *noGzip, *allStreams); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*tap, *out, *gobench, *work, *only, *quick); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(tap, out, gobench, work, only string, quick bool) error {
	// The spawner must start before any site exists (see spawn.go).
	sp, err := startSpawner()
	if err != nil {
		return err
	}
	defer sp.close()

	tapPath, err := filepath.Abs(tap)
	if err != nil {
		return err
	}
	if _, err := os.Stat(tapPath); err != nil {
		return fmt.Errorf("tap binary: %w (run make build)", err)
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "tap-recurly-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	fmt.Printf("tap %s; configs and tap logs in %s\n", tapPath, work)

	m := describeMachine()
	fmt.Printf("machine: %d CPUs, %s, %s, load average %s\n\n", m.CPUs, m.CPUModel, m.GoVersion, m.LoadAvg)

	plan := fullPlan()
	if quick {
		plan = quickPlan()
	}
	if only != "" {
		if plan = selectRuns(plan, only); len(plan) == 0 {
			return fmt.Errorf("-only %q names no run of the plan", only)
		}
	}
	began := time.Now()
	var outcomes []*outcome
	for _, sc := range plan {
		o, err := measure(sp, tapPath, work, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		printOutcome(os.Stdout, o)
		outcomes = append(outcomes, o)
	}
	r := &report{Machine: m, Outcomes: outcomes, Quick: quick, Took: time.Since(began), Tap: tap}
	if gobench != "" {
		b, err := os.ReadFile(gobench)
		if err != nil {
			return err
		}
		r.GoBench = string(b)
	}
	fmt.Println()
	printTargets(os.Stdout, r.targets())
	if err := writeReport(out, r); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s (all runs took %s)\n", out, r.Took.Round(time.Second))
	return nil
}
