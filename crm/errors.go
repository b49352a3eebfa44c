package crm

import "errors"

// Domain errors. Stores and services wrap them (fmt.Errorf("…: %w", ErrX)); web maps each to one status code.
var (
	// ErrNotFound: no such enquiry, account or row — or one the caller's role may not see.
	ErrNotFound = errors.New("not found")
	// ErrTransitionNotAllowed: the pipeline does not allow that move from the current status.
	ErrTransitionNotAllowed = errors.New("transition not allowed")
	// ErrForbidden: the caller's role may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrIdempotencyConflict: an idempotency key was used before with a different enquiry.
	ErrIdempotencyConflict = errors.New("idempotency key reused with a different enquiry")
	// ErrConflict: the change collides with the current state (an account that already exists, say).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database cannot take writes just now — the disk is full, the file system read-only, or
	// a write or fsync failed — and nothing of the request was stored. It is temporary: the same request may
	// succeed once the fault is cleared, with no restart. web answers 503 with Retry-After.
	ErrUnavailable = errors.New("the database cannot take writes just now")
)

// InputError is a request the caller can fix: each field named with a plain-English message. web answers 422.
type InputError map[string]string

func (e InputError) Error() string { return "invalid input" }
