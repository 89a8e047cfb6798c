// The server side of the SSE interop tests: our server feeds clients nobody here wrote.
//
// Routes (Deno.serve on 127.0.0.1:0):
//   GET  /page.html?run=NAME        a page that runs the driver with the browser's EventSource
//   GET  /driver.js                 tests/sse/_interop_driver.js
//   GET  /config?run=NAME           fixture URLs with their event types, and the scenario URL
//   GET  /fixture/I                 FIXTURES[I].wire as text/event-stream, then the stream ends
//   GET  /scenario/NAME/events      the resume scenario (serveEventSource, see SCENARIO_LOG),
//                                   CORS open to this server's 127.0.0.1 origin; the page also
//                                   runs it cross-origin through http://localhost:PORT
//   POST /report/NAME               the page's results
import { serveEventSource, type ServerSentEvent } from "../../lib/sse/server.ts";
import { type Fixture, FIXTURES, type SeenEvent } from "./_fixtures.ts";

/** The history of the scenario channel. */
const HISTORY: readonly ServerSentEvent[] = [
  { id: "1", event: "greet", data: "hello" },
  { id: "2", data: "line1\nline2\r\nline3" },
  { id: "3", data: "héllo wörld — 你好 😀" },
  { id: "4", data: "resumed" },
];

/** What a conforming client logs in the scenario (see `runScenario` in the driver). */
export const SCENARIO_LOG: readonly string[] = [
  "open 1",
  `greet "hello" id=1`,
  `message "line1\\nline2\\nline3" id=2`,
  `message "héllo wörld — 你好 😀" id=3`,
  "error 0", // the server dropped the connection: reconnecting
  "open 1",
  `message "resumed" id=4`, // resumed after Last-Event-ID 3: 1-3 are not sent again
  "error 0",
  "error 2", // 204: stop
];

/** The scenario's initial `retry:`; connection 2 then sends an empty `retry:`. */
export const SCENARIO_RETRY = 1_000;

/** One connection of a scenario run, as the server saw it. */
export interface ScenarioConnection {
  /** The Last-Event-ID header, or null. */
  readonly header: string | null;
  /** Where the server resumed from (`lastEventIdOf`). */
  readonly resumeFrom: string | null;
  /** performance.now() when the request arrived. */
  readonly at: number;
  /** performance.now() when the server ended the stream. */
  closedAt?: number;
}

/** What the driver reports. */
export interface DriverReport {
  readonly fixtures: SeenEvent[][];
  readonly scenario: string[];
  /** The scenario run cross-origin (pages only). */
  readonly crossOrigin?: string[];
  readonly error?: string;
}

/** Timing-derived behaviours of a scenario run (margins of hundreds of ms on 1 s delays). */
export interface ScenarioTiming {
  /** `retry: 1000` honoured: reconnected between 0.9 s and 2.5 s after the drop. */
  readonly retryHonoured: boolean;
  /**
   * An empty `retry:` after `retry: 1000`: "ignored" (spec), "zero" (read as 0: reconnected
   * sooner than 1 s allows) or "unclear" (no second reconnection).
   */
  readonly emptyRetry: "ignored" | "zero" | "unclear";
  readonly gaps: readonly number[];
}

/** Event types to listen to for a fixture: "message" and every type it dispatches. */
export function typesOf(fixture: Fixture): string[] {
  return [...new Set(["message", "add", "e", ...fixture.events.map((e) => e.type)])];
}

