// A server's side of gatehouse's identity assertion, with a JOSE library a server would
// use (panva's `jose`, installed with oidc-provider and pinned by package-lock.json):
// fetches the JWKS at $JWKS_URL and verifies $TOKEN (ES256, `iss` $ISSUER, `aud`
// $AUDIENCE). Prints one JSON object: `{ok, payload, header}` or `{ok: false, error}`.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const env = process.env;
try {
  const jwks = createRemoteJWKSet(new URL(env.JWKS_URL));
  const { payload, protectedHeader } = await jwtVerify(env.TOKEN, jwks, {
    issuer: env.ISSUER,
    audience: env.AUDIENCE,
    algorithms: ['ES256'],
    maxTokenAge: '60s',
  });
  console.log(JSON.stringify({ ok: true, payload, header: protectedHeader }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String((e && e.code) || e) }));
}
