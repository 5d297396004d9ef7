package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/duban/duban/config"
)

// Exit codes, documented in the README: scripts and service managers act on them.
const (
	exitOK      = 0
	exitFailure = 1 // something went wrong while running
	exitUsage   = 2 // bad arguments or a bad config or tasks file
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise the module's.
var version = ""

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what a command may touch, so tests can run commands in-process.
type cliEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError is a mistake in how the command was called; it exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func commands() []command {
	return []command{
		{"run", "run the daemon: nudges, replies, digests", cmdRun},
		{"check", "validate config.yaml and tasks.yaml and print a summary", cmdCheck},
		{"export", "print the plan with every department's latest status (json or csv), write the xlsx workbook (-o FILE), or fetch its files", cmdExport},
		{"verify", "check the record's hash chains: report anything altered or removed", cmdVerify},
		{"plan", "print what the scheduler would send over a window, without Telegram", cmdPlan},
		{"import", "read a plan's table (xlsx, docx, csv, text) into tasks.yaml, or its next revision keeping every task's id", cmdImport},
		{"version", "print the version", cmdVersion},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &cliEnv{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		return exitCode(stderr, err)
	}
	fmt.Fprintf(stderr, "duban: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func exitCode(stderr io.Writer, err error) int {
	var cfgErr config.Errors
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &cfgErr):
		fmt.Fprintln(stderr, err)
		fmt.Fprintf(stderr, "duban: %d problem(s) found; nothing was started\n", len(cfgErr))
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "duban: %v\n", err)
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitOK
	default:
		fmt.Fprintf(stderr, "duban: %v\n", err)
		return exitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: duban <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'duban <command> -h' for a command's flags. Exit codes: 0 ok, 1 failure, 2 bad usage or config.")
}

// newFlags makes a command's flag set with the -config flag every command shares.
func newFlags(env *cliEnv, name, args string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("duban "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	def := env.getenv("DUBAN_CONFIG")
	if def == "" {
		def = "config.yaml"
	}
	path := fs.String("config", def, "the config file (default from $DUBAN_CONFIG, else config.yaml)")
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: duban %s [flags]%s\n\nflags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs, path
}

// parseFlags parses and rejects stray arguments, so a typo is not silently ignored.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func cmdVersion(_ context.Context, env *cliEnv, args []string) error {
	fs, _ := newFlags(env, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "duban %s\n", currentVersion())
	return nil
}

func currentVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
