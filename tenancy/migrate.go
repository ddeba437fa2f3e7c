package tenancy

import (
	"fmt"
	"io/fs"
)

// subFS returns the directory dir of fsys, for ApplyMigrations.
func subFS(fsys fs.FS, dir string) (fs.FS, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("tenancy: migrations: %w", err)
	}

	return sub, nil
}
