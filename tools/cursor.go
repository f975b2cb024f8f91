package tools

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/schema"
)

// cursor is list_incidents' position: the filters of the first page, the
// API's page token, and how many rows of that API page were already shown
// (the tool's pages need not match the API's). It travels to the agent as
// base64url JSON: opaque to the agent, but holding nothing secret, and
// checked like any argument when it comes back.
type cursor struct {
	Filter client.IncidentFilter `json:"f"`
	Page   client.PageToken      `json:"p"`
	Skip   int                   `json:"s,omitempty"`
}

// maxCursor bounds an encoded cursor (the schema says the same).
const maxCursor = 16384

// maxSeen bounds the row digests a cursor's page token may carry (the
// client keeps eight).
const maxSeen = 16

func (c cursor) encode() string {
	raw, _ := json.Marshal(c) // plain data: cannot fail
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor parses and checks a cursor; the error says what is wrong
// without echoing the input.
func decodeCursor(s string) (cursor, error) {
	var c cursor
	if len(s) > maxCursor {
		return c, errors.New("cursor is too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, errors.New("cursor is not one this server issued (bad encoding)")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return c, errors.New("cursor is not one this server issued (bad content)")
	}
	if err := checkCursor(c); err != nil {
		return c, fmt.Errorf("cursor is not one this server issued (%v)", err)
	}
	return c, nil
}

// checkCursor validates what a cursor carries: its filters by the very
// rules list_incidents applies to its arguments (the filter's JSON names are
// the arguments' names), so a forged cursor can smuggle nothing an agent
// could not pass directly.
func checkCursor(c cursor) error {
	if c.Skip < 0 || c.Skip > 10000 {
		return errors.New("bad offset")
	}
	if c.Page.IsZero() && c.Skip == 0 {
		return errors.New("no position")
	}
	raw, err := json.Marshal(c.Filter)
	if err != nil {
		return errors.New("bad filters")
	}
	if _, err := schema.Decode[ListIncidentsInput](json.RawMessage(raw)); err != nil {
		return errors.New("bad filters")
	}
	for _, w := range c.Page.WorkspacePageTokens {
		for src := range w.SourceTokens {
			if !src.Valid() {
				return errors.New("bad page token")
			}
		}
	}
	// Seen holds the row digests client.ListIncidents put there: a few
	// short hex strings.
	if len(c.Page.Seen) > maxSeen {
		return errors.New("bad page token")
	}
	for _, d := range c.Page.Seen {
		if len(d) == 0 || len(d) > 16 || strings.Trim(d, "0123456789abcdef") != "" {
			return errors.New("bad page token")
		}
	}
	return nil
}
