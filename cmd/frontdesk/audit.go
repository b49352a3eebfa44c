package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/frontdesk/frontdesk/crm"
)

// errAuditBroken is the run-time failure of `audit verify`: the chain is broken (already reported on stdout).
var errAuditBroken = errors.New("the audit log has been tampered with")

// cmdAudit is `frontdesk audit verify`: walk the audit log's hash chain and say whether it is whole.
func cmdAudit(args []string, e env) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "usage: frontdesk audit verify")
			return errHelp
		}
		return usagef("audit needs a subcommand: verify")
	}
	c, rest, err := configure("audit verify", args[1:], e, false, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("audit verify takes no arguments, got %q", rest[0])
	}
	ctx := context.Background()
	d, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := crm.VerifyAudit(ctx, d)
	var broken *crm.AuditBrokenError
	if errors.As(err, &broken) {
		fmt.Fprintf(e.stdout, "broken at entry %d: %s (%d entries before it are intact)\n", broken.ID, broken.Reason, n)
		return fmt.Errorf("%w: first broken entry %d", errAuditBroken, broken.ID)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ok %d entries\n", n)
	return nil
}
