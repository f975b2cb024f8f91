package client

import (
	"context"
	"strings"
)

// IncidentState is what the API let the client read of an incident's
// mutable state. No page shows the assignee, the verdict, the ticket or the
// extension id on the detail (GET …/{source}/{incidentId}); the list row
// documents the assignee (user, isAssigned) and the verdict (classification,
// classificationReason). A part that no answer showed is unknown
// (…Known false), never reported as "none".
type IncidentState struct {
	// Status is the detail's (documented there).
	Status Status

	Assignee      *UserRef // nil when unassigned; a UserRef without id when assigned to someone not named
	AssigneeKnown bool

	Classification        *Classification
	ClassificationReason  *ClassificationReason
	ClassificationComment *string
	ClassificationKnown   bool

	TicketID    *string
	TicketKnown bool

	// ExtensionID routes a comment back to the originating system
	// (create-comment page); "" when none was found. ExtensionFrom names the
	// member it came from ("incident.extensionId", "row.extensionId" or
	// "row.productId"); ExtensionKnown says an answer held one of them (a
	// null says the incident has none).
	ExtensionID    string
	ExtensionFrom  string
	ExtensionKnown bool

	// RowLookup is why the incident's list row could not be read when the
	// detail left a part unknown (nil when it was read or not needed).
	RowLookup error
}

// StateOf reads an incident's state from its detail and, for what the
// detail does not show, from its list row (row may be nil). Member names, by
// preference:
//   - assignee: the detail's user/isAssigned (the row's names), then its
//     assignee, then the row's user/isAssigned;
//   - classification, classificationReason, classificationComment: the
//     detail's, then the row's;
//   - ticketId: the detail's only (no row or page shows one);
//   - extensionId: the detail's incident.extensionId, then the row's
//     extensionId, then the row's productId (the only member of a documented
//     incident shape that names the product instance an incident came from).
func StateOf(d *IncidentDetail, row *IncidentSummary) IncidentState {
	inc := &d.Incident
	s := IncidentState{Status: inc.Status}
	s.Assignee, s.AssigneeKnown = assigneeOf(inc.User, inc.IsAssigned)
	if !s.AssigneeKnown && inc.Assignee.Set {
		s.Assignee, s.AssigneeKnown = inc.Assignee.Value, true
	}
	if !s.AssigneeKnown && row != nil {
		s.Assignee, s.AssigneeKnown = row.Assignee()
	}

	switch {
	case inc.Classification.Set:
		s.Classification, s.ClassificationReason = inc.Classification.Value, inc.ClassificationReason.Value
		s.ClassificationComment, s.ClassificationKnown = inc.ClassificationComment, true
	case row != nil && row.Classification.Set:
		s.Classification, s.ClassificationReason = row.Classification.Value, row.ClassificationReason.Value
		s.ClassificationComment, s.ClassificationKnown = row.ClassificationComment, true
	}

	s.TicketID, s.TicketKnown = inc.TicketID.Value, inc.TicketID.Set

	switch {
	case inc.ExtensionID.Set:
		s.ExtensionKnown, s.ExtensionFrom = true, "incident.extensionId"
		s.ExtensionID = deref(inc.ExtensionID.Value)
	case row != nil && row.ExtensionID.Set:
		s.ExtensionKnown, s.ExtensionFrom = true, "row.extensionId"
		s.ExtensionID = deref(row.ExtensionID.Value)
	case row != nil && row.ProductID != nil && strings.TrimSpace(*row.ProductID) != "":
		s.ExtensionKnown, s.ExtensionFrom = true, "row.productId"
		s.ExtensionID = strings.TrimSpace(*row.ProductID)
	}
	if s.ExtensionID == "" {
		s.ExtensionFrom = ""
	}
	return s
}

// needsRow reports whether the list row could complete the state.
func (s IncidentState) needsRow() bool {
	return !s.AssigneeKnown || !s.ClassificationKnown || !s.ExtensionKnown
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// GetIncidentState reads an incident (GetIncident) and its state. When the
// detail leaves the assignee, the verdict or the extension id unknown, it
// also looks up the incident's list row (FindIncident); a failed lookup
// only leaves those parts unknown (IncidentState.RowLookup says why). Only a
// failure to read the detail is an error.
func (c *Client) GetIncidentState(ctx context.Context, ref IncidentRef, withDetails bool) (*IncidentDetail, IncidentState, error) {
	d, err := c.GetIncident(ctx, ref, withDetails)
	if err != nil {
		return nil, IncidentState{}, err
	}
	st := StateOf(d, nil)
	if !st.needsRow() {
		return d, st, nil
	}
	row, err := c.FindIncident(ctx, ref)
	if err != nil {
		st.RowLookup = err
		return d, st, nil
	}
	if row == nil {
		st.RowLookup = errRowNotFound
		return d, st, nil
	}
	return d, StateOf(d, row), nil
}

// errRowNotFound is the RowLookup of an incident the list did not return.
var errRowNotFound = rowNotFound{}

type rowNotFound struct{}

func (rowNotFound) Error() string {
	return "the list of incidents did not return this incident when searched by its id"
}

// findPages bounds the pages FindIncident reads: the query should select
// the incident on the first page, and an API whose query does not match ids
// must not make every lookup walk the whole queue.
const findPages = 3

// FindIncident returns the list row of one incident, or nil when the list
// does not return it: POST /incidents/across-workspaces with
// {"sources": [source], "query": incidentId}, reading at most three pages.
// A row matches on its id and source and, when it carries one, its
// workspace id; a row without a workspace id matches only if it is the one
// row with that id.
func (c *Client) FindIncident(ctx context.Context, ref IncidentRef) (*IncidentSummary, error) {
	if err := c.checkWorkspace(opFindIncident, ref.WorkspaceID); err != nil {
		return nil, err
	}
	f := IncidentFilter{Sources: []Source{ref.Source}, Query: ref.IncidentID}
	var page PageToken
	var anonymous []IncidentSummary
	for range findPages {
		p, res, err := c.listRows(ctx, f, page)
		if err != nil {
			return nil, err
		}
		found, err := func() (*IncidentSummary, error) {
			defer res.release()
			for i := range p.Rows {
				r, err := p.Rows[i].ident()
				if err != nil {
					return nil, err
				}
				if r.ID != ref.IncidentID || (r.Source != "" && r.Source != ref.Source) {
					continue
				}
				switch {
				case strings.EqualFold(r.WorkspaceID, ref.WorkspaceID):
					inc, err := p.Rows[i].decode()
					return &inc, err
				case r.WorkspaceID == "":
					inc, err := p.Rows[i].decode()
					if err != nil {
						return nil, err
					}
					anonymous = append(anonymous, inc)
				}
			}
			return nil, nil
		}()
		if found != nil || err != nil {
			if err != nil {
				return nil, err
			}
			return found, nil
		}
		if !p.HasMore {
			break
		}
		page = p.Next
	}
	if len(anonymous) == 1 {
		return &anonymous[0], nil
	}
	return nil, nil
}
