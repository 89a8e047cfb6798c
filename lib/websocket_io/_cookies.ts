// The `Cookie` request header, read for endpoints' accept decisions.

/** Parses a `Cookie` header value (RFC 6265 §5.4) into a map; the first of a name wins. */
export function parseCookies(value: string | null): ReadonlyMap<string, string> {
  const cookies = new Map<string, string>();
  if (value === null) return cookies;
  for (const pair of value.split(";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    let cookie = pair.slice(eq + 1).trim();
    if (cookie.length >= 2 && cookie.startsWith('"') && cookie.endsWith('"')) {
      cookie = cookie.slice(1, -1);
    }
    if (name !== "" && !cookies.has(name)) cookies.set(name, cookie);
  }
  return cookies;
}
