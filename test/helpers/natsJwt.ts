import { nkeys } from '@nats-io/transport-node';

type KeyPair = ReturnType<typeof nkeys.createOperator>;

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** A NATS JWT (ed25519-nkey) with `claims`, signed by `issuer`. */
function jwtSign(issuer: KeyPair, claims: Record<string, unknown>): string {
  const head = base64url(new TextEncoder().encode(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' })));
  const body = base64url(new TextEncoder().encode(JSON.stringify({ jti: `${Date.now()}-${Math.random()}`, iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), ...claims })));
  return `${head}.${body}.${base64url(issuer.sign(new TextEncoder().encode(`${head}.${body}`)))}`;
}

/**
 * NATS operator mode, as `nsc` would set it up, for tests: an operator, one account it signs, and
 * users that account signs. `configExtra` goes into the nats-server config (a memory resolver
 * preloaded with the account); `credsText()` is a new user's `.creds` file.
 */
export function natsOperatorSetup(): { configExtra: string; credsText: () => string } {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const operatorJwt = jwtSign(operator, { name: 'paxlog-test', sub: operator.getPublicKey(), nats: { type: 'operator', version: 2 } });
  const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const accountJwt = jwtSign(operator, { name: 'paxlog', sub: account.getPublicKey(), nats: { limits, type: 'account', version: 2 } });
  const configExtra = [
    `operator: ${JSON.stringify(operatorJwt)}`,
    'resolver: MEMORY',
    `resolver_preload: { ${account.getPublicKey()}: ${JSON.stringify(accountJwt)} }`,
  ].join('\n');
  const credsText = (): string => {
    const user = nkeys.createUser();
    const userJwt = jwtSign(account, { name: 'replica', sub: user.getPublicKey(), nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: 'user', version: 2 } });
    const seed = new TextDecoder().decode(user.getSeed());
    return `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
  };
  return { configExtra, credsText };
}
