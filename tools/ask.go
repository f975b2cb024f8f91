package tools

import (
	"context"
	"errors"
)

// askHuman asks the human to approve a change described by message, with
// confirm's mechanism (confirm.go), and words its refusals for the change:
// notDone starts the sentence ("Not run", "Nothing updated"), and instead
// names what the user can do without this server. confirm's own refusals
// speak of closing an incident.
func askHuman(ctx context.Context, policy ConfirmPolicy, message, notDone, instead string) error {
	err := confirm(ctx, policy, message)
	var refusal *refusalError
	switch {
	case errors.Is(err, errDeclined):
		return refuse("%s: the user declined to confirm, so nothing was changed. Ask the user how to proceed.", notDone)
	case errors.As(err, &refusal):
		return refuse("%s: this needs the user's confirmation, and this MCP client cannot ask for it over this connection "+
			"(elicitation), so nothing was changed. %s", notDone, instead)
	}
	return err
}
