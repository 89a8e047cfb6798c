/**
 * The Flash socket policy file: the `<cross-domain-policy>` document a relay answers a
 * `<policy-file-request/>` with, built from the configured origins and ports. Nothing is
 * allowed unless configured: no origin means a policy that grants nothing, and `*` appears
 * only when `*` itself was configured.
 *
 * @module
 */

const DOMAIN = /^(?:\*|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)$/;
const ORIGIN = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?([^/:?#]+)(?::\d{1,5})?\/?$/;
const PORT_RANGE = /^(\d{1,5})-(\d{1,5})$/;

/** What a policy file grants. */
export interface PolicyFileOptions {
  /**
   * Origins allowed to connect, as configured with `--allow-origin`: full origins
   * (`https://app.example.com:8443`), bare hosts (`app.example.com`), subdomain wildcards
   * (`*.example.com`) or `*` for any domain. Only the host part reaches the policy,
   * because a socket policy names domains, not schemes or HTTP ports.
   */
  readonly origins: readonly string[];
  /**
   * Ports granted: numbers, `"LOW-HIGH"` ranges or `"*"`. Usually just the relay's port.
   * Flash ignores grants below 1024 in a policy served from port 1024 or above. Omitted, the
   * document is a URL policy without `to-ports`: what Flash fetches as `/crossdomain.xml` from
   * the HTTP port before its `POST /relay/...` requests may cross domains.
   */
  readonly ports?: readonly (number | string)[];
}

/**
 * Returns the policy-file domain for a configured origin: its host, or `*` / `*.host`.
 *
 * @throws {TypeError} when `origin` has no usable host.
 *
 * @example Map origins to domains
 * ```ts
 * import assert from "node:assert/strict";
 * import { policyDomainOf } from "./policy_file.ts";
 * assert(policyDomainOf("https://app.example.com:8443") === "app.example.com");
 * assert(policyDomainOf("*.example.com") === "*.example.com");
 * ```
 */
export function policyDomainOf(origin: string): string {
  const host = ORIGIN.exec(origin.trim())?.[1];
  if (host === undefined || !DOMAIN.test(host)) {
    throw new TypeError(`Cannot build policy file: no usable domain in origin "${origin}"`);
  }
  return host.toLowerCase();
}

function portSpec(port: number | string): string {
  const valid = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (typeof port === "number") {
    if (!valid(port)) throw new RangeError(`Cannot build policy file: invalid port ${port}`);
    return String(port);
  }
  if (port === "*") return port;
  const range = PORT_RANGE.exec(port);
  if (/^\d{1,5}$/.test(port) && valid(Number(port))) return String(Number(port));
  if (range && valid(Number(range[1])) && valid(Number(range[2])) && +range[1]! <= +range[2]!) {
    return `${Number(range[1])}-${Number(range[2])}`;
  }
  throw new RangeError(`Cannot build policy file: invalid port "${port}"`);
}

/**
 * Builds the policy document (without the NUL that ends it on a socket): one
 * `<allow-access-from domain="D" to-ports="P"/>` per distinct configured domain, or without
 * `to-ports` when no ports are given (a URL policy for `/crossdomain.xml`).
 *
 * @throws {TypeError} for an origin with no usable domain.
 * @throws {RangeError} for a port outside 1..65535 or a malformed range.
 *
 * @example Allow one site on the relay's port
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildPolicyFile } from "./policy_file.ts";
 * const xml = buildPolicyFile({ origins: ["https://app.example.com"], ports: [8001] });
 * assert(xml.includes('<allow-access-from domain="app.example.com" to-ports="8001"/>'));
 * assert(!xml.includes('domain="*"'));
 * ```
 */
export function buildPolicyFile(options: PolicyFileOptions): string {
  const ports = options.ports === undefined
    ? undefined
    : [...new Set(options.ports.map(portSpec))].join(",");
  const domains = [...new Set(options.origins.map(policyDomainOf))];
  const lines = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd">',
    "<cross-domain-policy>",
  ];
  if (ports !== "") {
    const toPorts = ports === undefined ? "" : ` to-ports="${ports}"`;
    for (const domain of domains) lines.push(`<allow-access-from domain="${domain}"${toPorts}/>`);
  }
  lines.push("</cross-domain-policy>");
  return lines.join("\n");
}

/**
 * Builds the policy document as it goes on the wire: UTF-8 followed by the NUL that ends
 * it (Flash Player closes the connection on that NUL if the server has not).
 *
 * @example The bytes a Flash Player receives
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePolicyFile } from "./policy_file.ts";
 * const bytes = encodePolicyFile({ origins: ["*"], ports: ["*"] });
 * assert(bytes.at(-1) === 0 && bytes.indexOf(0) === bytes.length - 1);
 * ```
 */
export function encodePolicyFile(options: PolicyFileOptions): Uint8Array {
  return new TextEncoder().encode(buildPolicyFile(options) + "\0");
}
