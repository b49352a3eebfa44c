// Command minimal is the ceiling of the intake benchmark: the least a server on Frontdesk's stack can do for an
// enquiry. Fiber, one validator, sqlx on go-sqlite3 with the driver's defaults (WAL journal, synchronous
// NORMAL: a commit is not fsynced), and one INSERT per request into a plain table — no outbox, no assignment,
// no timeline, no search index, no idempotency.
//
//	go run -tags sqlite_fts5 ./bench/minimal -addr 127.0.0.1:8090 -db /tmp/minimal.db
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3"
)

// enquiry is the JSON body, with the same fields and limits as Frontdesk's.
type enquiry struct {
	Name             string `json:"name" validate:"required,min=2,max=100"`
	Email            string `json:"email" validate:"required,email,max=254"`
	Phone            string `json:"phone" validate:"max=40"`
	PreferredContact string `json:"preferred_contact" validate:"omitempty,oneof=email phone either"`
	Treatment        string `json:"treatment" validate:"required,oneof=adhd depression anxiety ptsd addiction chronic_pain other"`
	Message          string `json:"message" validate:"max=5000"`
	DateOfBirth      string `json:"date_of_birth" validate:"omitempty,datetime=2006-01-02"`
	ReferralSource   string `json:"referral_source" validate:"omitempty,oneof=gp self search social friend other"`
	Consent          bool   `json:"consent" validate:"required"`
	UTMSource        string `json:"utm_source" validate:"max=100"`
	UTMMedium        string `json:"utm_medium" validate:"max=100"`
	UTMCampaign      string `json:"utm_campaign" validate:"max=100"`
}

const schema = `CREATE TABLE IF NOT EXISTS enquiries (
	id INTEGER PRIMARY KEY,
	reference TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL, preferred_contact TEXT NOT NULL,
	treatment TEXT NOT NULL, message TEXT NOT NULL, date_of_birth TEXT NOT NULL, referral_source TEXT NOT NULL,
	utm_source TEXT NOT NULL, utm_medium TEXT NOT NULL, utm_campaign TEXT NOT NULL,
	created_at INTEGER NOT NULL
)`

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	path := flag.String("db", "minimal.db", "SQLite file")
	conns := flag.Int("conns", 0, "most open database connections (0: database/sql's default, unlimited)")
	flag.Parse()

	// go-sqlite3's defaults but for the journal: WAL (whose default synchronous level in the driver is NORMAL).
	db, err := sqlx.Open("sqlite3", "file:"+*path+"?_journal_mode=WAL")
	if err != nil {
		log.Fatal(err)
	}
	if *conns > 0 {
		db.SetMaxOpenConns(*conns)
		db.SetMaxIdleConns(*conns)
	}
	if _, err := db.Exec(schema); err != nil {
		log.Fatal(err)
	}
	v := validator.New(validator.WithRequiredStructEnabled())
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		BodyLimit:             64 << 10,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
	})
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Post("/api/v1/enquiries", func(c *fiber.Ctx) error {
		if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
			return c.Status(fiber.StatusUnsupportedMediaType).JSON(fiber.Map{"error": "not JSON"})
		}
		var e enquiry
		if err := json.Unmarshal(c.Body(), &e); err != nil {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "malformed"})
		}
		if err := v.Struct(e); err != nil {
			return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": "validation"})
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		ref := strings.ToUpper(hex.EncodeToString(b[:]))
		_, err := db.Exec(`INSERT INTO enquiries (reference, name, email, phone, preferred_contact, treatment, message,
				date_of_birth, referral_source, utm_source, utm_medium, utm_campaign, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ref, e.Name, strings.ToLower(e.Email), e.Phone,
			e.PreferredContact, e.Treatment, e.Message, e.DateOfBirth, e.ReferralSource, e.UTMSource, e.UTMMedium,
			e.UTMCampaign, time.Now().UnixMilli())
		if err != nil {
			return c.Status(fiber.StatusInternalServerError).JSON(fiber.Map{"error": "store"})
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"reference": ref, "status": "new"})
	})

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		_ = app.ShutdownWithTimeout(5 * time.Second)
	}()
	fmt.Fprintln(os.Stderr, "minimal: serving on", *addr)
	if err := app.Listen(*addr); err != nil {
		log.Fatal(err)
	}
	db.Close()
}
