package ingest

// ScrubError returns err with every secret replaced by "[redacted]" in its
// message (Scrub), for errors that carry a remote service's answer to
// stderr, logs or ingest_runs.error. errors.Is and errors.As still see the
// original chain; nil stays nil, and an error with nothing to redact is
// returned as it is.
func ScrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := Scrub(msg, secrets...)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
