/**
 * Routes from URL paths to endpoints, with path parameters, and the registry of live
 * sessions per route.
 *
 * @module
 */
import type { Endpoint, EndpointSession } from "./endpoint.ts";
import { SessionGroup } from "./session_group.ts";

/** One registered route. */
export interface Route<In = unknown, Out = unknown, Data = unknown> {
  /** The pattern, e.g. `/rooms/:room`. */
  readonly pattern: string;
  /** What runs on it. */
  readonly endpoint: Endpoint<In, Out, Data>;
  /** Its live sessions (broadcast to them). */
  readonly sessions: SessionGroup<EndpointSession<Out, Data>>;
}

/** A route matched by {@linkcode WebSocketRouter.match}. */
export interface RouteMatch {
  /** The route. */
  readonly route: Route;
  /** Percent-decoded path parameters. */
  readonly params: Readonly<Record<string, string>>;
}

type Segment = { readonly literal: string } | { readonly param: string };

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly Segment[];
  /** The pattern ends in `*`: the rest of the path goes to `params["*"]`. */
  readonly wildcard: boolean;
}

/**
 * Maps request paths to endpoints. Patterns are `/`-separated: a literal segment matches
 * itself, `:name` matches one non-empty segment (percent-decoded into `params.name`), and
 * a final `*` matches the rest of the path, possibly empty (`/files/*` matches `/files` too;
 * into `params["*"]`). Routes
 * are tried in the order they were added.
 *
 * @example Rooms with a path parameter
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketRouter } from "./router.ts";
 * const router = new WebSocketRouter();
 * router.route("/rooms/:room", { message: (session, text) => session.send(text) });
 * assert.deepEqual(router.match("/rooms/caf%C3%A9")?.params, { room: "café" });
 * assert.equal(router.match("/rooms"), undefined);
 * ```
 */
export class WebSocketRouter {
  /** Every live session of every route. */
  readonly sessions: SessionGroup<EndpointSession> = new SessionGroup();
  readonly #routes: CompiledRoute[] = [];

  /**
   * Adds a route.
   *
   * @param pattern A path pattern starting with `/`.
   * @param endpoint The endpoint.
   * @returns The route, whose `sessions` group lists its live sessions.
   * @throws {TypeError} If the pattern does not start with `/`, repeats a parameter name,
   *   or has `*` anywhere but as the last segment.
   * @throws {RangeError} If the endpoint's `maxMessageSize` is not a positive integer.
   */
  route<In = string | Uint8Array, Out = string | Uint8Array, Data = unknown>(
    pattern: string,
    endpoint: Endpoint<In, Out, Data>,
  ): Route<In, Out, Data> {
    if (typeof pattern !== "string" || !pattern.startsWith("/")) {
      throw new TypeError(
        `Cannot add route: pattern ${JSON.stringify(pattern)} must start with "/"`,
      );
    }
    const { maxMessageSize } = endpoint;
    if (
      maxMessageSize !== undefined && (!Number.isSafeInteger(maxMessageSize) || maxMessageSize <= 0)
    ) {
      throw new RangeError(
        `Cannot add route ${pattern}: maxMessageSize must be a positive integer`,
      );
    }
    const parts = pattern.slice(1).split("/");
    const segments: Segment[] = [];
    const names = new Set<string>();
    let wildcard = false;
    parts.forEach((part, index) => {
      if (part === "*") {
        if (index !== parts.length - 1) {
          throw new TypeError(`Cannot add route ${pattern}: "*" must be the last segment`);
        }
        wildcard = true;
      } else if (part.startsWith(":")) {
        const name = part.slice(1);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || names.has(name)) {
          throw new TypeError(
            `Cannot add route ${pattern}: parameter ${JSON.stringify(name)} is invalid or repeated`,
          );
        }
        names.add(name);
        segments.push({ param: name });
      } else {
        segments.push({ literal: part });
      }
    });
    const route: Route<In, Out, Data> = {
      pattern,
      endpoint,
      sessions: new SessionGroup(),
    };
    this.#routes.push({ route: route as unknown as Route, segments, wildcard });
    return route;
  }

  /**
   * Finds the first route matching a path.
   *
   * @param pathname The path of the request-target (without the query).
   * @returns The route and its parameters, or `undefined`.
   */
  match(pathname: string): RouteMatch | undefined {
    const parts = pathname.slice(1).split("/");
    for (const { route, segments, wildcard } of this.#routes) {
      if (wildcard ? parts.length < segments.length : parts.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const segment = segments[i]!;
        const part = parts[i]!;
        if ("literal" in segment) ok = segment.literal === part;
        else {
          const value = decode(part);
          ok = part !== "" && value !== undefined;
          if (ok) params[segment.param] = value!;
        }
      }
      if (!ok) continue;
      if (wildcard) {
        const rest = decode(parts.slice(segments.length).join("/"));
        if (rest === undefined) continue;
        params["*"] = rest;
      }
      return { route, params };
    }
    return undefined;
  }
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}
