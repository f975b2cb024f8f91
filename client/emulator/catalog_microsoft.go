package emulator

import "github.com/contraforce/contraforce-mcp/client"

// template is one kind of incident a source raises. Text fields may hold
// placeholders that the generator fills per incident: {user} (UPN), {name}
// (display name), {host}, {ip} (external), {ip2} (internal), {country},
// {file}, {filepath}, {sha256}, {url}, {cmd}, {domain}, {count}, {offense}
// (the incident id). columns lists the evidence columns, separated by ";", as
// "Name:role:type", where role is a placeholder name without braces, or
// "a|b|c" (one picked per row), or a literal.
type template struct {
	title       string
	description string
	severity    client.Severity
	tactics     []string
	alerts      []string
	entities    string // entity kinds: account host ip file url process
	file        string
	url         string
	cmd         string
	evTitle     string
	query       string
	columns     string
}

// catalog lists each source's incident templates.
var catalog = map[client.Source][]template{
	client.SourceSentinel:    sentinelTemplates,
	client.SourceDefenderXDR: defenderTemplates,
	client.SourceQRadar:      qradarTemplates,
	client.SourceSplunk:      splunkTemplates,
	client.SourceCrowdStrike: crowdstrikeTemplates,
	client.SourceSentinelOne: sentinelOneTemplates,
}

const signinColumns = "TimeGenerated:time:datetime;UserPrincipalName:user:string;IPAddress:ip:string;Location:country:string;" +
	"AppDisplayName:Office 365 Exchange Online|Microsoft Teams|Azure Portal|SharePoint Online:string;ResultType:0|50126|50074|50053:string"

