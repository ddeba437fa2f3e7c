package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/sip/webhook"
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
	if err := errors.Join(migrateComponents(ctx, cfg.DataDir), closeStore()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(std.out, "database %s is up to date\n",
		filepath.Join(cfg.DataDir, dbFileName))

	return err
}

// migrateComponents applies the schemas of the components that share the
// database with the tenancy store: accounting and the webhook outbox.
func migrateComponents(ctx context.Context, dataDir string) error {
	db, err := openDB(ctx, dataDir)
	if err != nil {
		return err
	}

	return errors.Join(accounting.Migrate(ctx, db), webhook.Migrate(ctx, db), db.Close())
}
