package main

import (
	"errors"
	"flag"
	"io"
	"strings"
)

// newFlagSet returns a flag set that reports errors instead of exiting, and prints help to stdout only when
// asked for.
func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("frontdesk "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args into fs, turning -h into errHelp (after printing the flags) and any other problem into
// a one-line usage error.
func parseFlags(fs *flag.FlagSet, args []string, e env) error {
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	return nil
}

func flagError(fs *flag.FlagSet, err error, e env) error {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		return errHelp
	}
	return usagef("%s", strings.TrimSpace(err.Error()))
}
