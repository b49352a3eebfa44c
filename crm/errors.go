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
)

// InputError is a request the caller can fix: each field named with a plain-English message. web answers 422.
type InputError map[string]string

func (e InputError) Error() string { return "invalid input" }
