package client

// The API's enumerations, as the current endpoint pages of
// https://docs.contraforce.com/api-reference list them and in the order they
// list them. Each allowed value is written exactly once, as a constant, and
// each type's Values method lists those constants: the JSON Schemas of the
// MCP tools (package schema), argument validation, the emulator and the
// resources' reference text all derive from these lists. Values that only an
// older page had (time windows SevenDays and ThirtyDays, the reason
// ConfirmedActivity) are not offered.

// Source is the product an incident comes from. It is a path segment of every
// per-incident endpoint: an incident is identified by (workspaceId, source,
// incidentId). Order: the path enum of the incident endpoint pages.
type Source string

// The sources ContraForce aggregates.
const (
	SourceSentinel    Source = "Sentinel"
	SourceDefenderXDR Source = "DefenderXDR"
	SourceQRadar      Source = "QRadar"
	SourceSplunk      Source = "Splunk"
	SourceCrowdStrike Source = "CrowdStrike"
	SourceSentinelOne Source = "SentinelOne"
)

// Values lists every Source.
func (Source) Values() []Source {
	return []Source{SourceSentinel, SourceDefenderXDR, SourceQRadar, SourceSplunk, SourceCrowdStrike, SourceSentinelOne}
}

// RecordsClassification reports whether the source keeps the classification
// and classification reason sent when an incident is closed. The status
// page says Sentinel requires them and that sources without classifications
// ignore them, without naming those sources; this project holds that
// Sentinel and Defender XDR (whose incidents carry a verdict of their own)
// record them, and that QRadar, Splunk, CrowdStrike and SentinelOne do not:
// a verdict for those belongs in the closing comment.
func (s Source) RecordsClassification() bool {
	return s == SourceSentinel || s == SourceDefenderXDR
}

// SourcesWithClassification lists the sources that record a
// classification (see RecordsClassification), in documented order.
func SourcesWithClassification() []Source { return sourcesRecording(true) }

// SourcesWithoutClassification lists the sources that do not record a
// classification (see RecordsClassification), in documented order.
func SourcesWithoutClassification() []Source { return sourcesRecording(false) }

func sourcesRecording(records bool) []Source {
	var out []Source
	for _, s := range Source("").Values() {
		if s.RecordsClassification() == records {
			out = append(out, s)
		}
	}
	return out
}

// Status is an incident's lifecycle state.
type Status string

// Incident statuses.
const (
	StatusActive Status = "Active"
	StatusNew    Status = "New"
	StatusClosed Status = "Closed"
)

// Values lists every Status in the status page's order.
func (Status) Values() []Status { return []Status{StatusActive, StatusNew, StatusClosed} }

// Severity is an incident's or alert's severity.
type Severity string

// Severities, least to most severe. The list page's example shows the first
// (Informational); its option list is cut, and the older pages list these four.
const (
	SeverityInformational Severity = "Informational"
	SeverityLow           Severity = "Low"
	SeverityMedium        Severity = "Medium"
	SeverityHigh          Severity = "High"
)

// Values lists every Severity, least to most severe.
func (Severity) Values() []Severity {
	return []Severity{SeverityInformational, SeverityLow, SeverityMedium, SeverityHigh}
}

// Classification is the verdict sent when an incident is closed: the status
// page's list, one union for every source. Which values each source accepts
// is not documented; see Source.RecordsClassification.
type Classification string

// Classifications of the v2 status endpoint.
const (
	ClassificationBenignPositive                Classification = "BenignPositive"
	ClassificationFalsePositive                 Classification = "FalsePositive"
	ClassificationTruePositive                  Classification = "TruePositive"
	ClassificationUndetermined                  Classification = "Undetermined"
	ClassificationInformationalExpectedActivity Classification = "InformationalExpectedActivity"
	ClassificationUnknown                       Classification = "Unknown"
	ClassificationNonIssue                      Classification = "NonIssue"
	ClassificationPolicyViolation               Classification = "PolicyViolation"
	ClassificationQradarFalsePositive           Classification = "QradarFalsePositive"
	ClassificationUndefined                     Classification = "Undefined"
	ClassificationSuspicious                    Classification = "Suspicious"
)

