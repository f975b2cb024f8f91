package schema

import (
	"errors"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// UpdateStatusInput is the brief's example input struct, with its rules.
type UpdateStatusInput struct {
	WorkspaceID          string                      `json:"workspaceId" jsonschema:"required" desc:"Workspace GUID."`
	Source               client.Source               `json:"source" jsonschema:"required" desc:"Incident source."`
	IncidentID           string                      `json:"incidentId" jsonschema:"required" desc:"Incident id."`
	Status               client.Status               `json:"status" jsonschema:"required" desc:"New status."`
	Comment              string                      `json:"comment,omitempty" desc:"Why; required when closing."`
	Classification       client.Classification       `json:"classification,omitempty" desc:"Verdict; Sentinel requires it when closing."`
	ClassificationReason client.ClassificationReason `json:"classificationReason,omitempty" desc:"Reason for the verdict."`
	UpdateTicket         bool                        `json:"updateTicket,omitempty" desc:"Also close the linked ticket."`
	TicketID             string                      `json:"ticketId,omitempty" desc:"Linked ticket id."`
	Severities           []client.Severity           `json:"severities,omitempty" desc:"Severities to match."`
	Limit                int                         `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100" desc:"Page size."`
	Since                *time.Time                  `json:"since,omitempty" desc:"RFC 3339 start."`
}

// Rules states the update-status endpoint's cross-field requirements once.
func (UpdateStatusInput) Rules() []Rule {
	return []Rule{
		RequiredWhen{
			When:    map[string]any{"status": client.StatusClosed, "source": client.SourceSentinel},
			Require: []string{"classification", "classificationReason"},
			Why:     "Sentinel requires a classification and reason to close",
		},
		RequiredWhen{
			When:    map[string]any{"updateTicket": true},
			Require: []string{"ticketId"},
			Why:     "the ticket to update must be named",
		},
	}
}

// ListInput exercises nesting, arrays of objects, maps, floats and Check.
type ListInput struct {
	Filter  *Filter           `json:"filter,omitempty" desc:"Which incidents."`
	Tags    map[string]string `json:"tags,omitempty" desc:"Labels to match."`
	Items   []Item            `json:"items,omitempty" jsonschema:"maxItems=3" desc:"Items."`
	Score   float64           `json:"score,omitempty" jsonschema:"minimum=0.5" desc:"Minimum score."`
	Query   string            `json:"query,omitempty" jsonschema:"minLength=2,maxLength=5" desc:"Search text."`
	Extra   any               `json:"extra,omitempty" desc:"Free-form."`
	Flag    bool              `json:"flag,omitempty" desc:"A switch."`
	Small   int8              `json:"small,omitempty" desc:"A small number."`
	private string
}

// Filter is nested in ListInput.
type Filter struct {
	Type  client.TimeFilterType `json:"type" jsonschema:"required" desc:"Time window."`
	Start *time.Time            `json:"start,omitempty" desc:"Window start when type is Custom."`
	End   *time.Time            `json:"end,omitempty" desc:"Window end when type is Custom."`
}

// Rules applies inside the nested object.
func (Filter) Rules() []Rule {
	return []Rule{RequiredWhen{
		When:    map[string]any{"type": client.TimeCustom},
		Require: []string{"start", "end"},
		Why:     "a custom window needs both ends",
	}}
}

// Item is an array element of ListInput.
type Item struct {
	ID string `json:"id" jsonschema:"required" desc:"Item id."`
}

// Check states a rule no schema can: the window must be ordered.
func (in ListInput) Check() error {
	if f := in.Filter; f != nil && f.Start != nil && f.End != nil && f.End.Before(*f.Start) {
		return &ArgError{Field: "filter.end", Kind: KindRule, Problem: "must not be before filter.start"}
	}
	if in.Query == "boom" {
		return errors.New("query boom is reserved")
	}
	return nil
}

// Embedded promotes the fields of an embedded struct.
type Embedded struct {
	Ref
	Note string `json:"note,omitempty" desc:"A note."`
}

// Ref is embedded in Embedded.
type Ref struct {
	ID string `json:"id" jsonschema:"required" desc:"The id."`
}

// Entity is a nested output object with a free-form map.
type Entity struct {
	Kind       string         `json:"kind"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Out is an output struct: open (no required list), null where Go writes null.
type Out struct {
	ID       string                       `json:"id" desc:"Incident id."`
	Status   client.Status                `json:"status"`
	Reason   *client.ClassificationReason `json:"reason"`
	Tags     []string                     `json:"tags"`
	Note     string                       `json:"note,omitempty"`
	Entities []Entity                     `json:"entities,omitempty"`
	Raw      map[string]any               `json:"raw,omitempty"`
	At       time.Time                    `json:"at"`
}
