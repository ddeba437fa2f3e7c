package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/patchbay/patchbay/conf"
	"github.com/patchbay/patchbay/tenancy"
)

// listPageSize is how many accounts `accounts list` reads per query.
const listPageSize = 200

// runAccounts is the accounts command: create or list accounts in the same
// database serve uses, for an operator at the console.
func runAccounts(ctx context.Context, std stdio, environ []string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: accounts needs a subcommand: create or list", errUsage)
	}
	fs := flag.NewFlagSet("accounts "+args[0], flag.ContinueOnError)
	file := fs.String("config", "", "YAML settings `file`")
	parent := fs.String("parent", "", "parent account `SID`")
	var name *string
	switch args[0] {
	case "create":
		name = fs.String("name", "", "friendly `name` of the new account (required)")
	case "list":
	default:
		return fmt.Errorf("%w: accounts: unknown subcommand %q", errUsage, args[0])
	}
	if err := parseFlags(fs, args[1:], std); err != nil {
		return err
	}
	if name != nil && *name == "" {
		return fmt.Errorf("%w: accounts create: --name is required", errUsage)
	}

	cfg, err := loadConfig(*file, environ)
	if err != nil {
		return err
	}
	store, closeStore, err := openStoreFor(ctx, cfg)
	if err != nil {
		return err
	}
	if name != nil {
		err = createAccount(ctx, store, std.out, *parent, *name)
	} else {
		err = listAccounts(ctx, store, std.out, *parent)
	}

	return errors.Join(err, closeStore())
}

// openStoreFor opens, migrating it, the tenancy store of the configured
// data folder; the returned func closes the store and the database.
func openStoreFor(ctx context.Context, cfg *conf.Config) (*tenancy.Store, func() error, error) {
	if err := prepareDataDir(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	db, err := openDB(ctx, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	store, err := tenancy.NewStore(ctx, db)
	if err != nil {
		return nil, nil, errors.Join(err, db.Close())
	}

	return store, func() error { return errors.Join(store.Close(), db.Close()) }, nil
}

func createAccount(ctx context.Context, store *tenancy.Store, w io.Writer,
	parent, name string) error {
	a, err := store.CreateAccount(ctx, parent, name)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "sid         %s\nauth_token  %s\n", a.SID, a.AuthToken)

	return err
}

// listAccounts prints every account (or parent and its descendants) as a
// table, oldest first, reading the store page by page.
func listAccounts(ctx context.Context, store *tenancy.Store, w io.Writer, parent string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tPARENT\tSTATUS\tCREATED\tNAME")
	for page := 0; ; page++ {
		accounts, more, err := store.ListAccounts(ctx, parent,
			tenancy.Page{Number: page, Size: listPageSize})
		if err != nil {
			return err
		}
		for _, a := range accounts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.SID, dash(a.ParentSID), a.Status,
				a.Created.UTC().Format(time.RFC3339), printable(a.FriendlyName))
		}
		if !more {
			break
		}
	}

	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}

	return s
}

// printable replaces the control and other non-printable characters of a
// tenant-chosen name with '?', so that a name cannot break the table or
// send escape sequences to the operator's terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}

		return '?'
	}, s)
}
