package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
)

// cmdCopy is `frontdesk copy --to URL`: move a clinic from its SQLite file (FRONTDESK_DB) to an empty
// PostgreSQL database, every row, the audit chain intact (see README, "Running it for a clinic group").
func cmdCopy(args []string, e env) error {
	var to string
	c, rest, err := configure("copy", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "the empty PostgreSQL database to copy into: postgres://user:password@host:5432/database (required)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("copy takes no arguments, got %q", rest[0])
	}
	to = strings.TrimSpace(to)
	if to == "" {
		return usagef("missing --to: the PostgreSQL database to copy into, postgres://user:password@host:5432/database")
	}
	// The URL is never repeated as given: it may hold a password.
	if err := checkPostgresURL(to); err != nil || !db.IsPostgresURL(to) {
		return usagef("invalid --to: must be a PostgreSQL URL such as postgres://frontdesk:password@db.example:5432/frontdesk")
	}
	if db.IsPostgresURL(c.DB) {
		return usagef("invalid FRONTDESK_DB: copy reads a SQLite file; set FRONTDESK_DB (or --db) to it")
	}
	if _, err := os.Stat(c.DB); err != nil {
		return fmt.Errorf("no SQLite database at %s: set FRONTDESK_DB (or --db) to the file to copy", c.DB)
	}
	ctx := context.Background()
	src, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer src.Close()
	before, err := crm.VerifyAuditChain(ctx, src)
	if err != nil {
		return fmt.Errorf("the source's audit log does not verify, so it is not copied (run frontdesk audit verify): %w", err)
	}
	dst, err := openDB(ctx, &config{DB: to})
	if err != nil {
		return err
	}
	defer dst.Close()
	tables, err := db.CopyTo(ctx, src, dst)
	if errors.Is(err, db.ErrTargetNotEmpty) {
		return fmt.Errorf("%w (nothing was copied)", err)
	}
	if err != nil {
		return err
	}
	after, err := crm.VerifyAuditChain(ctx, dst, before.LastHash)
	if err == nil && (after.Entries != before.Entries || after.LastHash != before.LastHash) {
		err = fmt.Errorf("%d entries ending in %s, the source has %d ending in %s", after.Entries, after.LastHash,
			before.Entries, before.LastHash)
	}
	if err != nil {
		return fmt.Errorf("the copy's audit log does not match the source's: %w", err)
	}
	var rows int64
	for _, t := range tables {
		fmt.Fprintf(e.stdout, "%-22s %d\n", t.Table, t.Rows)
		rows += t.Rows
	}
	fmt.Fprintf(e.stdout, "\nCopied %d rows in %d tables from %s to %s; the audit log's %d entries verify.\n",
		rows, len(tables), c.DB, db.RedactURL(to), after.Entries)
	fmt.Fprintln(e.stdout, "Set FRONTDESK_DB to the PostgreSQL URL and start serve; keep the SQLite file as a backup.")
	return nil
}
