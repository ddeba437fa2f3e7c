package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
)

// runMigrate is the migrate command: it brings the database schema up to
// date and exits, so that a deployment can migrate before it starts the
// new server. serve migrates on start as well.
func runMigrate(ctx context.Context, std stdio, environ []string, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	file := fs.String("config", "", "YAML settings `file`")
	if err := parseFlags(fs, args, std); err != nil {
		return err
	}
	cfg, err := loadConfig(*file, environ)
	if err != nil {
		return err
	}
	_, closeStore, err := openStoreFor(ctx, cfg)
	if err != nil {
		return err
	}
	if err := closeStore(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(std.out, "database %s is up to date\n",
		filepath.Join(cfg.DataDir, dbFileName))

	return err
}
