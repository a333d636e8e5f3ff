import { randomUUID } from 'node:crypto';

/** Where and how to reach a Spark Connect server: the parsed form of an `sc://` URL. */
export interface ConnectionOptions {
  host: string;
  port: number;
  token?: string;
  userId: string;
  useSsl: boolean;
  sessionId: string;
  userAgent: string;
  /** URL parameters this client does not know, sent as gRPC metadata on every call (e.g. a cluster id header). */
  metadata?: Record<string, string>;
}

export const DEFAULT_PORT = 15002;
export const DEFAULT_USER_AGENT = `spark-ts/0.1 node/${process.versions.node}`;

export class InvalidUrlError extends Error {
  constructor(
    readonly url: string,
    readonly part: string,
    detail: string,
  ) {
    super(`invalid Spark Connect URL (${part}): ${detail}; expected sc://host[:port][/;key=value;...]`);
    this.name = 'InvalidUrlError';
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KNOWN_PARAMS = new Set(['token', 'user_id', 'use_ssl', 'session_id', 'user_agent']);

/**
 * Parses `sc://host:port/;token=…;user_id=…;use_ssl=true;session_id=…;user_agent=…`, the URL form every
 * Spark Connect client shares. Each failure names the part of the URL that is wrong.
 */
export function parseConnectUrl(url: string): ConnectionOptions {
  if (!url.startsWith('sc://')) throw new InvalidUrlError(url, 'scheme', `"${url.split('://')[0]}" is not "sc"`);
  const rest = url.slice('sc://'.length);
  const [authorityAndPath, ...paramParts] = rest.split(';');
  const authority = authorityAndPath.replace(/\/$/, '');
  if (authority.includes('/')) throw new InvalidUrlError(url, 'path', `a path is not allowed ("${authority}")`);
  let host = authority;
  let port = DEFAULT_PORT;
  const ipv6 = authority.match(/^\[([^\]]+)\](?::(.*))?$/);
  const colon = authority.lastIndexOf(':');
  if (ipv6) {
    host = ipv6[1];
    if (ipv6[2] !== undefined) port = parsePort(url, ipv6[2]);
  } else if (colon >= 0) {
    host = authority.slice(0, colon);
    port = parsePort(url, authority.slice(colon + 1));
  }
  if (!host) throw new InvalidUrlError(url, 'host', 'the host is empty');
  const params: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const part of paramParts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InvalidUrlError(url, 'parameter', `"${part}" is not key=value`);
    const key = part.slice(0, eq);
    const value = decodeURIComponent(part.slice(eq + 1));
    if (KNOWN_PARAMS.has(key)) params[key] = value;
    else {
      // As the spec says: parameters a client does not know go to the server as gRPC metadata.
      if (!/^[0-9a-z_.-]+$/i.test(key) || /-bin$/i.test(key))
        throw new InvalidUrlError(url, 'parameter', `"${key}" is not a valid gRPC metadata key`);
      if (/^(authorization|grpc-.*|te|content-type|user-agent)$/i.test(key))
        throw new InvalidUrlError(url, 'parameter', `"${key}" is reserved`);
      metadata[key.toLowerCase()] = value;
    }
  }
  // The spec: a token implies TLS. Like PySpark, plain text is allowed only to the local machine.
  let useSsl = params.token !== undefined && !isLocalHost(host);
  if (params.use_ssl !== undefined) {
    if (!/^(true|false)$/i.test(params.use_ssl)) throw new InvalidUrlError(url, 'use_ssl', `"${params.use_ssl}" is not true or false`);
    useSsl = params.use_ssl.toLowerCase() === 'true';
    if (!useSsl && params.token !== undefined && !isLocalHost(host)) {
      throw new InvalidUrlError(
        url,
        'use_ssl',
        `a token is sent only over TLS (use_ssl=false is allowed with a token only to localhost, not to "${host}")`,
      );
    }
  }
  if (params.session_id !== undefined && !UUID_RE.test(params.session_id)) {
    throw new InvalidUrlError(url, 'session_id', `"${params.session_id}" is not a UUID`);
  }
  return {
    host,
    port,
    token: params.token,
    userId: params.user_id ?? process.env.USER ?? 'spark-ts',
    useSsl,
    sessionId: params.session_id ?? randomUUID(),
    userAgent: params.user_agent ?? DEFAULT_USER_AGENT,
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

/** Hosts where a token may travel without TLS (the connection never leaves the machine). */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Everything that makes two connections the same session: endpoint, user, credentials, TLS, session id
 * and forwarded metadata (not the user agent: the app name does not make another session).
 */
export function connectionIdentity(opts: ConnectionOptions, explicitSessionId: boolean): string {
  const md = Object.entries(opts.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([
    opts.host.toLowerCase(),
    opts.port,
    opts.userId,
    opts.token ?? null,
    opts.useSsl,
    explicitSessionId ? opts.sessionId : null,
    md,
  ]);
}

function parsePort(url: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new InvalidUrlError(url, 'port', `"${text}" is not a port number`);
  return port;
}

/** The URL without its secret parts, safe to print. */
export function describeEndpoint(opts: Pick<ConnectionOptions, 'host' | 'port'>): string {
  return `sc://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
}
