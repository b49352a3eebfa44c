package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/frontdesk/frontdesk"

// TestTheRoomsOnlyDependOneWay keeps the README's arrows between packages true — cmd → web, db, crm, intake; web → crm, intake;
// db → crm, intake; crm → intake — and each library in its room, for every dependency and not only direct
// imports: only web imports Fiber, only db imports sqlx, go-sqlite3 and pgx, only crm/mailer imports go-mail and
// only crm/report/xlsx imports excelize, and no other package (cmd and the benchmarks apart, which wire
// everything) depends on any of them, directly or not. So `go list -deps ./db ./web` shows neither go-mail nor
// excelize.
func TestTheRoomsOnlyDependOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "sqlite_fts5", "-f",
		"{{.ImportPath}}|{{join .Deps \" \"}}|{{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// Packages of this module each room may not depend on, directly or not.
	arrows := map[string][]string{
		"intake": {"crm", "db", "web"},
		"crm":    {"db", "web"},
		"web":    {"db"},
		"db":     {"web"},
	}
	// Libraries and the one room that may import each; no other room may depend on them at all.
	owner := map[string]string{
		"github.com/gofiber/":         "web",
		"github.com/jmoiron/sqlx":     "db",
		"github.com/mattn/go-sqlite3": "db",
		"github.com/jackc/pgx/":       "db",
		"github.com/wneessen/go-mail": "crm/mailer",
		"github.com/xuri/excelize/":   "crm/report/xlsx",
	}
	is := func(pkg, lib string) bool { return pkg == strings.TrimSuffix(lib, "/") || strings.HasPrefix(pkg, lib) }
	in := func(rel, room string) bool { return rel == room || strings.HasPrefix(rel, room+"/") }

	type pkgInfo struct{ deps, imports []string }
	pkgs := map[string]pkgInfo{}
	var ours []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		pkgs[parts[0]] = pkgInfo{deps: strings.Fields(parts[1]), imports: strings.Fields(parts[2])}
		if strings.HasPrefix(parts[0], module+"/") {
			ours = append(ours, parts[0])
		}
	}
	// via names the direct import of pkg through which it reaches lib, for the message.
	via := func(pkg, lib string) string {
		for _, imp := range pkgs[pkg].imports {
			if is(imp, lib) {
				return "imports it"
			}
			for _, d := range pkgs[imp].deps {
				if is(d, lib) {
					return "through " + strings.TrimPrefix(imp, module+"/")
				}
			}
		}
		return "somehow"
	}

	checked := 0
	for _, pkg := range ours {
		rel := strings.TrimPrefix(pkg, module+"/")
		if strings.HasPrefix(rel, "bench") || strings.HasPrefix(rel, "cmd") {
			continue // the benchmarks' ceiling server is its own small stack; cmd wires everything
		}
		checked++
		room := strings.SplitN(rel, "/", 2)[0]
		for _, d := range pkgs[pkg].deps {
			for _, bad := range arrows[room] {
				if d == module+"/"+bad || strings.HasPrefix(d, module+"/"+bad+"/") {
					t.Errorf("%s depends on %s: arrows must point %s → only crm and intake", rel, d, room)
				}
			}
		}
		for lib, may := range owner {
			if in(rel, may) {
				continue
			}
			for _, d := range pkgs[pkg].deps {
				if is(d, lib) {
					t.Errorf("%s depends on %s (%s); only %s may", rel, strings.TrimSuffix(lib, "/"), via(pkg, lib), may)
					break
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d packages checked: go list output not understood", checked)
	}
	// cmd wires the libraries' rooms; it imports none of the libraries itself.
	for _, pkg := range ours {
		rel := strings.TrimPrefix(pkg, module+"/")
		if !strings.HasPrefix(rel, "cmd") {
			continue
		}
		for _, imp := range pkgs[pkg].imports {
			for lib, may := range owner {
				if is(imp, lib) {
					t.Errorf("%s imports %s; only %s may", rel, imp, may)
				}
			}
		}
	}
}
