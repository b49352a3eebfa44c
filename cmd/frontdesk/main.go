// Command frontdesk is the Frontdesk server and its administration commands. This file and its siblings only
// wire the packages together: read the configuration, open the database, build the services, start the web
// server and the mail worker, and shut down cleanly.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	_ "time/tzdata" // clinics' time zones work on machines without a zoneinfo database
)

// Exit statuses, as the README gives them.
const (
	exitOK      = 0
	exitFailure = 1 // failure at run time
	exitUsage   = 2 // a bad flag or value
)

// env is what a command sees of its process, so tests can run commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func main() {
	os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

const usage = `Frontdesk — patient enquiries and intake for clinics.

Usage: frontdesk <command> [flags]

Commands:
  serve                      migrate the database, serve HTTP and send mail
  migrate [status]           apply migrations and exit, or list them
  user add --email E --name N --role R [--treatments adhd,ptsd]
                             create a staff account; the password is read from stdin (one line)
  user list                  list staff accounts
  user disable --email E     stop an account from signing in; ends its sessions, revokes its tokens
  user reset-2fa --email E   remove an account's second factor (lost phone and recovery codes);
                             it sets up a new one at its next sign-in; ends its sessions and tokens
  token create --email E --label L [--days N]
                             print a new API token for that account (shown once); it expires
                             after N days (default FRONTDESK_TOKEN_DAYS, 90)
  token list [--email E]     list API tokens: id, owner, label, created, last used, expires, revoked
  token revoke --id N        revoke API token N at once
  outbox list [--status S]   list queued, sent and failed emails (S: queued, sent or failed)
  outbox retry --id N        queue failed email N again
  demo                       fill a database without enquiries with demo staff and enquiries
  erase --ref REF | --email E
                             erase the personal data of one enquiry, or of every enquiry of that address
                             (right to erasure); anonymous counts remain, no byte is left in the database,
                             its WAL, later backups or the mail folder
  sar --email E [--out FILE] subject access: everything held about that address as one JSON document
                             (stdout by default); the request is in the audit log
  audit verify [--includes HASH]
                             check the audit log's hash chain: nothing changed or removed; with the
                             hash an earlier verify printed, also that nothing was cut from the end
  backup --out FILE          write a consistent copy of the database (readable by its owner only),
                             safe while serve runs (SQLite; on PostgreSQL use the server's backups)
  copy --to URL              copy the SQLite database into a new, empty PostgreSQL database (stop
                             serve first); every row, the audit chain verified on both sides
  export enquiries [--format csv|xlsx] [--from D] [--to D] [--status S] [--treatment T]
                   [--assignee E] [--out FILE]
                             write the enquiries (stdout by default); dates YYYY-MM-DD, inclusive;
                             the file holds health data, and each export is in the audit log
  help                       show this help

Run "frontdesk <command> --help" for a command's flags. Every setting is also an environment variable
(FRONTDESK_ADDR, FRONTDESK_DB, ...); see the README.
`

// run executes one command and returns its exit status.
func run(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], e)
	case "migrate":
		err = cmdMigrate(args[1:], e)
	case "user":
		err = cmdUser(args[1:], e)
	case "token":
		err = cmdToken(args[1:], e)
	case "demo":
		err = cmdDemo(args[1:], e)
	case "erase":
		err = cmdErase(args[1:], e)
	case "sar":
		err = cmdSar(args[1:], e)
	case "backup":
		err = cmdBackup(args[1:], e)
	case "copy":
		err = cmdCopy(args[1:], e)
	case "outbox":
		err = cmdOutbox(args[1:], e)
	case "export":
		err = cmdExport(args[1:], e)
	case "audit":
		err = cmdAudit(args[1:], e)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	default:
		err = usagef("unknown command %q (run frontdesk help)", args[0])
	}
	return report(err, e)
}

// errHelp is returned when the user asked for a command's help: nothing failed.
var errHelp = errors.New("help shown")

// report prints err as one line on stderr and maps it to an exit status.
func report(err error, e env) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(e.stderr, "frontdesk:", ue.msg)
		return exitUsage
	default:
		fmt.Fprintln(e.stderr, "frontdesk:", err)
		return exitFailure
	}
}

// newLogger returns the structured logger every command uses: text lines on stderr.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
