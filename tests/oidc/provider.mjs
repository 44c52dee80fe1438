// The OpenID Provider of the identity tests: panva's oidc-provider (certified) on
// 127.0.0.1:$PORT with issuer http://127.0.0.1:$PORT, one static client (`gatehouse`,
// client_secret_basic, redirect URI $REDIRECT_URI, authorization code with PKCE,
// refresh tokens, client credentials), accounts whose id is the login name (any
// password, the provider's dev login page) with `email` and `groups` claims (`admin`
// is in group `admins`), and access tokens for resource `urn:gatehouse-api` issued
// as JWTs with audience `gatehouse-api`.
//
// With $BACKCHANNEL_URI the client registers it as its `backchannel_logout_uri` (with
// `backchannel_logout_session_required`) and Back-Channel Logout is on: a logout at the
// provider POSTs a logout token there; each delivery prints `BACKCHANNEL ok` or
// `BACKCHANNEL error …`. With $ID_TOKEN_TTL (seconds) ID tokens expire that soon.
// Token revocation (RFC 7009) is on; each token grant prints `GRANT <grant_type>` (or
// `GRANT error …`).
//
// Test hooks, not part of OIDC: `POST /__rotate` replaces the signing keys with new ones
// (new `kid`s) without restarting; each JWKS request prints `JWKS` on stdout; `READY
// <port>` is printed once listening.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
// With $TLS_CERT and $TLS_KEY (PEM files) it serves https, as https://localhost:PORT.
const tls = process.env.TLS_CERT && process.env.TLS_KEY;
const issuer = tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
const redirect = process.env.REDIRECT_URI || `${issuer}/cb`;
let generation = 0;

function keys() {
  generation += 1;
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${generation}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `ec-${generation}`, alg: 'ES256', use: 'sig' },
  ];
}

function account(id) {
  return {
    accountId: id,
    claims: () => ({
      sub: id,
      email: `${id}@example.com`,
      email_verified: true,
      name: id,
      groups: id === 'admin' ? ['staff', 'admins'] : ['staff'],
    }),
  };
}

function make() {
  const alg = process.env.ACCESS_ALG || 'RS256';
  const p = new Provider(issuer, {
    clients: [{
      client_id: 'gatehouse',
      client_secret: 'gatehouse-secret-0123456789',
      redirect_uris: [redirect],
      post_logout_redirect_uris: [`${new URL(redirect).origin}/`],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      ...(process.env.BACKCHANNEL_URI ? {
        backchannel_logout_uri: process.env.BACKCHANNEL_URI,
        backchannel_logout_session_required: true,
      } : {}),
    }],
    jwks: { keys: keys() },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    ...(process.env.ID_TOKEN_TTL ? { ttl: { IdToken: Number(process.env.ID_TOKEN_TTL) } } : {}),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups', 'api'],
    conformIdTokenClaims: false,
    findAccount: (ctx, id) => account(id),
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: Boolean(process.env.BACKCHANNEL_URI) },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:gatehouse-api',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api',
          audience: 'gatehouse-api',
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg } },
        }),
      },
    },
  });
  p.proxy = false;
  p.on('grant.success', (ctx) => console.log(`GRANT ${ctx.oidc.params.grant_type}`));
  p.on('grant.error', (ctx, err) => console.log(`GRANT error ${ctx.oidc.params && ctx.oidc.params.grant_type} ${err.message}`));
  p.on('backchannel.success', () => console.log('BACKCHANNEL ok'));
  p.on('backchannel.error', (ctx, err) => console.log(`BACKCHANNEL error ${err.message}`));
  return p;
}

let current = make();
const handler = (req, res) => {
  if (req.method === 'POST' && req.url === '/__rotate') {
    current = make();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`rotated ${generation}\n`);
    return;
  }
  if (req.url.startsWith('/jwks')) {
    console.log('JWKS');
  }
  current.callback()(req, res);
};
const server = tls
  ? https.createServer({ cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) }, handler)
  : http.createServer(handler);
server.listen(port, '127.0.0.1', () => console.log(`READY ${port}`));
