package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

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
	var includes string
	c, rest, err := configure("audit verify", args[1:], e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&includes, "includes", "", "a hash printed by an earlier verify: also check that its entry is still in the log (no entry removed from the end)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("audit verify takes no arguments, got %q", rest[0])
	}
	includes = strings.ToLower(strings.TrimSpace(includes))
	if includes != "" && !isHexHash(includes) {
		return usagef("invalid --includes %q: give the 64-character hash an earlier audit verify printed", includes)
	}
	ctx := context.Background()
	d, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	chain, err := crm.VerifyAuditChain(ctx, d, includes)
	var broken *crm.AuditBrokenError
	if errors.As(err, &broken) {
		fmt.Fprintf(e.stdout, "broken at entry %d: %s (%d entries before it are intact)\n", broken.ID, broken.Reason, chain.Entries)
		return fmt.Errorf("%w: first broken entry %d", errAuditBroken, broken.ID)
	}
	if err != nil {
		return err
	}
	if includes != "" && !chain.Includes(includes) {
		fmt.Fprintf(e.stdout, "no entry has the hash %s: entries were removed from the end of the log since it was printed\n", includes)
		return fmt.Errorf("%w: the entry with hash %s is gone", errAuditBroken, includes)
	}
	fmt.Fprintf(e.stdout, "ok %d entries\n", chain.Entries)
	if chain.Entries > 0 {
		// Kept off the server, this line lets a later `audit verify --includes HASH` prove nothing was cut off.
		fmt.Fprintf(e.stdout, "last entry %d hash %s\n", chain.LastID, chain.LastHash)
	}
	return nil
}

// isHexHash reports whether s is a hex SHA-256.
func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
