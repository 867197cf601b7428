// Local OpenID Provider for the sign-in tests (oidc-provider 9.x, notes/auth.md section 4).
// Auto-approves login and consent; the user is the `login_hint` (alice, bob, mallory).
// Environment: PORT, ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS (comma-separated),
// JWKS_FILE (optional fixed keys), DEFAULT_USER.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const env = process.env;
const PORT = Number(env.PORT ?? 9090);
const ISSUER = env.ISSUER ?? `http://127.0.0.1:${PORT}`;
const USERS = {
  alice: { email: 'alice@example.test', email_verified: true, name: 'Alice Owner' },
  bob: { email: 'bob@example.test', email_verified: true, name: 'Bob Member' },
  mallory: { email: 'mallory@example.test', email_verified: false, name: 'Mallory Unverified' },
};
const provider = new Provider(ISSUER, {
  ...(env.JWKS_FILE ? { jwks: JSON.parse(readFileSync(env.JWKS_FILE, 'utf8')) } : {}),
  clients: [{
    client_id: env.CLIENT_ID ?? 'saas-test',
    client_secret: env.CLIENT_SECRET ?? 'saas-test-secret-0123456789abcdef',
    redirect_uris: (env.REDIRECT_URIS ?? 'http://127.0.0.1:8080/api/v2/auth/oidc/callback').split(','),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', // oauth2 crate default
  }],
  pkce: { required: () => true },               // v9 accepts S256 only
  features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,                  // email/name inside the ID token, like Google
  cookies: { keys: ['local-test-cookie-key-not-secret'] },
  ttl: { AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60, Interaction: 600,
         Session: 3600, Grant: 7 * 86400, RefreshToken: 7 * 86400 },
  rotateRefreshToken: true,
  async findAccount(ctx, sub) {
    return USERS[sub] && { accountId: sub, claims: async () => ({ sub, ...USERS[sub] }) };
  },
});

provider.use(async (ctx, next) => {             // replaces the HTML login/consent pages
  if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session, grantId } = details;
  if (prompt.name === 'login') {
    const accountId = USERS[params.login_hint] ? params.login_hint : (env.DEFAULT_USER ?? 'alice');
    return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }
  const grant = grantId ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const d = prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [ind, sc] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(ind, sc.join(' '));
  const newId = await grant.save();
  return provider.interactionFinished(ctx.req, ctx.res, { consent: grantId ? {} : { grantId: newId } }, { mergeWithLastSubmission: true });
});
provider.listen(PORT, '127.0.0.1', () => console.log(`oidc-provider listening at ${ISSUER}`));
