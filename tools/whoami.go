package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// WhoamiInput takes no arguments.
type WhoamiInput struct{}

// WhoamiOutput is the service account this server acts as and, per
// workspace it may touch, what it may do there.
type WhoamiOutput struct {
	Name         string            `json:"name"`
	Email        string            `json:"email,omitempty"`
	Organization string            `json:"organization,omitempty"`
	ReadOnly     bool              `json:"readOnly,omitempty" desc:"This server changes nothing."`
	Workspaces   []WorkspaceAccess `json:"workspaces"`
	Note         string            `json:"note,omitempty"`
}

// WorkspaceAccess is the session's access to one workspace.
type WorkspaceAccess struct {
	WorkspaceID string `json:"workspaceId"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	Write       bool   `json:"write" desc:"May change its incidents."`
	Respond     bool   `json:"respond,omitempty" desc:"May run gamebooks."`
	Why         string `json:"why,omitempty" desc:"Why it may not write."`
}

// Whoami is the whoami tool: who the server acts as, and where it may write.
func Whoami(d Deps) Tool {
	return newTool(spec[WhoamiInput, WhoamiOutput]{
		deps:  d,
		name:  "whoami",
		title: "Who am I",
		description: "Who this server acts as and, per workspace, its role and whether this server may change " +
			"incidents there. Call it before planning changes.",
		scope:  client.ScopeIncidentsRead,
		hints:  hints{readOnly: true, idempotent: true, openWorld: true},
		handle: func(ctx context.Context, _ WhoamiInput) (WhoamiOutput, error) { return whoami(ctx, d) },
		text:   renderWhoami,
	})
}

func whoami(ctx context.Context, d Deps) (WhoamiOutput, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return WhoamiOutput{}, err
	}
	id, err := whoAmI(ctx, sess)
	if err != nil {
		return WhoamiOutput{}, err
	}
	out := WhoamiOutput{Name: oneLine(id.Profile.Name, 200), Email: oneLine(id.Profile.Email, 320),
		Organization: oneLine(id.Profile.Organization, 200), ReadOnly: sess.ReadOnly, Note: id.Note,
		Workspaces: make([]WorkspaceAccess, 0, len(id.Workspaces))}
	for _, a := range id.Workspaces {
		out.Workspaces = append(out.Workspaces, WorkspaceAccess{WorkspaceID: oneLine(a.ID, 100), Name: a.Name,
			Role: string(a.Role), Write: a.Write, Respond: a.Respond, Why: a.Why})
	}
	return out, nil
}

func renderWhoami(o WhoamiOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Acting as %s", o.Name)
	if o.Email != "" {
		fmt.Fprintf(&b, " <%s>", o.Email)
	}
	if o.Organization != "" {
		fmt.Fprintf(&b, " of %s", o.Organization)
	}
	if o.ReadOnly {
		b.WriteString("; this server is read-only")
	}
	for _, w := range o.Workspaces {
		fmt.Fprintf(&b, "\n- %s (workspaceId=%s): %s, ", w.Name, w.WorkspaceID, w.Role)
		if w.Write {
			b.WriteString("may change incidents")
			if w.Respond {
				b.WriteString(" and run gamebooks")
			}
		} else {
			b.WriteString("may not change incidents: " + w.Why)
		}
	}
	if len(o.Workspaces) == 0 && o.Note == "" {
		b.WriteString("\nNo workspace role this server may use.")
	}
	if o.Note != "" {
		b.WriteString("\nnote: " + o.Note)
	}
	return b.String()
}
