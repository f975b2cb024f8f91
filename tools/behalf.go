package tools

import "context"

// User is the person an OAuth access token names: a hosted session whose
// request carried such a token acts on their behalf, and says so in every
// comment it writes and in the audit log.
type User struct {
	// Issuer and Subject identify the user for good (the token's iss and sub).
	Issuer  string
	Subject string
	// Name is how the token names the user to people (an email address or
	// user name, as the operator's user claims choose); may be empty.
	Name string
}

// Label is how comments and logs name the user: the name, else the
// subject, cleaned by CleanName (a claim is the identity provider's text,
// and a display name may hold anything, a "]" that would close the
// attribution among it).
func (u *User) Label() string {
	if u == nil {
		return ""
	}
	if s := CleanName(u.Name, 100); s != "" {
		return s
	}
	return CleanName(u.Subject, 100)
}

// attribution names who writes a session's comments: the agent, and the
// user it acts for when an OAuth token named one ("Claude via
// contraforce-mcp on behalf of jane@contoso.com").
func attribution(ctx context.Context, sess *Session) string {
	agent := AgentName(ctx, sess.AgentName)
	if u := sess.OnBehalfOf.Label(); u != "" {
		agent += " on behalf of " + u
	}
	return agent
}
