package tools

import (
	"context"
	"errors"
)

// askHuman asks the human to approve the change q describes, with
// confirm's mechanism (confirm.go), and words its refusals for the change:
// notDone starts the sentence ("Not run", "Nothing updated"), and instead
// names what the user can do without this server. confirm's own refusals
// speak of closing an incident.
func askHuman(ctx context.Context, d Deps, policy ConfirmPolicy, q question, notDone, instead string) (consent, error) {
	ok, err := confirm(ctx, d, policy, q)
	var refusal *refusalError
	var used *usedError
	switch {
	case errors.As(err, &used):
		return ok, err // already complete
	case errors.Is(err, errDeclined):
		return ok, refuse("%s: the user declined to confirm, so nothing was changed. Ask the user how to proceed.", notDone)
	case errors.As(err, &refusal):
		return ok, refuse("%s: this needs the user's confirmation, and this MCP client cannot ask for it over this connection "+
			"(elicitation), so nothing was changed. %s", notDone, instead)
	}
	return ok, err
}
