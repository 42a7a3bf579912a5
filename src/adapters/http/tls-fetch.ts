import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { ConfigError } from '../../errors';
import { HttpFailure } from './json-http';

/**
 * A `fetch` for json-http (its `fetchImpl`) that talks TLS the way the operator configured it: the
 * system CAs plus an optional CA file, verification on unless explicitly turned off, and answers capped
 * in size (a SIEM listing is large, but a proxy looping a stream must not fill the memory). An answer
 * over the cap is an HttpFailure ('rejected'), which json-http passes through without retrying.
 */

export interface TlsFetchOptions {
  /** false: the certificate is not verified (an explicit, loudly logged opt-out). */
  verify: boolean;
  caFile?: string;
  /** Setting names for the errors, e.g. ELASTIC_SECURITY_CA_CERT. */
  caSetting: string;
  maxResponseBytes: number;
}

export interface TlsFetch {
  fetch: typeof fetch;
  close(): Promise<void>;
}

export function createTlsFetch(options: TlsFetchOptions): TlsFetch {
  let ca: Buffer | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile);
    } catch (err) {
      throw new ConfigError(`${options.caSetting}: cannot read ${options.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`${options.caSetting}: ${options.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  const agent = new Agent({ connect: { rejectUnauthorized: options.verify, ...(ca ? { ca } : {}) } });
  const max = options.maxResponseBytes;

  const capped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let response: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      response = await undiciFetch(input as string, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? '';
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
        throw new HttpFailure('rejected', `${String(input)}: the TLS certificate is not trusted (${code}): set ${options.caSetting} to the CA that signed it`, undefined, 1, { cause: err });
      }
      throw err;
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > max) {
      await response.body?.cancel().catch(() => undefined);
      throw new HttpFailure('rejected', `${String(input)}: answer of ${declared} bytes is over the ${max}-byte cap (LIVE_RULES_MAX_RESPONSE_BYTES)`, response.status, 1);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > max) throw new HttpFailure('rejected', `${String(input)}: answer over the ${max}-byte cap (LIVE_RULES_MAX_RESPONSE_BYTES)`, response.status, 1);
        chunks.push(chunk);
      }
    }
    return new Response(size === 0 ? null : Buffer.concat(chunks), { status: response.status, headers: response.headers as unknown as ConstructorParameters<typeof Headers>[0] });
  };
  return { fetch: capped as typeof fetch, close: () => agent.close() };
}
