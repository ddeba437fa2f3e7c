package accounting

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/patchbay/patchbay/tenancy"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate brings the accounting tables in db up to date. Open calls it; it
// is exported for the "patchbay migrate" command.
func Migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("accounting: migrations: %w", err)
	}
	if err := tenancy.ApplyMigrations(ctx, db, "accounting", sub); err != nil {
		return fmt.Errorf("accounting: %w", err)
	}

	return nil
}