// Values lists every Classification.
func (Classification) Values() []Classification {
	return []Classification{
		ClassificationBenignPositive, ClassificationFalsePositive, ClassificationTruePositive,
		ClassificationUndetermined, ClassificationInformationalExpectedActivity, ClassificationUnknown,
		ClassificationNonIssue, ClassificationPolicyViolation, ClassificationQradarFalsePositive,
		ClassificationUndefined, ClassificationSuspicious,
	}
}

// ClassificationReason qualifies a Classification (the status page's list).
type ClassificationReason string

// Classification reasons of the v2 status endpoint.
const (
	ReasonInaccurateData            ClassificationReason = "InaccurateData"
	ReasonIncorrectAlertLogic       ClassificationReason = "IncorrectAlertLogic"
	ReasonSuspiciousActivity        ClassificationReason = "SuspiciousActivity"
	ReasonSuspiciousButExpected     ClassificationReason = "SuspiciousButExpected"
	ReasonUnknown                   ClassificationReason = "Unknown"
	ReasonApt                       ClassificationReason = "Apt"
	ReasonMalware                   ClassificationReason = "Malware"
	ReasonSecurityPersonnel         ClassificationReason = "SecurityPersonnel"
	ReasonSecurityTesting           ClassificationReason = "SecurityTesting"
	ReasonUnwantedSoftware          ClassificationReason = "UnwantedSoftware"
	ReasonOther                     ClassificationReason = "Other"
	ReasonMultistagedAttack         ClassificationReason = "MultistagedAttack"
	ReasonCompromisedUser           ClassificationReason = "CompromisedUser"
	ReasonPhishing                  ClassificationReason = "Phishing"
	ReasonMaliciousUserActivity     ClassificationReason = "MaliciousUserActivity"
	ReasonNotMalicious              ClassificationReason = "NotMalicious"
	ReasonNoEnoughDataToValidate    ClassificationReason = "NoEnoughDataToValidate"
	ReasonConfirmedUserActivity     ClassificationReason = "ConfirmedUserActivity"
	ReasonLineOfBusinessApplication ClassificationReason = "LineOfBusinessApplication"
)

// Values lists every ClassificationReason.
func (ClassificationReason) Values() []ClassificationReason {
	return []ClassificationReason{
		ReasonInaccurateData, ReasonIncorrectAlertLogic, ReasonSuspiciousActivity, ReasonSuspiciousButExpected,
		ReasonUnknown, ReasonApt, ReasonMalware, ReasonSecurityPersonnel, ReasonSecurityTesting,
		ReasonUnwantedSoftware, ReasonOther, ReasonMultistagedAttack, ReasonCompromisedUser, ReasonPhishing,
		ReasonMaliciousUserActivity, ReasonNotMalicious, ReasonNoEnoughDataToValidate,
		ReasonConfirmedUserActivity, ReasonLineOfBusinessApplication,
	}
}

// TimeFilterType selects the time window of a list call. The list page's
// option list is cut; its example shows ThreeHours, the first value of the
// TimeFilteringType enum that the agent-tool pages list in full, so this is
// that list (the misspelt "FourtyEightHours" is the API's own spelling).
type TimeFilterType string

// Time windows of the list-across-workspaces call.
const (
	TimeThreeHours       TimeFilterType = "ThreeHours"
	TimeSixHours         TimeFilterType = "SixHours"
	TimeTwelveHours      TimeFilterType = "TwelveHours"
	TimeTwentyFourHours  TimeFilterType = "TwentyFourHours"
	TimeFourtyEightHours TimeFilterType = "FourtyEightHours"
	TimeCustom           TimeFilterType = "Custom"
)

// Values lists every TimeFilterType, shortest window first, Custom last.
func (TimeFilterType) Values() []TimeFilterType {
	return []TimeFilterType{TimeThreeHours, TimeSixHours, TimeTwelveHours, TimeTwentyFourHours,
		TimeFourtyEightHours, TimeCustom}
}

// Scope is a permission of a service-account credential, "{resource}:{action}".
type Scope string

// The scopes. incidents:read and org:service-accounts:manage are on the
// vendor's pages; incidents:write and incidents:comments on its older
// models page. The gamebook scopes are this project's choice: no page names
// the scopes of the gamebook endpoints, and the pattern is
// {resource}:{action}. The users endpoints need incidents:read (the
// emulator's decision: who can take an incident is part of reading it).
const (
	ScopeIncidentsRead         Scope = "incidents:read"
	ScopeIncidentsWrite        Scope = "incidents:write"
	ScopeIncidentsComments     Scope = "incidents:comments"
	ScopeGamebooksRead         Scope = "gamebooks:read"
	ScopeGamebooksRun          Scope = "gamebooks:run"
	ScopeServiceAccountsManage Scope = "org:service-accounts:manage"
)

