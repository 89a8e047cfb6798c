// The client side of the interop tests, in plain JavaScript so the very same code runs in
// headless Chromium (served as /driver.js) and under Deno (Deno's EventSource, npm
// eventsource, our own). It only uses the standard EventSource interface.

/**
 * Opens `url`, records every event of the given types until the first `error` (the server
 * ended the stream), then closes.
 *
 * @param {any} EventSourceClass An EventSource constructor.
 * @param {string} url The fixture's stream.
 * @param {string[]} types Event types to listen to.
 * @param {number} timeoutMs Upper bound on the whole run.
 * @returns {Promise<{type: string, data: string, lastEventId: string}[]>}
 */
export function runFixture(EventSourceClass, url, types, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const source = new EventSourceClass(url);
    /** @type {{type: string, data: string, lastEventId: string}[]} */
    const seen = [];
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`fixture ${url} timed out`));
    }, timeoutMs);
    for (const type of types) {
      source.addEventListener(type, (/** @type {MessageEvent} */ event) => {
        seen.push({ type: event.type, data: event.data, lastEventId: event.lastEventId });
      });
    }
    source.onerror = () => {
      clearTimeout(timer);
      source.close();
      resolve(seen);
    };
  });
}

/**
 * Runs the resume scenario: logs open, message, named and error events with the readyState
 * until the client is CLOSED (the server's 204).
 *
 * @param {any} EventSourceClass An EventSource constructor.
 * @param {string} url The scenario's stream.
 * @param {number} timeoutMs Upper bound on the whole run.
 * @returns {Promise<string[]>}
 */
export function runScenario(EventSourceClass, url, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const source = new EventSourceClass(url);
    /** @type {string[]} */
    const log = [];
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`scenario timed out; log so far: ${JSON.stringify(log)}`));
    }, timeoutMs);
    source.onopen = () => log.push(`open ${source.readyState}`);
    for (const type of ["message", "greet"]) {
      source.addEventListener(type, (/** @type {MessageEvent} */ event) => {
        log.push(`${event.type} ${JSON.stringify(event.data)} id=${event.lastEventId}`);
      });
    }
    source.onerror = () => {
      log.push(`error ${source.readyState}`);
      if (source.readyState === 2) {
        clearTimeout(timer);
        resolve(log);
      }
    };
  });
}

/**
 * Runs every fixture of `config`, then the scenario.
 *
 * @param {any} EventSourceClass An EventSource constructor.
 * @param {{fixtures: {url: string, types: string[]}[], scenario: string}} config From /config.
 * @returns {Promise<{fixtures: {type: string, data: string, lastEventId: string}[][], scenario: string[]}>}
 */
export async function runAll(EventSourceClass, config) {
  const fixtures = [];
  for (const fixture of config.fixtures) {
    fixtures.push(await runFixture(EventSourceClass, fixture.url, fixture.types));
  }
  const scenario = await runScenario(EventSourceClass, config.scenario);
  return { fixtures, scenario };
}