/** Classifies the reconnection gaps of a scenario run. */
export function timingOf(connections: readonly ScenarioConnection[]): ScenarioTiming {
  const gaps: number[] = [];
  for (let i = 1; i < connections.length; i++) {
    gaps.push(Math.round(connections[i]!.at - (connections[i - 1]!.closedAt ?? NaN)));
  }
  const [first = NaN, second = NaN] = gaps;
  return {
    retryHonoured: first >= 900 && first < 2_500,
    // Below 900 ms the 1 s retry cannot have been kept: any such gap reads as "zero" (a fixed
    // cut lower, say 500 ms, would fail a zero-delay client on a loaded machine).
    emptyRetry: second >= 900 ? "ignored" : second >= 0 ? "zero" : "unclear",
    gaps,
  };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>sse interop</title>
<script type="module">
import { runAll, runScenario } from "/driver.js";
const run = new URLSearchParams(location.search).get("run");
let report;
try {
  const config = await (await fetch("/config?run=" + run)).json();
  const [all, crossOrigin] = await Promise.all([
    runAll(EventSource, config),
    runScenario(EventSource, config.crossOriginScenario),
  ]);
  report = { ...all, crossOrigin };
} catch (error) {
  report = { fixtures: [], scenario: [], error: String(error && error.stack || error) };
}
await fetch("/report/" + run, { method: "POST", body: JSON.stringify(report) });
document.title = "done";
</script>`;

/** A running interop server. */
export interface InteropServer {
  readonly origin: string;
  /** The driver config for a run. */
  config(run: string): {
    fixtures: { url: string; types: string[] }[];
    scenario: string;
    crossOriginScenario: string;
  };
  /** Resolves with the report POSTed for `run`. */
  report(run: string): Promise<DriverReport>;
  /** The connections the scenario of `run` received (`RUN-cors`: the cross-origin one). */
  connections(run: string): ScenarioConnection[];
  /** How many CORS preflights the scenario of `run` received. */
  preflights(run: string): number;
  close(): Promise<void>;
}

/** Starts the interop server on 127.0.0.1 with a free port. */
export function startInteropServer(): InteropServer {
  const driver = Deno.readTextFileSync(new URL("./_interop_driver.js", import.meta.url));
  const runs = new Map<string, ScenarioConnection[]>();
  const reports = new Map<
    string,
    { promise: Promise<DriverReport>; resolve: (r: DriverReport) => void }
  >();
  const reportSlot = (run: string) => {
    let slot = reports.get(run);
    if (!slot) {
      let resolve!: (r: DriverReport) => void;
      const promise = new Promise<DriverReport>((r) => resolve = r);
      slot = { promise, resolve };
      reports.set(run, slot);
    }
    return slot;
  };
  let origin = "";
  const config = (run: string) => ({
    fixtures: FIXTURES.map((fixture, i) => ({
      url: `${origin}/fixture/${i}`,
      types: typesOf(fixture),
    })),
    scenario: `${origin}/scenario/${run}/events?lastEventId=0`,
    crossOriginScenario: `${
      origin.replace("127.0.0.1", "localhost")
    }/scenario/${run}-cors/events?lastEventId=0`,
  });
  const preflights = new Map<string, number>();

  const scenario = (request: Request, run: string): Promise<Response> => {
    const connections = runs.get(run) ?? [];
    runs.set(run, connections);
    if (request.method === "OPTIONS") preflights.set(run, (preflights.get(run) ?? 0) + 1);
    return serveEventSource(request, {
      cors: { origin: [origin] },
      retry: SCENARIO_RETRY,
      heartbeatInterval: 0,
      onConnect({ lastEventId, stream }) {
        const record: ScenarioConnection = {
          header: request.headers.get("Last-Event-ID"),
          resumeFrom: lastEventId,
          at: performance.now(),
        };
        connections.push(record);
        if (connections.length >= 3) return "stop";
        const after = Number(lastEventId ?? 0);
        const upTo = connections.length === 1 ? 3 : 4;
        for (const message of HISTORY) {
          const id = Number(message.id);
          if (id > after && id <= upTo) stream.send(message);
        }
        if (connections.length === 2) {
          // An empty retry: the spec ignores it (no digits); some clients read it as 0.
          stream.write(new TextEncoder().encode("retry:\n\n"));
        }
        // The server drops the connection; the client must resume by id.
        stream.close();
        void stream.closed.then(() => record.closedAt = performance.now());
        return undefined;
      },
    });
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;
    const run = url.searchParams.get("run") ?? "";
    if (path === "/page.html") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (path === "/driver.js") {
      return new Response(driver, { headers: { "content-type": "text/javascript" } });
    }
    if (path === "/config") return Response.json(config(run));
    let match = /^\/fixture\/(\d+)$/.exec(path);
    if (match) {
      const fixture = FIXTURES[Number(match[1])];
      if (!fixture) return new Response(null, { status: 404 });
      return new Response(fixture.wire.slice(), {
        headers: { "content-type": "text/event-stream" },
      });
    }
    match = /^\/scenario\/([\w-]+)\/events$/.exec(path);
    if (match) return await scenario(request, match[1]!);
    match = /^\/report\/([\w-]+)$/.exec(path);
    if (match && request.method === "POST") {
      reportSlot(match[1]!).resolve(await request.json());
      return new Response(null, { status: 204 });
    }
    return new Response("not found", { status: 404 });
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    config,
    report: (run) => reportSlot(run).promise,
    connections: (run) => runs.get(run) ?? [],
    preflights: (run) => preflights.get(run) ?? 0,
    close: () => server.shutdown(),
  };
}

/** A client's documented departure from the spec, checked as observed (never papered over). */
export interface KnownDeviations {
  /** Fixture name → what the client dispatches instead, and why. */
  readonly fixtures?: Readonly<
    Record<string, { readonly events: readonly SeenEvent[]; readonly why: string }>
  >;
  /** What the client does with an empty `retry:`, which the spec ignores. */
  readonly emptyRetry?: { readonly behaviour: "zero"; readonly why: string };
}

/** Everything a run shows, in one comparable shape. */
export interface Observation {
  readonly fixtures: Readonly<Record<string, readonly SeenEvent[]>>;
  readonly scenario: readonly string[];
  /** Last-Event-ID header of each scenario connection. */
  readonly headers: readonly (string | null)[];
  /** Where the server resumed each connection from (header, else ?lastEventId=). */
  readonly resumeFrom: readonly (string | null)[];
  readonly retryHonoured: boolean;
  readonly emptyRetry: ScenarioTiming["emptyRetry"];
}

/** Builds the observation of one client's run. */
export function observe(
  report: DriverReport,
  connections: readonly ScenarioConnection[],
): Observation {
  const timing = timingOf(connections);
  return {
    fixtures: Object.fromEntries(FIXTURES.map((f, i) => [f.name, report.fixtures[i] ?? []])),
    scenario: report.scenario,
    headers: connections.map((c) => c.header),
    resumeFrom: connections.map((c) => c.resumeFrom),
    retryHonoured: timing.retryHonoured,
    emptyRetry: timing.emptyRetry,
  };
}

/** What a client following the spec shows, with its known deviations applied. */
export function expectedObservation(deviations: KnownDeviations = {}): Observation {
  return {
    fixtures: Object.fromEntries(
      FIXTURES.map((f) => [f.name, deviations.fixtures?.[f.name]?.events ?? f.events]),
    ),
    scenario: SCENARIO_LOG,
    headers: [null, "3", "4"],
    resumeFrom: ["0", "3", "4"],
    retryHonoured: true,
    emptyRetry: deviations.emptyRetry?.behaviour ?? "ignored",
  };
}

/** One step per fixture, then the scenario and the resume checks, so failures name the rule. */
export async function assertObservation(
  t: Deno.TestContext,
  actual: Observation,
  expected: Observation,
  equal: (a: unknown, b: unknown, message?: string) => void,
): Promise<void> {
  for (const name of Object.keys(expected.fixtures)) {
    await t.step(name, () => equal(actual.fixtures[name], expected.fixtures[name]));
  }
  await t.step("named events, multi-line data, Unicode, drop and resume, 204 stop", () => {
    equal(actual.scenario, expected.scenario);
  });
  await t.step(
    "sends Last-Event-ID on reconnection; first connection resumes by ?lastEventId=",
    () => {
      equal(actual.headers, expected.headers);
      equal(actual.resumeFrom, expected.resumeFrom);
    },
  );
  await t.step("honours retry: and treats an empty retry: as expected", () => {
    equal(
      { retryHonoured: actual.retryHonoured, emptyRetry: actual.emptyRetry },
      { retryHonoured: expected.retryHonoured, emptyRetry: expected.emptyRetry },
    );
  });
}
