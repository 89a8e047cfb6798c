import assert from "node:assert/strict";
import { HeadParser } from "../../lib/http/head_parser.ts";
import {
  buildHandshakeResponse,
  buildRejectionResponse,
  computeAcceptKey,
  type UpgradeAccepted,
  type UpgradeRejected,
  upgradeRequestFromHead,
  validateUpgradeRequest,
} from "../../lib/websocket/handshake.ts";
import { verifyServerResponse } from "../../lib/websocket/client_handshake.ts";
import {
  AIOHTTP_REQUEST,
  CHROMIUM_REQUEST,
  FIREFOX_REQUEST,
  PYTHON_WEBSOCKETS_REQUEST,
  RFC6455_REQUEST,
  RFC6455_RESPONSE,
} from "./_handshake_fixtures.ts";

const encoder = new TextEncoder();

/** Parses a request head with the HTTP parser and validates it. */
function validateHead(text: string) {
  const event = new HeadParser({ kind: "request" }).receive(encoder.encode(text));
  assert(event?.type === "head", JSON.stringify(event));
  return validateUpgradeRequest(upgradeRequestFromHead(event.head));
}

const VALID: Record<string, string> = {
  Host: "example.com",
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

/** Validates a GET HTTP/1.1 request with the VALID fields, changed by `patch` (null deletes). */
function validate(
  patch: Record<string, string | null> = {},
  method = "GET",
  httpVersion = "1.1",
) {
  const headers = new Headers();
  for (const [name, value] of Object.entries({ ...VALID, ...patch })) {
    if (value !== null) headers.append(name, value);
  }
  return validateUpgradeRequest({ method, httpVersion, headers });
}

function accepted(result: ReturnType<typeof validate>): UpgradeAccepted {
  assert(result.ok, result.ok ? "" : result.reason);
  return result;
}

function rejected(result: ReturnType<typeof validate>): UpgradeRejected {
  assert(!result.ok, "expected a rejection");
  return result;
}

// --- computeAcceptKey ---------------------------------------------------------------------

Deno.test("computeAcceptKey matches the RFC 6455 §1.3 example", async () => {
  assert.equal(await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("computeAcceptKey matches an independent SHA-1 of Chromium's key", async () => {
  // printf 'kI5BWID9PYnrlxFns96Vcg==258EAFA5-E914-47DA-95CA-C5AB0DC85B11' | sha1sum | xxd -r -p | base64
  assert.equal(await computeAcceptKey("kI5BWID9PYnrlxFns96Vcg=="), "AiyKAPn/OHGyylApcY00hc7nOdw=");
});

// --- validateUpgradeRequest: real clients -------------------------------------------------

Deno.test("validateUpgradeRequest accepts the RFC 6455 §1.3 sample request", () => {
  const result = accepted(validateHead(RFC6455_REQUEST));
  assert.equal(result.key, "dGhlIHNhbXBsZSBub25jZQ==");
  assert.equal(result.host, "server.example.com");
  assert.deepEqual(result.protocols, ["chat", "superchat"]);
  assert.deepEqual(result.extensions, []);
  assert.equal(result.origin, "http://example.com");
});

Deno.test("validateUpgradeRequest accepts Chromium's request", () => {
  const result = accepted(validateHead(CHROMIUM_REQUEST));
  assert.equal(result.key, "kI5BWID9PYnrlxFns96Vcg==");
  assert.deepEqual(result.protocols, ["chat", "superchat"]);
  assert.deepEqual(result.extensions, [
    { name: "permessage-deflate", params: [["client_max_window_bits", true]] },
  ]);
  assert.equal(result.origin, "http://127.0.0.1:40969");
});

Deno.test("validateUpgradeRequest accepts Firefox's request with Connection: keep-alive, Upgrade", () => {
  const result = accepted(validateHead(FIREFOX_REQUEST));
  assert.deepEqual(result.protocols, ["chat"]);
  assert.deepEqual(result.extensions, [{ name: "permessage-deflate", params: [] }]);
});

Deno.test("validateUpgradeRequest accepts Python websockets' request", () => {
  const result = accepted(validateHead(PYTHON_WEBSOCKETS_REQUEST));
  assert.equal(result.origin, "http://example.com");
  assert.deepEqual(result.protocols, ["chat"]);
});

Deno.test("validateUpgradeRequest accepts aiohttp's request with Connection: upgrade", () => {
  const result = accepted(validateHead(AIOHTTP_REQUEST));
  assert.equal(result.origin, undefined);
  assert.equal("origin" in result, false);
});

Deno.test("validateUpgradeRequest accepts a Request from the Fetch API", () => {
  const request = new Request("http://example.com/ws", { headers: VALID });
  const result = validateUpgradeRequest({
    method: request.method,
    httpVersion: "1.1",
    headers: request.headers,
  });
  assert.equal(accepted(result).host, "example.com");
});

// --- validateUpgradeRequest: method and version -------------------------------------------

Deno.test("validateUpgradeRequest answers 405 with Allow: GET to another method", () => {
  for (const method of ["POST", "HEAD", "get", "CONNECT"]) {
    const result = rejected(validate({}, method));
    assert.equal(result.status, 405);
    assert.equal(result.code, "WS_ERR_HANDSHAKE_METHOD");
    assert.equal(result.reason, `Cannot upgrade: method must be GET, got ${method}`);
    assert.equal(result.headers.get("allow"), "GET");
  }
});

Deno.test("validateUpgradeRequest checks the method before anything else", () => {
  assert.equal(rejected(validate({ "Sec-WebSocket-Key": null }, "POST", "1.0")).status, 405);
});

Deno.test("validateUpgradeRequest rejects HTTP/1.0 with 400", () => {
  const result = rejected(validate({}, "GET", "1.0"));
  assert.equal(result.status, 400);
  assert.equal(result.code, "WS_ERR_HANDSHAKE_HTTP_VERSION");
  assert.equal(
    result.reason,
    "Cannot upgrade: HTTP/1.1 or a later HTTP/1.x is required, got HTTP/1.0",
  );
});

Deno.test("validateUpgradeRequest rejects HTTP/2 and malformed versions with 400", () => {
  for (const version of ["2", "2.0", "1", "11", "1.10", ""]) {
    assert.equal(
      rejected(validate({}, "GET", version)).code,
      "WS_ERR_HANDSHAKE_HTTP_VERSION",
      version,
    );
  }
});

Deno.test("validateUpgradeRequest accepts a later HTTP/1.x", () => {
  accepted(validate({}, "GET", "1.2"));
});

Deno.test("validateUpgradeRequest rejects a request without Host", () => {
  const result = rejected(validate({ Host: null }));
  assert.equal(result.status, 400);
  assert.equal(result.code, "WS_ERR_HANDSHAKE_HOST");
});

// --- Upgrade and Connection ---------------------------------------------------------------

Deno.test("validateUpgradeRequest answers 426 when Upgrade is missing", () => {
  const result = rejected(validate({ Upgrade: null }));
  assert.equal(result.status, 426);
  assert.equal(result.code, "WS_ERR_HANDSHAKE_UPGRADE");
  assert.equal(result.reason, "Cannot upgrade: Upgrade header must include websocket");
  assert.equal(result.headers.get("upgrade"), "websocket");
  assert.equal(result.headers.get("sec-websocket-version"), "13");
});

Deno.test("validateUpgradeRequest answers 426 when Upgrade names another protocol", () => {
  for (const upgrade of ["h2c", "websockets", "web socket", ""]) {
    assert.equal(rejected(validate({ Upgrade: upgrade })).status, 426, upgrade);
  }
});

Deno.test("validateUpgradeRequest matches the websocket upgrade token case-insensitively in a list", () => {
  for (const upgrade of ["WebSocket", "WEBSOCKET", "h2c, websocket", "HTTP/2.0,  websocket "]) {
    accepted(validate({ Upgrade: upgrade }));
  }
});

Deno.test("validateUpgradeRequest rejects a request whose Connection lacks upgrade", () => {
  for (const connection of [null, "keep-alive", "close", "upgraded", ""]) {
    const result = rejected(validate({ Connection: connection }));
    assert.equal(result.status, 400, String(connection));
    assert.equal(result.code, "WS_ERR_HANDSHAKE_CONNECTION");
    assert.equal(result.reason, "Cannot upgrade: Connection header must include Upgrade");
  }
});

Deno.test("validateUpgradeRequest matches the Connection upgrade token case-insensitively in a list", () => {
  for (const connection of ["upgrade", "UPGRADE", "keep-alive, Upgrade", "Upgrade,keep-alive"]) {
    accepted(validate({ Connection: connection }));
  }
});

// --- Sec-WebSocket-Version ----------------------------------------------------------------

Deno.test("validateUpgradeRequest answers 426 with Sec-WebSocket-Version: 13 when the version is missing", () => {
  const result = rejected(validate({ "Sec-WebSocket-Version": null }));
  assert.equal(result.status, 426);
  assert.equal(result.code, "WS_ERR_HANDSHAKE_VERSION");
  assert.equal(result.reason, "Cannot upgrade: Sec-WebSocket-Version header is missing");
  assert.equal(result.headers.get("sec-websocket-version"), "13");
});

Deno.test("validateUpgradeRequest answers 426 to another version", () => {
  for (const version of ["8", "7", "14", "13, 8", "013", ""]) {
    const result = rejected(validate({ "Sec-WebSocket-Version": version }));
    assert.equal(result.status, 426, version);
    assert.equal(
      result.reason,
      `Cannot upgrade: Sec-WebSocket-Version must be 13, got ${JSON.stringify(version)}`,
    );
    assert.equal(result.headers.get("sec-websocket-version"), "13");
  }
});

Deno.test("validateUpgradeRequest checks the version before the key", () => {
  const result = rejected(validate({ "Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "x" }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_VERSION");
});

// --- Sec-WebSocket-Key --------------------------------------------------------------------

Deno.test("validateUpgradeRequest rejects a missing key", () => {
  const result = rejected(validate({ "Sec-WebSocket-Key": null }));
  assert.equal(result.status, 400);
  assert.equal(result.code, "WS_ERR_HANDSHAKE_KEY");
  assert.equal(result.reason, "Cannot upgrade: Sec-WebSocket-Key is missing");
});

Deno.test("validateUpgradeRequest rejects a key that does not decode to 16 bytes", () => {
  const keys = [
    new Uint8Array(15).toBase64(), // 15 bytes
    new Uint8Array(17).toBase64(), // 17 bytes
    "dGhlIHNhbXBsZSBub25jZQ", // unpadded
    "dGhlIHNhbXBsZSBub25jZQ=", // one pad
    "dGhlIHNhbXBsZSBub25jZ!==", // not base64
    "dGhlIHNhbXBsZSBub25 jZQ==", // inner space
    "dGhlIHNhbXBsZSBub25jZR==", // non-zero pad bits: not canonical
    "dGhl-HNhbXBsZSBub25jZQ==", // base64url alphabet
    "",
  ];
  for (const key of keys) {
    const result = rejected(validate({ "Sec-WebSocket-Key": key }));
    assert.equal(result.status, 400, key);
    assert.equal(result.reason, "Cannot upgrade: Sec-WebSocket-Key must decode to 16 bytes", key);
  }
});

Deno.test("validateUpgradeRequest rejects a key sent twice", () => {
  const headers = new Headers(VALID);
  headers.append("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==");
  const result = rejected(validateUpgradeRequest({ method: "GET", httpVersion: "1.1", headers }));
  assert.equal(result.reason, "Cannot upgrade: Sec-WebSocket-Key must appear once");
});

// --- Sec-WebSocket-Protocol and -Extensions -----------------------------------------------

Deno.test("validateUpgradeRequest collects subprotocols from repeated headers", () => {
  const headers = new Headers(VALID);
  headers.append("Sec-WebSocket-Protocol", "chat");
  headers.append("Sec-WebSocket-Protocol", "superchat");
  const result = accepted(validateUpgradeRequest({ method: "GET", httpVersion: "1.1", headers }));
  assert.deepEqual(result.protocols, ["chat", "superchat"]);
});

Deno.test("validateUpgradeRequest rejects an invalid subprotocol list", () => {
  for (const value of ["chat, chat", "a b", "", "chat/1"]) {
    const result = rejected(validate({ "Sec-WebSocket-Protocol": value }));
    assert.equal(result.status, 400, value);
    assert.equal(result.code, "WS_ERR_HANDSHAKE_PROTOCOL");
  }
});

Deno.test("validateUpgradeRequest rejects a malformed extension list", () => {
  const result = rejected(validate({ "Sec-WebSocket-Extensions": "permessage-deflate; =15" }));
  assert.equal(result.status, 400);
  assert.equal(result.code, "WS_ERR_HANDSHAKE_EXTENSIONS");
  assert.match(result.reason, /^Cannot upgrade: Cannot parse Sec-WebSocket-Extensions: /);
});

Deno.test("validateUpgradeRequest keeps repeated extension parameters for the negotiator", () => {
  const result = accepted(validate({
    "Sec-WebSocket-Extensions":
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=11",
  }));
  assert.equal(result.extensions[0]!.params.length, 2);
});

// --- buildHandshakeResponse ---------------------------------------------------------------

Deno.test("buildHandshakeResponse writes the RFC 6455 §1.3 sample response exactly", async () => {
  const head = buildHandshakeResponse({
    accept: await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
    protocol: "chat",
  });
  assert.equal(head, RFC6455_RESPONSE);
});

Deno.test("buildHandshakeResponse writes extensions and extra headers", () => {
  const head = buildHandshakeResponse({
    accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    extensions: [{ name: "permessage-deflate", params: [["client_max_window_bits", "15"]] }],
    headers: [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"], ["X-Node", "n1"]],
  });
  assert.equal(
    head,
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n" +
      "set-cookie: a=1\r\nset-cookie: b=2\r\nx-node: n1\r\n\r\n",
  );
});

Deno.test("buildHandshakeResponse omits an empty extension list", () => {
  const head = buildHandshakeResponse({ accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", extensions: [] });
  assert.equal(head.includes("Extensions"), false);
});

Deno.test("buildHandshakeResponse output passes the client's verification", async () => {
  const key = "kI5BWID9PYnrlxFns96Vcg==";
  const text = buildHandshakeResponse({
    accept: await computeAcceptKey(key),
    protocol: "superchat",
    extensions: [{ name: "permessage-deflate", params: [] }],
  });
  const event = new HeadParser({ kind: "response" }).receive(encoder.encode(text));
  assert(event?.type === "head");
  const result = await verifyServerResponse(event.head, {
    key,
    protocols: ["chat", "superchat"],
    extensions: [{ name: "permessage-deflate", params: [["client_max_window_bits", true]] }],
  });
  assert(result.ok);
  assert.equal(result.protocol, "superchat");
});

Deno.test("buildHandshakeResponse rejects a malformed accept value", () => {
  for (
    const accept of [
      "",
      "dGhlIHNhbXBsZSBub25jZQ==",
      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo",
      "s3pPLMBiTxaQ9kYGzzhZRbK+xO\r\n",
    ]
  ) {
    assert.throws(() => buildHandshakeResponse({ accept }), TypeError, JSON.stringify(accept));
  }
});

Deno.test("buildHandshakeResponse rejects a protocol that is not a token", () => {
  assert.throws(
    () => buildHandshakeResponse({ accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", protocol: "a\r\nX: y" }),
    TypeError,
  );
});

Deno.test("buildHandshakeResponse refuses extra headers the handshake owns", () => {
  for (
    const name of [
      "Upgrade",
      "connection",
      "Sec-WebSocket-Accept",
      "Sec-WebSocket-Protocol",
      "Content-Length",
    ]
  ) {
    assert.throws(
      () =>
        buildHandshakeResponse({
          accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
          headers: { [name]: "x" },
        }),
      TypeError,
      name,
    );
  }
});

Deno.test("buildHandshakeResponse refuses non-ASCII and control characters in extra headers", () => {
  for (const value of ["caf\u00e9", "a\x01b"]) {
    assert.throws(
      () =>
        buildHandshakeResponse({
          accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
          headers: { "X-A": value },
        }),
      TypeError,
    );
  }
  assert.throws(
    () =>
      buildHandshakeResponse({
        accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        headers: { "X-A": "a\r\nb" },
      }),
    TypeError,
  );
});

// --- buildRejectionResponse ---------------------------------------------------------------

Deno.test("buildRejectionResponse writes a complete 400 response", () => {
  assert.equal(
    buildRejectionResponse(400, "Cannot upgrade: Sec-WebSocket-Key must decode to 16 bytes"),
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      "Content-Length: 58\r\n\r\nCannot upgrade: Sec-WebSocket-Key must decode to 16 bytes\n",
  );
});

Deno.test("buildRejectionResponse writes a 405 with Allow from a rejection", () => {
  const result = rejected(validate({}, "POST"));
  const text = buildRejectionResponse(result.status, result.reason, result.headers);
  assert(text.startsWith("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n"));
  assert(text.includes("\r\nallow: GET\r\n"));
});

Deno.test("buildRejectionResponse adds the Upgrade connection option to a 426", () => {
  const result = rejected(validate({ "Sec-WebSocket-Version": "8" }));
  const text = buildRejectionResponse(result.status, result.reason, result.headers);
  assert(text.startsWith("HTTP/1.1 426 Upgrade Required\r\nConnection: Upgrade, close\r\n"));
  assert(text.includes("\r\nsec-websocket-version: 13\r\nupgrade: websocket\r\n\r\n"));
});

Deno.test("buildRejectionResponse counts Content-Length in UTF-8 bytes and parses back", () => {
  const text = buildRejectionResponse(403, "Origin refusée ☃");
  const bytes = encoder.encode(text);
  const event = new HeadParser({ kind: "response" }).receive(bytes);
  assert(event?.type === "head");
  assert.equal(event.head.status, 403);
  assert.equal(event.head.statusText, "Forbidden");
  assert.equal(event.head.headers.get("content-length"), String(event.rest.length));
  assert.equal(new TextDecoder().decode(event.rest), "Origin refusée ☃\n");
});

Deno.test("buildRejectionResponse writes an empty reason phrase for an unlisted status", () => {
  assert(buildRejectionResponse(418, "teapot").startsWith("HTTP/1.1 418 \r\n"));
});

Deno.test("buildRejectionResponse rejects a status outside 400-599", () => {
  for (const status of [101, 200, 399, 600, 400.5, NaN]) {
    assert.throws(() => buildRejectionResponse(status, "x"), RangeError, String(status));
  }
});

Deno.test("buildRejectionResponse refuses headers it writes itself", () => {
  for (const name of ["Connection", "Content-Length", "Content-Type", "Transfer-Encoding"]) {
    assert.throws(() => buildRejectionResponse(400, "x", { [name]: "x" }), TypeError, name);
  }
});

// --- upgradeRequestFromHead ---------------------------------------------------------------

Deno.test("upgradeRequestFromHead copies method, version and headers from a RequestHead", () => {
  const event = new HeadParser({ kind: "request" }).receive(encoder.encode(RFC6455_REQUEST));
  assert(event?.type === "head");
  const request = upgradeRequestFromHead(event.head);
  assert.deepEqual(Object.keys(request).sort(), ["headers", "httpVersion", "method"]);
  assert.equal(request.method, "GET");
  assert.equal(request.httpVersion, "1.1");
  assert.equal(request.headers, event.head.headers);
});