// Values lists every Scope.
func (Scope) Values() []Scope {
	return []Scope{ScopeIncidentsRead, ScopeIncidentsWrite, ScopeIncidentsComments, ScopeGamebooksRead, ScopeGamebooksRun,
		ScopeServiceAccountsManage}
}

// WorkspaceRole is a role a user or service account holds on a workspace.
type WorkspaceRole string

// Workspace roles. Every role but WorkspaceReader may change incidents.
const (
	RoleOwner             WorkspaceRole = "Owner"
	RoleContentAdmin      WorkspaceRole = "ContentAdmin"
	RoleIncidentResponder WorkspaceRole = "IncidentResponder"
	RoleIncidentAnalyst   WorkspaceRole = "IncidentAnalyst"
	RoleWorkspaceReader   WorkspaceRole = "WorkspaceReader"
)

// Values lists every WorkspaceRole.
func (WorkspaceRole) Values() []WorkspaceRole {
	return []WorkspaceRole{RoleOwner, RoleContentAdmin, RoleIncidentResponder, RoleIncidentAnalyst, RoleWorkspaceReader}
}

// CanWrite reports whether the role may change incidents.
func (r WorkspaceRole) CanWrite() bool { return r != RoleWorkspaceReader && valid(r) }

// CanRunGamebooks reports whether the role may run response actions: the
// vendor's guide asks for "Incident Responder role or higher", and the
// roles are listed highest first.
func (r WorkspaceRole) CanRunGamebooks() bool {
	return r == RoleOwner || r == RoleContentAdmin || r == RoleIncidentResponder
}

// TriggerType says how an agent's gamebook submission was triggered (the
// submit-gamebook page): OnQueue is gated by the workspace's per-severity
// Gamebooks settings; ManualInvestigateAndRespond, an operator's request,
// is always allowed.
type TriggerType string

// Trigger types of the submit-gamebook body.
const (
	TriggerOnQueue                     TriggerType = "OnQueue"
	TriggerManualInvestigateOnly       TriggerType = "ManualInvestigateOnly"
	TriggerManualInvestigateAndRespond TriggerType = "ManualInvestigateAndRespond"
)

// Values lists every TriggerType.
func (TriggerType) Values() []TriggerType {
	return []TriggerType{TriggerOnQueue, TriggerManualInvestigateOnly, TriggerManualInvestigateAndRespond}
}

// enum is implemented by every enumeration type above.
type enum[T ~string] interface {
	~string
	Values() []T
}

// valid reports whether v is one of its type's values.
func valid[T enum[T]](v T) bool {
	for _, x := range v.Values() {
		if x == v {
			return true
		}
	}
	return false
}

// Valid reports whether s is a known Source.
func (s Source) Valid() bool { return valid(s) }

// Valid reports whether s is a known Status.
func (s Status) Valid() bool { return valid(s) }

// Valid reports whether s is a known Severity.
func (s Severity) Valid() bool { return valid(s) }

// Valid reports whether c is a known Classification.
func (c Classification) Valid() bool { return valid(c) }

// Valid reports whether r is a known ClassificationReason.
func (r ClassificationReason) Valid() bool { return valid(r) }

// Valid reports whether t is a known TimeFilterType.
func (t TimeFilterType) Valid() bool { return valid(t) }

// Valid reports whether s is a known Scope.
func (s Scope) Valid() bool { return valid(s) }

// Valid reports whether r is a known WorkspaceRole.
func (r WorkspaceRole) Valid() bool { return valid(r) }

// Valid reports whether t is a known TriggerType.
func (t TriggerType) Valid() bool { return valid(t) }

// EnumStrings returns the allowed values of an enumeration type as strings,
// in their documented order: EnumStrings[Source]() lists the six sources.
func EnumStrings[T enum[T]]() []string {
	var zero T
	return Strings(zero.Values())
}

// Strings returns enumeration values as strings, in the order given:
// Strings(SourcesWithoutClassification()) for a text that names them.
func Strings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
