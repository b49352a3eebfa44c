package web

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
)

// A move's flash carries the offer to undo it to the next page, as fields after a marker that no message
// written for a person starts with: the session keeps one string, and the offer is shown once, like a message.
const (
	flashSep     = "\x1f"
	flashMoved   = "moved"   // moved, REF, version after the move, status moved to
	flashUndone  = "undone"  // undone, REF, message
	flashRefused = "refused" // refused, REF, message
)

// undoNotice is what the page after a move, or after its undo, shows at the top (partials/undo).
type undoNotice struct {
	// Kind is flashMoved (with an Undo button), flashUndone or flashRefused (an alert).
	Kind    string
	Ref     string
	Version int64
	To      crm.Status
	Message string
	// CSRF and Next fill the undo form: it returns to the page that showed it.
	CSRF string
	Next string
}

// movedFlash is the flash of a move of e, offering its undo.
func movedFlash(e crm.Enquiry) string {
	return strings.Join([]string{flashMoved, e.Reference, strconv.FormatInt(e.Version, 10), string(e.Status)}, flashSep)
}

// parseUndoFlash reads a flash written by movedFlash or undoMove; false for any other message.
func parseUndoFlash(msg string) (undoNotice, bool) {
	f := strings.Split(msg, flashSep)
	switch {
	case len(f) == 4 && f[0] == flashMoved:
		v, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return undoNotice{}, false
		}
		to := crm.Status(f[3])
		return undoNotice{Kind: flashMoved, Ref: f[1], Version: v, To: to,
			Message: "Moved " + f[1] + " to " + to.Label() + "."}, true
	case len(f) == 3 && (f[0] == flashUndone || f[0] == flashRefused):
		return undoNotice{Kind: f[0], Ref: f[1], Message: f[2]}, true
	}
	return undoNotice{}, false
}

// undoMove undoes the person's latest move of an enquiry (form fields version: the one the move left, and next:
// the page to return to), then returns there with a message saying it was undone, or why not.
func (s *server) undoMove(c *fiber.Ctx) error {
	ref := c.Params("ref")
	next := "/enquiries/" + url.PathEscape(ref)
	if n := c.FormValue("next"); n != "" && safeNext(n) == n {
		next = n
	}
	version, err := formVersion(c)
	var u crm.UndoneMove
	if err == nil {
		u, err = s.deps.Workspace.UndoMove(c.UserContext(), actor(c), ref, version)
	}
	var refused *crm.UndoRefusedError
	switch {
	case errors.As(err, &refused):
		s.flash(c, strings.Join([]string{flashRefused, refused.Reference, "Not undone: " + refused.Why}, flashSep))
	case err != nil:
		return err
	default:
		s.flash(c, strings.Join([]string{flashUndone, u.Enquiry.Reference,
			"Undone: " + u.Enquiry.Reference + " is back in " + u.From.Label() + "."}, flashSep))
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// pageFlash is the flash for this page: a plain message, or the notice of a move or of its undo.
func pageFlash(c *fiber.Ctx) (string, *undoNotice) {
	msg, _ := c.Locals(sessFlash).(string)
	if n, ok := parseUndoFlash(msg); ok {
		n.CSRF = csrfToken(c)
		n.Next = c.Path()
		return "", &n
	}
	return msg, nil
}

// boardStage is the stage a phone shows of the board: the moved card's after a move or its undo, else the one
// the address names (?stage=), else the first.
func boardStage(c *fiber.Ctx, cols []crm.Column, notice *undoNotice) crm.Status {
	if notice != nil {
		for _, col := range cols {
			for _, card := range col.Cards {
				if card.Reference == notice.Ref {
					return col.Status
				}
			}
		}
	}
	want := crm.Status(c.Query("stage"))
	if notice != nil && notice.To != "" {
		want = notice.To
	}
	for _, col := range cols {
		if col.Status == want {
			return want
		}
	}
	if len(cols) > 0 {
		return cols[0].Status
	}
	return ""
}
