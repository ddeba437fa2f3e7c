package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/patchbay/patchbay/conf"
)

// stdio is where a command writes: out for results, err for diagnostics.
type stdio struct {
	out io.Writer
	err io.Writer
}

func newStdio() stdio { return stdio{out: os.Stdout, err: os.Stderr} }

const usageText = `usage: patchbay <command> [flags]

commands:
  serve      run the server (the default command)
  version    print the version
  accounts   create or list accounts: accounts create --name N [--parent SID]
             accounts list [--parent SID]
  config     print the effective settings, secrets hidden
  cdrs       export CDRs: cdrs export [--account SID] [--format csv|json]
             [--since T] [--until T] [--status S] [--direction D]
  migrate    bring the database schema up to date and exit
  help       print this text

Every command that reads settings takes --config FILE (YAML). PATCHBAY_*
environment variables override the file; see docs/configuration.md.
`

// run executes the command line args and returns the exit status. Results
// go to std.out; errors go to std.err, one line per problem.
func run(ctx context.Context, args []string, std stdio, environ []string) int {
	cmd, rest := "serve", args
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			cmd, rest = "help", args[1:]
		case a == "-version" || a == "--version":
			cmd, rest = "version", args[1:]
		case !strings.HasPrefix(a, "-"):
			cmd, rest = a, args[1:]
		}
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, std, environ, rest)
	case "version":
		err = runVersion(std.out, rest)
	case "accounts":
		err = runAccounts(ctx, std, environ, rest)
	case "config":
		err = runConfig(std, environ, rest)
	case "cdrs":
		err = runCDRs(ctx, std, environ, rest)
	case "migrate":
		err = runMigrate(ctx, std, environ, rest)
	case "help":
		fmt.Fprint(std.out, usageText)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}

	return report(std.err, err)
}

// report prints err, one "patchbay: " line per joined problem, and
// returns the exit status it calls for.
func report(w io.Writer, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		fmt.Fprintf(w, "patchbay: %s\nrun 'patchbay help' for usage\n", msg)

		return exitUsage
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		if line != "" {
			fmt.Fprintln(w, "patchbay: "+line)
		}
	}

	return exitError
}

// parseFlags parses args into fs. -h prints the flags to std.out and
// returns flag.ErrHelp; any other problem, or a stray argument, is a usage
// error naming the command.
func parseFlags(fs *flag.FlagSet, args []string, std stdio) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(std.out, "usage of patchbay %s:\n", fs.Name())
		fs.SetOutput(std.out)
		fs.PrintDefaults()

		return err
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %s", errUsage, fs.Name(), err.Error())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), fs.Arg(0))
	}

	return nil
}

// loadConfig loads the settings from file (none when empty) and environ.
func loadConfig(file string, environ []string) (*conf.Config, error) {
	return conf.Load(file, lookupIn(environ))
}

// lookupIn is a conf.Env over environ ("NAME=value" entries); the last
// entry of a name wins, as in the process environment.
func lookupIn(environ []string) conf.Env {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if name, value, ok := strings.Cut(kv, "="); ok {
			vars[name] = value
		}
	}

	return func(key string) (string, bool) {
		v, ok := vars[key]

		return v, ok
	}
}
