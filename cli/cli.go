// Package cli is the tap-recurly command line: it parses flags the Singer
// way, reads the user's files and wires config, catalog, state, client and
// the sync loop together. It is the only place that writes to stdout.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/config"
	"github.com/tap-recurly/tap-recurly/internal/logging"
	"github.com/tap-recurly/tap-recurly/layouts"
)

// Version is the tap's version, set at build time with
// -ldflags "-X github.com/tap-recurly/tap-recurly/cli.Version=v1.2.3".
var Version = "dev"

// Exit codes.
const (
	ExitOK       = 0
	ExitFailure  = 1   // the sync or connection test failed
	ExitBadInput = 2   // bad flags, config, state or catalog
	ExitSIGINT   = 130 // stopped by SIGINT, after a final STATE
	ExitSIGTERM  = 143 // stopped by SIGTERM, after a final STATE
)

// inputError marks problems with what the user gave us (exit 2).
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// signalError is a run stopped by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string {
	switch e.sig {
	case syscall.SIGTERM:
		return "stopped by SIGTERM"
	case syscall.SIGINT:
		return "stopped by SIGINT"
	}
	return fmt.Sprintf("stopped by signal %s", e.sig)
}

type options struct {
	configPath, statePath, catalogPath, propertiesPath string
	discover, about, test, version                     bool
	format, logLevel, logFormat                        string
	logLevelSource                                     string // "--log-level" or "LOG_LEVEL", for errors
}

// env is what a run needs from its process: streams and the clock.
type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
	signals        <-chan os.Signal // nil: none
	// clientOptions are applied after the config's, for tests only (for
	// example shorter retry waits); Main leaves it empty.
	clientOptions []client.Option
	// progressEvery is how often progress lines are logged when stderr is
	// not a terminal; 0 means progress.DefaultInterval (tests shorten it).
	progressEvery time.Duration
}

// Main runs the command with args and returns the process exit code. It
// never panics on bad input and prints errors as one line each on stderr.
func Main(args []string, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	return run(args, env{stdout: stdout, stderr: stderr, now: time.Now, signals: sigs})
}

// run runs the command with args in e and returns the process exit code.
func run(args []string, e env) int {
	var o options
	cmd := newCommand(&o, e)
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	watchSignals(ctx, cancel, e.signals)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var sigErr signalError
	if errors.As(context.Cause(ctx), &sigErr) {
		fmt.Fprintf(e.stderr, "tap-recurly: %s; the last STATE written is safe to resume from\n", sigErr)
		if sigErr.sig == syscall.SIGTERM {
			return ExitSIGTERM
		}
		return ExitSIGINT
	}
	reportError(err, o.logFormat, e.stderr)
	var in inputError
	var probs *config.Problems
	if errors.As(err, &in) || errors.As(err, &probs) {
		return ExitBadInput
	}
	return ExitFailure
}

// newCommand is the tap's command, parsing its flags into o.
func newCommand(o *options, e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tap-recurly",
		Short: "Singer tap for the Recurly API v2018-08-09",
		Long: "tap-recurly extracts " + strings.Join(layouts.Default().Names(), ", ") + "\nfrom Recurly and writes Singer messages to stdout." +
			"\nWith the config setting layout dbt_recurly, it writes the 18 source tables of the dbt_recurly package instead.",
		Example: "  tap-recurly --config config.json --discover > catalog.json\n" +
			"  tap-recurly --config config.json --catalog catalog.json --state state.json > out.jsonl",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.logLevelSource = "--log-level"
			if !cmd.Flags().Changed("log-level") {
				o.logLevelSource = "LOG_LEVEL"
			}
			return execute(cmd.Context(), *o, e)
		},
	}
	cmd.SetOut(e.stderr) // help and usage go to stderr: stdout is for Singer only
	cmd.SetErr(e.stderr)
	f := cmd.Flags()
	f.StringVarP(&o.configPath, "config", "c", "", "config file (JSON)")
	f.StringVarP(&o.statePath, "state", "s", "", "state file from a previous run (JSON)")
	f.StringVar(&o.catalogPath, "catalog", "", "catalog file selecting streams and fields (JSON)")
	f.StringVarP(&o.propertiesPath, "properties", "p", "", "catalog file, legacy name for --catalog")
	f.BoolVarP(&o.discover, "discover", "d", false, "print the catalog of streams and exit (no network)")
	f.BoolVar(&o.about, "about", false, "print what the tap is and its settings, and exit")
	f.StringVar(&o.format, "format", "json", "format for --about: json or markdown")
	f.BoolVar(&o.test, "test", false, "check credentials and reachability: fetch one record of each selected stream")
	f.BoolVar(&o.version, "version", false, "print the version and exit")
	f.StringVar(&o.logLevel, "log-level", os.Getenv("LOG_LEVEL"), "log level: debug, info, warn or error (env LOG_LEVEL)")
	f.StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return inputError{err} })
	return cmd
}

