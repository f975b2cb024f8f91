// End to end: an agent platform signs in to contraforce-mcp with OAuth.
//
// Starts oidc-provider on loopback and `contraforce-mcp serve --demo` (the
// binary in CONTRAFORCE_MCP_BIN) trusting it, then drives the official MCP
// TypeScript SDK client through discovery (RFC 9728 metadata from the 401),
// dynamic registration, authorization with PKCE and a resource indicator,
// tool calls, and a step-up to a further scope on a 403 insufficient_scope.
// Every wait is bounded; everything started is stopped.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, discoverAuthorizationServerMetadata, registerClient, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { startProvider, browse, USER } from './provider.mjs';

const BIN = process.env.CONTRAFORCE_MCP_BIN;
if (!BIN) throw new Error('set CONTRAFORCE_MCP_BIN to the contraforce-mcp binary');

let passed = 0;
function check(cond, what, detail = '') {
  if (!cond) throw new Error(`FAILED: ${what}${detail ? `: ${detail}` : ''}`);
  passed++;
  console.log(`ok ${passed} - ${what}`);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The MCP client's OAuth state, in memory, as a platform would keep it.
class MemoryOAuthProvider {
  constructor(redirectUrl) {
    this._redirectUrl = redirectUrl;
    this.authorizationUrl = undefined;
  }
  get redirectUrl() { return this._redirectUrl; }
  get clientMetadata() {
    return {
      client_name: 'contraforce-mcp e2e agent platform',
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this._client; }
  saveClientInformation(info) { this._client = info; }
  tokens() { return this._tokens; }
  saveTokens(tokens) { this._tokens = tokens; }
  redirectToAuthorization(url) { this.authorizationUrl = url; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
}

function scopesOf(accessToken) {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
  return payload;
}

async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  const [idpPort, mcpPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${mcpPort}`;
  const resource = base; // the canonical URL: both /mcp and /sse live under it
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cf-oauth-e2e-'));
  const auditLog = path.join(tmp, 'audit.jsonl');
  const cleanup = [];
  try {
    const idp = await startProvider({ port: idpPort, resource });
    cleanup.push(() => idp.close());
    console.log(`oidc-provider at ${idp.issuer}`);

    const serve = spawn(BIN, [
      'serve', '--demo', '--addr', `127.0.0.1:${mcpPort}`,
      '--oauth-issuer', idp.issuer, '--oauth-resource', resource,
      '--audit-log', auditLog, '--log-level', 'info',
      // The credential may read gamebooks: a token asks for that scope apart.
      '--scopes', 'incidents:read,incidents:write,incidents:comments,gamebooks:read',
    ], { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    serve.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => serve.once('exit', (code, signal) => resolve({ code, signal })));
    cleanup.push(async () => {
      serve.kill('SIGTERM');
      const timer = setTimeout(() => serve.kill('SIGKILL'), 20_000);
      const { code, signal } = await exited;
      clearTimeout(timer);
      console.log(`serve exited (code ${code}, signal ${signal})`);
    });

    // Up within 30 s: /healthz answers.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`serve did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`contraforce-mcp serve at ${base}`);

    // 1. Without a token: 401 and where to start.
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    const post = (headers) => fetch(`${base}/mcp`, {
      method: 'POST', body: JSON.stringify(init), signal: AbortSignal.timeout(10_000),
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    });
    let res = await post({});
    const challenge = res.headers.get('www-authenticate') ?? '';
    check(res.status === 401 && challenge.includes(`resource_metadata="${base}/.well-known/oauth-protected-resource"`),
      'a request without a token gets 401 naming the protected resource metadata', `${res.status} ${challenge}`);
    const prm = await (await fetch(`${base}/.well-known/oauth-protected-resource`, { signal: AbortSignal.timeout(10_000) })).json();
    check(prm.resource === resource && prm.authorization_servers?.[0] === idp.issuer &&
      ['incidents:read', 'incidents:write', 'incidents:comments', 'gamebooks:read', 'gamebooks:run'].every((s) => prm.scopes_supported?.includes(s)),
      'the protected resource metadata names the resource, the issuer and the scopes', JSON.stringify(prm));
    // The first challenge asks for the incident scopes; the gamebook scopes
    // are asked for when a gamebook tool needs them (step-up).
    const asked = /scope="([^"]*)"/.exec(challenge)?.[1] ?? '';
    check(asked === 'incidents:read incidents:write incidents:comments',
      'the 401 asks for the incident scopes', challenge);

    // 2. The SDK connects, gets the 401, and runs the flow by itself:
    //    metadata, dynamic registration, authorization with PKCE and the
    //    resource indicator. The user (the provider's page) consents.
    const redirectUri = 'http://127.0.0.1:1/callback'; // never called: the code is read off the redirect
    const jar = new Map();
    const url = new URL(`${base}/mcp`);
    const oauth = new MemoryOAuthProvider(redirectUri);
    let client = new Client({ name: 'e2e-agent-platform', version: '1.0.0' });
    let transport = new StreamableHTTPClientTransport(url, { authProvider: oauth });
    const refused = await withTimeout(client.connect(transport).then(() => null, (err) => err), 30_000, 'first connect');
    check(refused instanceof UnauthorizedError && oauth.authorizationUrl && oauth._client?.client_id,
      'the SDK discovered the authorization server from the 401 and registered itself dynamically', String(refused));
    let authzUrl = new URL(oauth.authorizationUrl);
    check(authzUrl.searchParams.get('resource') === resource && authzUrl.searchParams.get('code_challenge_method') === 'S256' &&
      authzUrl.searchParams.get('scope') === asked,
      'the authorization request carries the resource indicator, PKCE and the scopes the server asked for', authzUrl.search);
    let code = await withTimeout(browse(oauth.authorizationUrl, redirectUri, jar), 30_000, 'browser');
    await withTimeout(transport.finishAuth(code), 30_000, 'token');
    const full = scopesOf(oauth.tokens().access_token);
    check(full.aud === resource && full.iss === idp.issuer && full.email === USER.email,
      'the access token is a JWT of the provider for this server, naming the user', JSON.stringify(full));
    client = new Client({ name: 'e2e-agent-platform', version: '1.0.0' });
    transport = new StreamableHTTPClientTransport(url, { authProvider: oauth });
    await withTimeout(client.connect(transport), 30_000, 'connect');
    let tools = (await client.listTools()).tools.map((t) => t.name).sort();
    check(JSON.stringify(tools) === JSON.stringify(['add_comment', 'assign', 'bulk_update', 'find_related_incidents', 'get_incident',
      'list_incidents', 'list_users', 'update_status', 'whoami']),
      'a token with the incident scopes is offered the incident tools, and no gamebook tool', tools.join(', '));
    const list = await client.callTool({ name: 'list_incidents', arguments: { limit: 25 } });
    const incidents = list.structuredContent?.incidents ?? [];
    check(!list.isError && incidents.length > 0, 'list_incidents answers on the demo data', JSON.stringify(list.content).slice(0, 300));
    // The demo credential only reads some workspaces: comment on the first
    // incident it may change.
    let ref;
    let added;
    for (const inc of incidents) {
      ref = { workspaceId: inc.workspaceId, source: inc.source, incidentId: inc.incidentId };
      added = await client.callTool({ name: 'add_comment', arguments: { ...ref, content: 'Sign-in logs checked: the user was travelling.' } });
      if (!(added.isError && JSON.stringify(added.content).includes('INSUFFICIENT_WORKSPACE_ROLE'))) break;
    }
    const text = added.structuredContent?.comment?.message ?? JSON.stringify(added.content);
    check(!added.isError && text.includes(`on behalf of ${USER.email}]`),
      'the comment is written, attributed to the agent on behalf of the user', text);
    await client.close();

    // 3. A cautious platform asks for reading only; the session is offered
    //    the read tools only. It registered for every scope the server
    //    supports, to step up later: a provider such as this one refuses a
    //    client any scope outside its registration, and the SDK registers
    //    with the first challenge's scopes.
    const narrow = new MemoryOAuthProvider(redirectUri);
    const asMeta = await discoverAuthorizationServerMetadata(idp.issuer);
    narrow.saveClientInformation(await registerClient(idp.issuer, {
      metadata: asMeta, clientMetadata: narrow.clientMetadata, scope: prm.scopes_supported.join(' '),
    }));
    let result = await withTimeout(auth(narrow, { serverUrl: url, scope: 'incidents:read' }), 30_000, 'authorization (read)');
    code = await withTimeout(browse(narrow.authorizationUrl, redirectUri, jar), 30_000, 'browser (read)');
    result = await withTimeout(auth(narrow, { serverUrl: url, authorizationCode: code }), 30_000, 'token (read)');
    check(result === 'AUTHORIZED' && scopesOf(narrow.tokens().access_token).scope === 'incidents:read',
      'a token with the read scope only', scopesOf(narrow.tokens().access_token).scope);
    client = new Client({ name: 'e2e-agent-platform', version: '1.0.0' });
    transport = new StreamableHTTPClientTransport(url, { authProvider: narrow });
    await withTimeout(client.connect(transport), 30_000, 'connect (read)');
    tools = (await client.listTools()).tools.map((t) => t.name).sort();
    check(JSON.stringify(tools) === JSON.stringify(['find_related_incidents', 'get_incident', 'list_incidents', 'list_users', 'whoami']),
      'an incidents:read token is offered the read tools only', tools.join(', '));

    // 4. A call outside the token's scopes: 403 insufficient_scope, the SDK
    //    asks the user for the scope (step-up), and the call goes through.
    narrow.authorizationUrl = undefined;
    const comment = { name: 'add_comment', arguments: { ...ref, content: 'Stepped up to comment.' } };
    const stepErr = await client.callTool(comment).then(() => null, (err) => err);
    const stepUrl = narrow.authorizationUrl && new URL(narrow.authorizationUrl);
    check(stepErr instanceof UnauthorizedError && stepUrl?.searchParams.get('scope')?.split(' ').includes('incidents:comments'),
      'add_comment is refused 403 insufficient_scope, and the SDK asks the user for incidents:comments', `${stepErr} ${stepUrl?.search}`);
    code = await withTimeout(browse(narrow.authorizationUrl, redirectUri, jar), 30_000, 'browser (step-up)');
    await withTimeout(transport.finishAuth(code), 30_000, 'token (step-up)');
    const stepped = scopesOf(narrow.tokens().access_token).scope.split(' ');
    check(stepped.includes('incidents:comments') && stepped.includes('incidents:read'),
      'the new token holds the read scope and the comment scope', stepped.join(' '));
    const again = await client.callTool(comment);
    check(!again.isError, 'the call goes through with the new token', JSON.stringify(again.content).slice(0, 300));
    tools = (await client.listTools()).tools.map((t) => t.name).sort();
    check(tools.includes('add_comment') && !tools.includes('update_status'),
      'the session now offers add_comment, and still not the tools of incidents:write', tools.join(', '));

    // The gamebook tools follow their own scope the same way.
    narrow.authorizationUrl = undefined;
    const gamebooks = { name: 'list_gamebooks', arguments: ref };
    const gbErr = await client.callTool(gamebooks).then(() => null, (err) => err);
    const gbUrl = narrow.authorizationUrl && new URL(narrow.authorizationUrl);
    check(gbErr instanceof UnauthorizedError && gbUrl?.searchParams.get('scope')?.split(' ').includes('gamebooks:read'),
      'list_gamebooks is refused 403 insufficient_scope, and the SDK asks the user for gamebooks:read', `${gbErr} ${gbUrl?.search}`);
    code = await withTimeout(browse(narrow.authorizationUrl, redirectUri, jar), 30_000, 'browser (gamebooks)');
    await withTimeout(transport.finishAuth(code), 30_000, 'token (gamebooks)');
    const proposed = await client.callTool(gamebooks);
    check(!proposed.isError && Array.isArray(proposed.structuredContent?.gamebooks),
      'list_gamebooks answers with the new token', JSON.stringify(proposed.content).slice(0, 300));

    // 5. The audit log names the user.
    const records = readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const rec = records.findLast((r) => r.tool === 'add_comment');
    check(rec?.outcome === 'ok' && rec.onBehalfOf?.name === USER.email && rec.onBehalfOf?.subject === USER.sub && rec.onBehalfOf?.issuer === idp.issuer,
      'the audit record names the user (issuer, subject, email)', JSON.stringify(rec?.onBehalfOf));

    // 6. The demo's static token works beside OAuth.
    const token = /Bearer (cfmcp_[A-Za-z0-9_-]+)/.exec(stderr)?.[1];
    res = await post({ authorization: `Bearer ${token}` });
    check(token && res.status === 200, 'the static demo token is still accepted', String(res.status));
    res = await post({ authorization: `Bearer ${oauth.tokens().access_token}x` });
    check(res.status === 401 && (res.headers.get('www-authenticate') ?? '').includes('error="invalid_token"'),
      'a tampered access token is refused 401 invalid_token', res.headers.get('www-authenticate'));

    await client.close();
  } finally {
    for (const c of cleanup.reverse()) {
      await c().catch((err) => console.error('cleanup:', err));
    }
    rmSync(tmp, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => { console.error('oauth e2e: watchdog fired after 240 s'); process.exit(1); }, 240_000);
main().then(() => {
  clearTimeout(watchdog);
  console.log(`oauth e2e: ${passed} passed, 0 failed`);
}, (err) => {
  clearTimeout(watchdog);
  console.error(err);
  console.log(`oauth e2e: ${passed} passed, 1 failed`);
  process.exitCode = 1;
});
