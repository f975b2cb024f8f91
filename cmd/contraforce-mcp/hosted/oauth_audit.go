package hosted

import "github.com/contraforce/contraforce-mcp/tools"

// AuditUser is the user of an OAuth access token, in an audit record: the
// issuer and subject identify them for good, the name is for people.
type AuditUser struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	Name    string `json:"name,omitempty"`
}

// auditUser records u (nil: no user).
func auditUser(u *tools.User) *AuditUser {
	if u == nil {
		return nil
	}
	return &AuditUser{Issuer: clip(u.Issuer, 200), Subject: clip(u.Subject, 200), Name: u.Label()}
}