// watchSignals cancels ctx with a signalError when a signal arrives on
// signals (nil: none), until ctx is done.
func watchSignals(ctx context.Context, cancel context.CancelCauseFunc, signals <-chan os.Signal) {
	if signals == nil {
		return
	}
	go func() {
		select {
		case sig := <-signals:
			cancel(signalError{sig})
		case <-ctx.Done():
		}
	}()
}

// reportError prints err on stderr, one "tap-recurly: " line per line of
// it; with --log-format json, as JSON log records, so that every stderr
// line is JSON, the last one included.
func reportError(err error, logFormat string, stderr io.Writer) {
	report := func(line string) { fmt.Fprintf(stderr, "tap-recurly: %s\n", line) }
	if logFormat == logging.FormatJSON {
		jl := slog.New(slog.NewJSONHandler(stderr, nil))
		report = func(line string) { jl.Error("tap-recurly: " + line) }
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		report(line)
	}
}

func execute(ctx context.Context, o options, e env) error {
	level, err := logging.ParseLevel(o.logLevel)
	if err != nil {
		return inputError{fmt.Errorf("%s: %w", o.logLevelSource, err)}
	}
	log, err := logging.New(e.stderr, level, o.logFormat)
	if err != nil {
		return inputError{fmt.Errorf("--log-format: %w", err)}
	}
	switch {
	case o.version:
		_, err := fmt.Fprintln(e.stdout, versionString())
		return err
	case o.about:
		return writeAbout(e.stdout, o.format)
	}
	if o.catalogPath != "" && o.propertiesPath != "" {
		return inputError{errors.New("--catalog and --properties name the same thing: give one")}
	}
	if o.discover {
		lay := layouts.Default()
		if o.configPath != "" {
			cfg, err := loadConfig(o.configPath, e.now(), log)
			if err != nil {
				return err
			}
			if lay, err = layouts.Get(cfg.Layout); err != nil {
				return err
			}
		}
		return writeDiscovery(e.stdout, lay)
	}
	if o.configPath == "" {
		return inputError{errors.New("--config is required (see --help)")}
	}
	cfg, err := loadConfig(o.configPath, e.now(), log)
	if err != nil {
		return err
	}
	if o.test {
		return runConnectionTest(ctx, o, cfg, e, log)
	}
	return runSync(ctx, o, cfg, e, log)
}

func loadConfig(path string, now time.Time, log *slog.Logger) (*config.Config, error) {
	cfg, warnings, err := config.Load(path, now)
	for _, w := range warnings {
		log.Warn(w)
	}
	return cfg, err
}

// versionString reports the version with the build's VCS and Go details.
func versionString() string {
	v := Version
	var extra []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				extra = append(extra, "commit "+s.Value[:min(12, len(s.Value))])
			case "vcs.time":
				extra = append(extra, "built "+s.Value)
			}
		}
		extra = append(extra, bi.GoVersion)
	}
	return "tap-recurly " + v + " (" + strings.Join(append(extra, "Recurly API v2018-08-09"), ", ") + ")"
}
