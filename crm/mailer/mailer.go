// Package mailer is Frontdesk's email: the templates of every message (embedded, overridable from a folder),
// the composition of a claimed outbox message into an email, the worker that claims queued messages, sends them
// and retries what failed, and the transports that deliver them (an .eml file per message, or SMTP with
// go-mail). It is the only package that imports go-mail, and only cmd wires it.
//
// The outbox itself is a domain idea of package crm: its messages (crm.OutboxMessage), statuses and the queue
// the worker sends from (crm.OutboxQueue), which package db implements.
//
// What an email may say is decided by what a claimed message carries: a summary of its enquiry
// (crm.OutboxSummary: reference, treatment, when it arrived, who has it) and never the patient's message, date
// of birth or other answers, so no template can repeat them.
package mailer
