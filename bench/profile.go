package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tap-recurly/tap-recurly/cli"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// Profiling the tap as it really runs: `go run ./bench -profile cpu.out`
// serves a simulated site from a child process (so the site's work stays
// out of the profile) and runs the tap's own entry point, cli.Main, in this
// process under the CPU profiler, writing its Singer output to /dev/null.
//
//	go run ./bench -profile /tmp/cpu.out -records 200000
//	go tool pprof -top /tmp/cpu.out

// serveSite is the child process of a profile run: it serves a site of
// about records records on loopback, prints its URL, site id and API key as
// one JSON line on stdout and serves until stdin closes.
func serveSite(records int, noGzip bool) error {
	srv, err := recurlytest.NewServer(recurlytest.Config{Seed: 6, Counts: recurlytest.ScaledCounts(records), RateLimit: unlimited, NoGzip: noGzip, APIKey: benchAPIKey})
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := json.NewEncoder(os.Stdout).Encode(servedSite{URL: srv.URL, SiteID: srv.Site.SiteID(), APIKey: srv.Site.APIKey()}); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// servedSite is what the serving child reports.
type servedSite struct{ URL, SiteID, APIKey string }

// profileTap runs one full sync of the default streams (allStreams: of every stream, the per-parent
// ones included) with cli.Main under the CPU
// profiler, against a site of about records records served by a child.
func profileTap(profilePath string, records, maxWorkers int, noGzip, allStreams bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve", strconv.Itoa(records), "-no-gzip="+strconv.FormatBool(noGzip))
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		child.Wait()
	}()
	var site servedSite
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("site process: %w", err)
	}
	if err := json.Unmarshal(line, &site); err != nil {
		return fmt.Errorf("site process: %w", err)
	}

	dir, err := os.MkdirTemp("", "tap-recurly-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := json.Marshal(map[string]any{
		"api_key": site.APIKey, "subdomain": strings.TrimPrefix(site.SiteID, "subdomain-"),
		"start_date": "2019-01-01T00:00:00Z", "base_url": site.URL, "max_workers": maxWorkers,
	})
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	logf, err := os.Create(filepath.Join(dir, "tap.log"))
	if err != nil {
		return err
	}
	defer logf.Close()

	pf, err := os.Create(profilePath)
	if err != nil {
		return err
	}
	defer pf.Close()
	if err := pprof.StartCPUProfile(pf); err != nil {
		return err
	}
	began := time.Now()
	cpu0 := processCPU()
	args := []string{"--config", cfgPath}
	if allStreams {
		catPath := filepath.Join(dir, "catalog.json")
		if err := writeCatalogSelectingAll(catPath); err != nil {
			return err
		}
		args = append(args, "--catalog", catPath)
	}
	code := cli.Main(args, devnull, logf)
	cpu := processCPU() - cpu0
	pprof.StopCPUProfile()
	if code != 0 {
		return fmt.Errorf("the tap exited with status %d", code)
	}
	fmt.Printf("profiled one sync of a site of about %d records in %s (%s CPU); profile in %s\n",
		records, time.Since(began).Round(time.Millisecond), cpu.Round(time.Millisecond), profilePath)
	return nil
}

// processCPU is the CPU time (user+sys) this process has used so far, all
// goroutines and the garbage collector included; 0 if unavailable.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
