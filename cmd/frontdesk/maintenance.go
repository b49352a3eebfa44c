package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/frontdesk/frontdesk/db"
)

// cmdBackup is `frontdesk backup --out FILE`: a consistent copy of the live database, safe while serve runs.
func cmdBackup(args []string, e env) error {
	var out string
	c, rest, err := configure("backup", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "the file to write the copy to; it must not exist yet (required)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("backup takes no arguments, got %q", rest[0])
	}
	if strings.TrimSpace(out) == "" {
		return usagef("missing --out")
	}
	if _, err := os.Stat(out); err == nil {
		return usagef("invalid --out %s: the file exists; choose a new name", out)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return usagef("invalid --out %s: %v", out, err)
	}
	if same, _ := filepath.Abs(c.DB); same == abs {
		return usagef("invalid --out %s: that is the database itself", out)
	}
	ctx := context.Background()
	d, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	// Write beside the target, then rename: a failed backup never leaves a partial file under its name.
	tmp := filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".partial")
	_ = os.Remove(tmp)
	if err := d.Backup(ctx, tmp); errors.Is(err, db.ErrServerBackup) {
		_ = os.Remove(tmp)
		return err
	} else if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup to %s failed: check the folder exists and is writable (%v)", out, err)
	}
	// VACUUM INTO fsyncs the copy (it writes with the database's synchronous=FULL); the rename is made
	// durable by fsyncing the folder, so a crash just after the command returns cannot lose the backup's name.
	if err := os.Rename(tmp, abs); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", out, err)
	}
	if err := syncDir(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("backup to %s: %w", out, err)
	}
	fi, _ := os.Stat(abs)
	size := int64(0)
	if fi != nil {
		size = fi.Size()
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s (%d bytes)\n", c.DB, out, size)
	return nil
}
