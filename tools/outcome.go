package tools

import (
	"context"
	"errors"
	"sync"

	"github.com/contraforce/contraforce-mcp/client"
)

// Outcome is what a tool call did upstream, as an audit records it. The
// adapter decides it from the handler's typed result (never from an error's
// text) and hands it to whoever asked with WithCallReport.
type Outcome string

// The outcomes of a tool call.
const (
	// OutcomeOK: the call did what it was asked (a read answered, a change
	// was applied).
	OutcomeOK Outcome = "ok"
	// OutcomeError: the call failed and changed nothing (invalid arguments,
	// an API refusal, the API unreachable before the request was sent).
	OutcomeError Outcome = "error"
	// OutcomeUnknown: a change was sent and may or may not have been
	// applied (client.ErrOutcomeUnknown).
	OutcomeUnknown Outcome = "unknown"
	// OutcomeDryRun: a dry run; nothing was changed.
	OutcomeDryRun Outcome = "dry_run"
	// OutcomeConfirmationRequested: the human was asked to confirm the
	// change; nothing was changed yet (the answer comes in a later call).
	OutcomeConfirmationRequested Outcome = "confirmation_requested"
	// OutcomeRefused: this server's policy refused the change, or the human
	// declined it; nothing was changed.
	OutcomeRefused Outcome = "refused"
)

// CallReport receives the outcome of one tool call from the tool's adapter:
// the tool result an MCP client sees is text, and an auditor needs the
// typed outcome behind it.
type CallReport struct {
	mu      sync.Mutex
	set     bool
	outcome Outcome
	err     error
}

type reportKey struct{}

// WithCallReport returns a context whose tool call reports its outcome to
// the returned CallReport (a middleware calls it around the handler).
func WithCallReport(ctx context.Context) (context.Context, *CallReport) {
	r := &CallReport{}
	return context.WithValue(ctx, reportKey{}, r), r
}

// Outcome returns the reported outcome and the error behind it (nil for
// ok, dry run and confirmation); ok is false when the handler reported
// nothing (not one of this package's tools).
func (r *CallReport) Outcome() (outcome Outcome, err error, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outcome, r.err, r.set
}

// report records a call's outcome in the context's CallReport, if any.
func report(ctx context.Context, o Outcome, err error) {
	r, _ := ctx.Value(reportKey{}).(*CallReport)
	if r == nil {
		return
	}
	r.mu.Lock()
	r.outcome, r.err, r.set = o, err, true
	r.mu.Unlock()
}

// dryRunner is an input that can ask for a dry run.
type dryRunner interface{ dryRun() bool }

// dryRun: update_status's dryRun makes no change.
func (in UpdateStatusInput) dryRun() bool { return in.DryRun }

// dryRun: bulk_update's dryRun makes no change.
func (in BulkUpdateInput) dryRun() bool { return in.DryRun }

// dryRun: run_gamebook's dryRun runs nothing.
func (in RunGamebookInput) dryRun() bool { return in.DryRun }

// outcomeOf classifies a handler's return from its types.
func outcomeOf(in any, err error) Outcome {
	var ask needInput
	var refusal *refusalError
	switch {
	case errors.As(err, &ask):
		return OutcomeConfirmationRequested
	case errors.As(err, &refusal):
		return OutcomeRefused
	case errors.Is(err, client.ErrOutcomeUnknown):
		return OutcomeUnknown
	case err != nil:
		return OutcomeError
	}
	if d, ok := in.(dryRunner); ok && d.dryRun() {
		return OutcomeDryRun
	}
	return OutcomeOK
}
