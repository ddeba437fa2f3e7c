package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"

	"github.com/patchbay/patchbay/accounting"
)

// runCDRs is the cdrs command: `cdrs export` writes CDRs as CSV or JSON
// lines to standard output, for an operator at the console. It reads the
// database serve uses (SQLite lets it while the server runs) and opens no
// ledger, so it never runs crash recovery.
func runCDRs(ctx context.Context, std stdio, environ []string, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("%w: cdrs needs a subcommand: export", errUsage)
	}
	fs := flag.NewFlagSet("cdrs export", flag.ContinueOnError)
	file := fs.String("config", "", "YAML settings `file`")
	account := fs.String("account", "", "only this account's CDRs (`SID`; default: every account)")
	format := fs.String("format", "csv", "`csv` or json")
	since := fs.String("since", "", "calls created at or after (`YYYY-MM-DD` or RFC 3339)")
	until := fs.String("until", "", "calls created before (`YYYY-MM-DD` or RFC 3339)")
	status := fs.String("status", "", "only calls with this `status` (completed, busy, ...)")
	direction := fs.String("direction", "", "only calls of this `direction` (inbound, ...)")
	if err := parseFlags(fs, args[1:], std); err != nil {
		return err
	}
	f, err := cdrFilter(*account, *since, *until, *status, *direction)
	if err != nil {
		return err
	}
	ef := accounting.ExportFormat(*format)
	if ef != accounting.FormatCSV && ef != accounting.FormatJSON {
		return fmt.Errorf("%w: cdrs export: --format must be csv or json, not %q", errUsage, *format)
	}

	cfg, err := loadConfig(*file, environ)
	if err != nil {
		return err
	}
	if err := prepareDataDir(cfg.DataDir); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	err = accounting.Migrate(ctx, db)
	if err == nil {
		err = accounting.ExportCDRs(ctx, db, std.out, f, ef)
	}

	return errors.Join(err, db.Close())
}

// cdrFilter builds the export filter with the Calls API's own parser, so
// that the command and the API read times and values alike.
func cdrFilter(account, since, until, status, direction string) (accounting.CDRFilter, error) {
	q := url.Values{}
	for name, v := range map[string]string{"StartTime>": since, "StartTime<": until,
		"Status": status, "Direction": direction} {
		if v != "" {
			q.Set(name, v)
		}
	}
	f, param, err := accounting.ParseCallFilter(q)
	if err != nil {
		flagName := map[string]string{"StartTime>": "since", "StartTime<": "until",
			"Status": "status", "Direction": "direction"}[param]

		return f, fmt.Errorf("%w: cdrs export: --%s: %w", errUsage, flagName, err)
	}
	f.AccountSID = account

	return f, nil
}
