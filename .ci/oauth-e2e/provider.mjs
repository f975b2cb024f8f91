// A certified OpenID provider (node-oidc-provider) on loopback, configured as
// an agent platform's identity provider would be for contraforce-mcp:
// dynamic client registration, PKCE, resource indicators (RFC 8707) with JWT
// access tokens for the MCP server's canonical URL, and the server's scopes.
//
// The one user, jane@contoso.com, signs in and consents to whatever is asked
// without a page: the interaction endpoint finishes each prompt at once.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

export const USER = { sub: 'user-jane', email: 'jane@contoso.com', tid: 'contoso' };
const SCOPES = 'incidents:read incidents:write incidents:comments gamebooks:read gamebooks:run';

export async function startProvider({ port, resource }) {
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    // The MCP server's scopes are known here too, so that a client may
    // register for them (dynamic registration checks a client's scope).
    scopes: ['openid', 'offline_access', ...SCOPES.split(' ')],
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => {
          if (indicator !== resource) {
            throw new Error(`unknown resource ${indicator}`);
          }
          return { scope: SCOPES, audience: resource, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    findAccount: async (ctx, id) => (id === USER.sub
      ? { accountId: id, claims: async () => ({ sub: id, email: USER.email }) }
      : undefined),
    // What the MCP server reads: who the user is, and their organisation.
    extraTokenClaims: async (ctx, token) => (token.accountId === USER.sub ? { email: USER.email, tid: USER.tid } : {}),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, Interaction: 600, Session: 3600 },
  });
  provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));

  const callback = provider.callback();
  const server = http.createServer(async (req, res) => {
    if (!req.url.startsWith('/interaction/')) {
      return callback(req, res);
    }
    try {
      const details = await provider.interactionDetails(req, res);
      const { prompt, params } = details;
      if (prompt.name === 'login') {
        await provider.interactionFinished(req, res, { login: { accountId: USER.sub } }, { mergeWithLastSubmission: false });
        return;
      }
      // consent: grant what is missing, as a user clicking "Allow" would.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      console.error('interaction failed:', err);
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    issuer,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

// browse plays the user's browser through an authorization request: it
// follows the provider's redirects (keeping its cookies) until the redirect
// to the client's redirect URI, and returns the authorization code.
export async function browse(authorizationUrl, redirectUri, jar) {
  let url = new URL(authorizationUrl);
  for (let hop = 0; hop < 12; hop++) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      signal: AbortSignal.timeout(10_000),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name); else jar.set(name, value);
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`authorization stopped at ${url} with HTTP ${res.status}: ${(await res.text()).slice(0, 500)}`);
    }
    await res.arrayBuffer();
    const next = new URL(location, url);
    if (next.href.startsWith(redirectUri)) {
      const error = next.searchParams.get('error');
      if (error) throw new Error(`authorization refused: ${error}: ${next.searchParams.get('error_description')}`);
      return next.searchParams.get('code');
    }
    url = next;
  }
  throw new Error('authorization did not reach the redirect URI within 12 redirects');
}