var sentinelTemplates = []template{
	{title: "Suspicious sign-in from anonymous IP address", severity: client.SeverityMedium,
		description: "{name} ({user}) signed in from {ip}, an address of an anonymizing network located in {country}. The sign-in succeeded with single-factor authentication.",
		tactics:     []string{"InitialAccess"}, alerts: []string{"Anonymous IP address sign-in", "Sign-in from an unfamiliar location"},
		entities: "account ip", evTitle: "Sign-ins of {user} from anonymizing networks",
		query:   "SigninLogs\n| where TimeGenerated > ago(1d)\n| where UserPrincipalName =~ \"{user}\"\n| where RiskEventTypes_V2 has \"anonymizedIPAddress\"\n| project TimeGenerated, UserPrincipalName, IPAddress, Location, AppDisplayName, ResultType",
		columns: signinColumns},
	{title: "Impossible travel activity", severity: client.SeverityMedium,
		description: "{user} signed in from {country} ({ip}) 47 minutes after a sign-in from Seattle, United States: the distance cannot be covered in that time.",
		tactics:     []string{"InitialAccess"}, alerts: []string{"Impossible travel activity", "Atypical travel"},
		entities: "account ip", evTitle: "Sign-in locations of {user}",
		query:   "SigninLogs\n| where TimeGenerated > ago(2d)\n| where UserPrincipalName =~ \"{user}\"\n| project TimeGenerated, UserPrincipalName, IPAddress, Location = tostring(LocationDetails.countryOrRegion), AppDisplayName, ResultType\n| order by TimeGenerated asc",
		columns: signinColumns},
	{title: "Password spray attack against Entra ID accounts", severity: client.SeverityHigh,
		description: "{count} failed sign-ins (error 50126) against distinct accounts came from {ip} within 10 minutes, followed by a successful sign-in of {user}.",
		tactics:     []string{"CredentialAccess"}, alerts: []string{"Password spray", "Successful sign-in after password spray"},
		entities: "account ip", evTitle: "Failed and successful sign-ins from {ip}",
		query:   "SigninLogs\n| where TimeGenerated > ago(1h)\n| where IPAddress == \"{ip}\"\n| summarize Failures = countif(ResultType == \"50126\"), Successes = countif(ResultType == \"0\") by UserPrincipalName, bin(TimeGenerated, 10m)\n| where Failures > 5",
		columns: "TimeGenerated:time:datetime;UserPrincipalName:user:string;Failures:count:int;Successes:small:int"},
	{title: "Mass download by a single user", severity: client.SeverityMedium,
		description: "{user} downloaded {count} files from the SharePoint Online site Finance-Confidential within 15 minutes, far above the user's baseline.",
		tactics:     []string{"Collection", "Exfiltration"}, alerts: []string{"Mass download by a single user", "Unusual volume of file downloads"},
		entities: "account ip", evTitle: "SharePoint downloads of {user}",
		query:   "OfficeActivity\n| where TimeGenerated > ago(1d)\n| where Operation in (\"FileDownloaded\", \"FileSyncDownloadedFull\")\n| where UserId =~ \"{user}\"\n| summarize Downloads = count() by UserId, ClientIP, Site_Url, bin(TimeGenerated, 15m)",
		columns: "TimeGenerated:time:datetime;UserId:user:string;ClientIP:ip:string;Site_Url:site:string;Downloads:count:int"},
	{title: "New inbox rule forwarding mail to an external address", severity: client.SeverityMedium,
		description: "An inbox rule named \".\" was created in the mailbox of {user} from {ip}. It forwards messages containing \"invoice\" or \"payment\" to an external address and marks them as read.",
		tactics:     []string{"Collection", "Exfiltration"}, alerts: []string{"Suspicious inbox forwarding rule", "Mail forwarding to external domain"},
		entities: "account ip", evTitle: "Inbox rule changes in the mailbox of {user}",
		query:   "OfficeActivity\n| where Operation in (\"New-InboxRule\", \"Set-InboxRule\")\n| where UserId =~ \"{user}\"\n| extend ForwardTo = tostring(parse_json(Parameters)[3].Value)\n| project TimeGenerated, UserId, ClientIP, Operation, ForwardTo",
		columns: "TimeGenerated:time:datetime;UserId:user:string;ClientIP:ip:string;Operation:New-InboxRule|Set-InboxRule:string;ForwardTo:sender:string"},
	{title: "Rare subscription-level operations in Azure", severity: client.SeverityLow,
		description: "{user} performed rarely seen subscription-level operations (roleAssignments/write, virtualMachines/runCommand/action) from {ip}.",
		tactics:     []string{"Persistence", "PrivilegeEscalation"}, alerts: []string{"Rare subscription-level operations in Azure"},
		entities: "account ip", evTitle: "Subscription operations by {user}",
		query:   "AzureActivity\n| where TimeGenerated > ago(14d)\n| where OperationNameValue in~ (\"Microsoft.Authorization/roleAssignments/write\", \"Microsoft.Compute/virtualMachines/runCommand/action\")\n| where Caller =~ \"{user}\"\n| project TimeGenerated, Caller, CallerIpAddress, OperationNameValue, ActivityStatusValue",
		columns: "TimeGenerated:time:datetime;Caller:user:string;CallerIpAddress:ip:string;OperationNameValue:Microsoft.Authorization/roleAssignments/write|Microsoft.Compute/virtualMachines/runCommand/action:string;ActivityStatusValue:Success|Start:string"},
	{title: "Brute force attack against a Windows host (RDP)", severity: client.SeverityMedium,
		description: "{count} failed RDP logons (event 4625, logon type 10) against {host} came from {ip} in 30 minutes.",
		tactics:     []string{"CredentialAccess"}, alerts: []string{"Brute force attack against a Windows host", "Multiple RDP connections from a single IP"},
		entities: "account host ip", evTitle: "Failed RDP logons on {host}",
		query:   "SecurityEvent\n| where TimeGenerated > ago(1h)\n| where EventID == 4625 and LogonType == 10\n| where Computer == \"{host}\"\n| summarize FailedLogons = count() by Computer, IpAddress, TargetAccount, bin(TimeGenerated, 5m)",
		columns: "TimeGenerated:time:datetime;Computer:host:string;IpAddress:ip:string;TargetAccount:user:string;FailedLogons:count:int"},
	{title: "Multistage attack involving compromised account and ransomware", severity: client.SeverityHigh,
		description: "Fusion correlated a suspicious sign-in of {user} from {ip} with ransomware activity on {host}: {file} encrypted files in user shares shortly afterwards.",
		tactics:     []string{"InitialAccess", "Impact"}, alerts: []string{"Suspicious sign-in from anonymous IP address", "Ransomware activity", "Multiple files encrypted"},
		entities: "account host ip file", file: "crypt0r.exe", evTitle: "Alerts correlated by Fusion",
		query:   "SecurityAlert\n| where TimeGenerated > ago(2d)\n| where Entities has \"{host}\" or Entities has \"{user}\"\n| project TimeGenerated, AlertName, ProviderName, CompromisedEntity, AlertSeverity",
		columns: "TimeGenerated:time:datetime;AlertName:Ransomware activity|Anonymous IP address sign-in|Multiple files encrypted:string;ProviderName:ASI Scheduled Alerts|IPC|MDATP:string;CompromisedEntity:host:string;AlertSeverity:High|Medium:string"},
}

