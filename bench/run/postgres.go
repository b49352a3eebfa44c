package main

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create the bench's databases
)

// The PostgreSQL phase: the same intake load and the same large database (copied from SQLite's with
// `frontdesk copy`), measured against serve on PostgreSQL, so that the table shows both engines side by side.

// pgDatabase drops and creates the database name on the server o.postgres and returns its URL.
func pgDatabase(o options, name string) (string, error) {
	admin, err := sql.Open("pgx", o.postgres)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
		return "", fmt.Errorf("drop %s: %w", name, err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	u, err := url.Parse(o.postgres)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// copyInto runs `frontdesk copy` of the SQLite file into the PostgreSQL database at target.
func copyInto(b bins, file, target string) error {
	cmd := exec.Command(b.frontdesk, "copy", "--to", target)
	cmd.Env = append(os.Environ(), "FRONTDESK_DB="+file)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func postgresPhase(o options, b bins, sk *sink, rep *report) error {
	const label = " [PostgreSQL]"
	if o.phase("intake") {
		fmt.Printf("\n== intake on PostgreSQL: %d clients for %ds\n", o.conc, o.seconds)
		seed := filepath.Join(o.out, "intake-pg-seed.db")
		removeDB(seed)
		if err := gen(b, "-db", seed, "-n", "0", "-password", o.password); err != nil {
			return err
		}
		target, err := pgDatabase(o, "frontdesk_bench_intake")
		if err != nil {
			return err
		}
		if err := copyInto(b, seed, target); err != nil {
			return err
		}
		removeDB(seed)
		bodies := enquiryBodies(50_000, 40_000_000, uint64(time.Now().UnixNano()))
		fd, mails, err := serveIntake(o, b, sk, target, bodies)
		if err != nil {
			return err
		}
		rep.add("intake accepted/s"+label, fmt.Sprintf("%.0f/s", fd.load.rate()), "", "", nil)
		rep.add("intake latency p50 / p99"+label, fmt.Sprintf("%.2f / %.2f ms", ms(fd.p50), ms(fd.p99)), "", "", nil)
		rep.add("intake errors"+label, fmt.Sprintf("%d of %d", fd.load.Errors, fd.load.Errors+fd.load.OK), "0", "", check(fd.load.Errors == 0))
		rep.add("RSS under intake load"+label, fmt.Sprintf("%.1f MB", mb(max(fd.peak, fd.hwm))), "<= 150 MB", "", check(max(fd.peak, fd.hwm) <= 150<<20))
		rep.note("PostgreSQL intake: %d accepted in %.1fs, each its own transaction (synchronous_commit on); the mail worker sent %d",
			fd.load.OK, fd.load.Elapsed.Seconds(), mails)
	}
	if o.phase("reads") || o.phase("export") {
		if err := ensureBigDB(o, b, rep); err != nil {
			return err
		}
		target, err := pgDatabase(o, fmt.Sprintf("frontdesk_bench_%d", o.n))
		if err != nil {
			return err
		}
		fmt.Printf("\n== copying %d enquiries to PostgreSQL\n", o.n)
		t0 := time.Now()
		if err := copyInto(b, o.bigDB, target); err != nil {
			return err
		}
		rep.add(fmt.Sprintf("frontdesk copy %d enquiries to PostgreSQL", o.n), time.Since(t0).Round(time.Second).String(), "", "", nil)
		if err := largeOn(o, b, sk, rep, target, label); err != nil {
			return err
		}
	}
	return nil
}