var defenderTemplates = []template{
	{title: "Mimikatz credential theft tool", severity: client.SeverityHigh,
		description: "The Mimikatz credential theft tool ran on {host} as {user}. Mimikatz reads passwords and hashes from LSASS memory: the attacker may now hold the credentials of every account that logged on to the device.",
		tactics:     []string{"CredentialAccess"}, alerts: []string{"Mimikatz credential theft tool", "Sensitive credential memory read", "Suspicious access to LSASS service"},
		entities: "account host file process", file: "mimikatz.exe", cmd: `mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit`,
		evTitle: "Process events on {host}",
		query:   "DeviceProcessEvents\n| where Timestamp > ago(1d)\n| where DeviceName =~ \"{host}\"\n| where FileName =~ \"{file}\" or ProcessCommandLine has \"sekurlsa\"\n| project Timestamp, DeviceName, AccountName, FileName, ProcessCommandLine, SHA256",
		columns: "Timestamp:time:datetime;DeviceName:host:string;AccountName:user:string;FileName:file:string;ProcessCommandLine:cmd:string;SHA256:sha256:string"},
	{title: "Multi-stage incident involving Initial access & Lateral movement on one endpoint", severity: client.SeverityHigh,
		description: "A malicious attachment opened on {host} by {user} started a remote service on {ip2} with PsExec. Alerts from Defender for Endpoint and Defender for Office 365 were grouped into this incident.",
		tactics:     []string{"InitialAccess", "Execution", "LateralMovement"}, alerts: []string{"Suspicious Office macro execution", "Remote service creation via PsExec", "Lateral movement using remote logon"},
		entities: "account host ip process", cmd: `PsExec64.exe \\{ip2} -accepteula -s cmd.exe /c whoami`,
		evTitle: "Network logons from {host}",
		query:   "DeviceLogonEvents\n| where Timestamp > ago(2d)\n| where DeviceName =~ \"{host}\" and LogonType in (\"Network\", \"RemoteInteractive\")\n| project Timestamp, DeviceName, AccountName, RemoteIP, LogonType, ActionType",
		columns: "Timestamp:time:datetime;DeviceName:host:string;AccountName:user:string;RemoteIP:ip2:string;LogonType:Network|RemoteInteractive:string;ActionType:LogonSuccess|LogonFailed:string"},
	{title: "Suspicious PowerShell command line", severity: client.SeverityMedium,
		description: "PowerShell ran on {host} with a hidden window and a Base64-encoded command that downloads and runs a remote script, a common technique of commodity loaders.",
		tactics:     []string{"Execution", "DefenseEvasion"}, alerts: []string{"Suspicious PowerShell command line", "Suspicious process executed PowerShell command"},
		entities: "account host process", cmd: "powershell.exe -NoP -W Hidden -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
		evTitle: "Encoded PowerShell on {host}",
		query:   "DeviceProcessEvents\n| where Timestamp > ago(1d)\n| where DeviceName =~ \"{host}\"\n| where FileName =~ \"powershell.exe\" and ProcessCommandLine has_any (\"-enc\", \"-EncodedCommand\")\n| project Timestamp, DeviceName, AccountName, InitiatingProcessFileName, ProcessCommandLine",
		columns: "Timestamp:time:datetime;DeviceName:host:string;AccountName:user:string;InitiatingProcessFileName:winword.exe|explorer.exe|wscript.exe:string;ProcessCommandLine:cmd:string"},
	{title: "Email messages containing malicious URL removed after delivery", severity: client.SeverityMedium,
		description: "Zero-hour auto purge removed {count} email messages containing a malicious URL after delivery, including one in the mailbox of {user}.",
		tactics:     []string{"InitialAccess"}, alerts: []string{"Email messages containing malicious URL removed after delivery", "Phish delivered due to an IP allow policy"},
		entities: "account url", url: "https://contoso-docs.secure-login.example/view?id=8812",
		evTitle: "Messages to {user} with the malicious URL",
		query:   "EmailEvents\n| where Timestamp > ago(1d)\n| where RecipientEmailAddress =~ \"{user}\"\n| join kind=inner EmailUrlInfo on NetworkMessageId\n| where Url has \"secure-login.example\"\n| project Timestamp, SenderFromAddress, RecipientEmailAddress, Subject, DeliveryAction, Url",
		columns: "Timestamp:time:datetime;SenderFromAddress:sender:string;RecipientEmailAddress:user:string;Subject:subject:string;DeliveryAction:Delivered|Blocked|Replaced:string;Url:url:string"},
	{title: "Human-operated ransomware activity on multiple endpoints", severity: client.SeverityHigh,
		description: "Shadow copies were deleted and files renamed with the .lockbit extension on {host} and neighbouring devices; the activity ran as {user}.",
		tactics:     []string{"Impact", "DefenseEvasion", "LateralMovement"}, alerts: []string{"Ransomware behavior detected in the file system", "File backups were deleted", "Suspicious remote activity"},
		entities: "account host file process", file: "svcupdate.exe", cmd: "vssadmin.exe delete shadows /all /quiet",
		evTitle: "Shadow copy deletion and mass renames",
		query:   "DeviceProcessEvents\n| where Timestamp > ago(1d)\n| where ProcessCommandLine has_all (\"vssadmin\", \"delete\", \"shadows\")\n| project Timestamp, DeviceName, AccountName, FileName, ProcessCommandLine, SHA256",
		columns: "Timestamp:time:datetime;DeviceName:host:string;AccountName:user:string;FileName:file:string;ProcessCommandLine:cmd:string;SHA256:sha256:string"},
	{title: "Suspicious scheduled task created", severity: client.SeverityLow,
		description: "A scheduled task masquerading as an Edge updater was created on {host} to run a binary from C:\\Users\\Public at every logon as SYSTEM.",
		tactics:     []string{"Persistence", "PrivilegeEscalation"}, alerts: []string{"Suspicious scheduled task"},
		entities: "account host process", cmd: `schtasks.exe /create /tn "MicrosoftEdgeUpdateCore" /tr "C:\Users\Public\update.exe" /sc onlogon /ru SYSTEM`,
		evTitle: "Scheduled task creation on {host}",
		query:   "DeviceProcessEvents\n| where Timestamp > ago(7d)\n| where DeviceName =~ \"{host}\" and FileName =~ \"schtasks.exe\" and ProcessCommandLine has \"/create\"\n| project Timestamp, DeviceName, AccountName, ProcessCommandLine",
		columns: "Timestamp:time:datetime;DeviceName:host:string;AccountName:user:string;ProcessCommandLine:cmd:string"},
	{title: "User clicked a potentially malicious URL", severity: client.SeverityLow,
		description: "{user} clicked a URL that Safe Links flagged as malicious after delivery: {url}.",
		tactics:     []string{"InitialAccess"}, alerts: []string{"A potentially malicious URL click was detected"},
		entities: "account url", url: "https://sharepoint-files.docs-review.example/s/Q3-bonus.html",
		evTitle: "URL clicks of {user}",
		query:   "UrlClickEvents\n| where Timestamp > ago(1d)\n| where AccountUpn =~ \"{user}\"\n| project Timestamp, AccountUpn, Url, ActionType, IPAddress",
		columns: "Timestamp:time:datetime;AccountUpn:user:string;Url:url:string;ActionType:ClickAllowed|ClickBlocked:string;IPAddress:ip:string"},
}
