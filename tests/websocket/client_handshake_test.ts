import assert from "node:assert/strict";
import { HeadParser } from "../../lib/http/head_parser.ts";
import {
  buildClientRequest,
  type ClientOffer,
  generateKey,
  verifyServerResponse,
} from "../../lib/websocket/client_handshake.ts";
import type { ExtensionOffer } from "../../lib/websocket/extension_header.ts";
import { upgradeRequestFromHead, validateUpgradeRequest } from "../../lib/websocket/handshake.ts";
import {
  AIOHTTP_RESPONSE,
  DENO_RESPONSE,
  PYTHON_WEBSOCKETS_RESPONSE,
  RFC6455_REQUEST,
  RFC6455_RESPONSE,
  SAMPLE_KEY,
} from "./_handshake_fixtures.ts";

const encoder = new TextEncoder();
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; // for SAMPLE_KEY
const DEFLATE: ExtensionOffer = {
  name: "permessage-deflate",
  params: [["client_max_window_bits", true]],
};
const OFFER: ClientOffer = {
  key: SAMPLE_KEY,
  protocols: ["chat", "superchat"],
  extensions: [DEFLATE],
};

/** Parses a response head with the HTTP parser and verifies it against `offer`. */
function verifyHead(text: string, offer: ClientOffer = OFFER) {
  const event = new HeadParser({ kind: "response" }).receive(encoder.encode(text));
  assert(event?.type === "head", JSON.stringify(event));
  return verifyServerResponse(event.head, offer);
}

const VALID: Record<string, string> = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Accept": ACCEPT,
};

/** Verifies a 101 with the VALID fields changed by `patch` (null deletes). */
function verify(
  patch: Record<string, string | null> = {},
  offer: ClientOffer = OFFER,
  status = 101,
) {
  const headers = new Headers();
  for (const [name, value] of Object.entries({ ...VALID, ...patch })) {
    if (value !== null) headers.append(name, value);
  }
  return verifyServerResponse({ status, headers }, offer);
}

async function failure(result: ReturnType<typeof verify>) {
  const settled = await result;
  assert(!settled.ok, "expected the handshake to fail");
  assert.match(settled.reason, /^Cannot connect: /);
  return settled;
}

// --- generateKey --------------------------------------------------------------------------

Deno.test("generateKey returns the base64 of 16 bytes", () => {
  const key = generateKey();
  assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
  assert.equal(Uint8Array.fromBase64(key).length, 16);
});

Deno.test("generateKey returns a fresh nonce each call", () => {
  const keys = new Set(Array.from({ length: 64 }, generateKey));
  assert.equal(keys.size, 64);
});

// --- buildClientRequest -------------------------------------------------------------------

Deno.test("buildClientRequest writes the RFC 6455 §1.3 sample request's fields", () => {
  const head = buildClientRequest({
    host: "server.example.com",
    path: "/chat",
    key: SAMPLE_KEY,
    protocols: ["chat", "superchat"],
    origin: "http://example.com",
  });
  assert.equal(
    head,
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n" +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n" +
      "Origin: http://example.com\r\n\r\n",
  );
  const sortedLines = (text: string) => text.split("\r\n").sort();
  assert.deepEqual(sortedLines(head), sortedLines(RFC6455_REQUEST));
});

Deno.test("buildClientRequest writes the minimal request", () => {
  assert.equal(
    buildClientRequest({ host: "127.0.0.1:9001", path: "/", key: SAMPLE_KEY }),
    "GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
});

Deno.test("buildClientRequest writes extensions and extra headers", () => {
  const head = buildClientRequest({
    host: "[::1]:8000",
    path: "/ws?token=a%20b",
    key: SAMPLE_KEY,
    extensions: [DEFLATE],
    headers: { Authorization: "Bearer x", "User-Agent": "pushwire" },
  });
  assert(head.startsWith("GET /ws?token=a%20b HTTP/1.1\r\nHost: [::1]:8000\r\n"));
  assert(
    head.includes("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
  );
  assert(head.endsWith("\r\nauthorization: Bearer x\r\nuser-agent: pushwire\r\n\r\n"));
});

Deno.test("buildClientRequest output passes the server's validation", () => {
  const key = generateKey();
  const text = buildClientRequest({
    host: "example.com",
    path: "/channels/a/ws",
    key,
    protocols: ["pushwire.v1"],
    extensions: [DEFLATE],
    origin: "https://example.com",
  });
  const event = new HeadParser({ kind: "request" }).receive(encoder.encode(text));
  assert(event?.type === "head");
  const result = validateUpgradeRequest(upgradeRequestFromHead(event.head));
  assert(result.ok);
  assert.equal(result.key, key);
  assert.deepEqual(result.protocols, ["pushwire.v1"]);
  assert.deepEqual(result.extensions, [DEFLATE]);
  assert.equal(result.origin, "https://example.com");
});

Deno.test("buildClientRequest rejects an invalid host", () => {
  for (const host of ["", "a b", "a\r\nX: y", "a/b", "user@a"]) {
    assert.throws(() => buildClientRequest({ host, path: "/", key: SAMPLE_KEY }), TypeError, host);
  }
});

Deno.test("buildClientRequest rejects a path that is not origin-form", () => {
  for (const path of ["", "chat", "/a b", "/a#b", "/caf\u00e9", "/a%zz", "/a\r\n"]) {
    assert.throws(() => buildClientRequest({ host: "a", path, key: SAMPLE_KEY }), TypeError, path);
  }
});

Deno.test("buildClientRequest rejects a key that is not 16 base64 bytes", () => {
  for (const key of ["", "abc", new Uint8Array(15).toBase64()]) {
    assert.throws(() => buildClientRequest({ host: "a", path: "/", key }), TypeError, key);
  }
});

Deno.test("buildClientRequest rejects invalid or repeated subprotocols", () => {
  for (const protocols of [["a b"], [""], ["chat", "chat"]]) {
    assert.throws(
      () => buildClientRequest({ host: "a", path: "/", key: SAMPLE_KEY, protocols }),
      TypeError,
      protocols.join(),
    );
  }
});

Deno.test("buildClientRequest rejects an empty or non-ASCII origin", () => {
  for (const origin of ["", "http://caf\u00e9.example", "a\x01"]) {
    assert.throws(
      () => buildClientRequest({ host: "a", path: "/", key: SAMPLE_KEY, origin }),
      TypeError,
    );
  }
});

Deno.test("buildClientRequest refuses extra headers the handshake owns", () => {
  for (const name of ["Host", "Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin"]) {
    assert.throws(
      () => buildClientRequest({ host: "a", path: "/", key: SAMPLE_KEY, headers: { [name]: "x" } }),
      TypeError,
      name,
    );
  }
});

// --- verifyServerResponse: real servers ---------------------------------------------------

Deno.test("verifyServerResponse accepts the RFC 6455 §1.3 sample response", async () => {
  const result = await verifyHead(RFC6455_RESPONSE);
  assert.deepEqual(result, { ok: true, protocol: "chat", extensions: [] });
});

Deno.test("verifyServerResponse accepts Python websockets' response with deflate parameters", async () => {
  const result = await verifyHead(PYTHON_WEBSOCKETS_RESPONSE);
  assert.deepEqual(result, {
    ok: true,
    protocol: "chat",
    extensions: [{
      name: "permessage-deflate",
      params: [["server_max_window_bits", "12"], ["client_max_window_bits", "12"]],
    }],
  });
});

Deno.test("verifyServerResponse accepts aiohttp's response with Connection: upgrade", async () => {
  const result = await verifyHead(AIOHTTP_RESPONSE);
  assert(result.ok);
  assert.deepEqual(result.extensions, [{ name: "permessage-deflate", params: [] }]);
});

Deno.test("verifyServerResponse accepts Deno's lower-case response", async () => {
  const result = await verifyHead(DENO_RESPONSE);
  assert.deepEqual(result, { ok: true, protocol: "chat", extensions: [] });
});

// --- verifyServerResponse: failures -------------------------------------------------------

Deno.test("verifyServerResponse fails on a status other than 101", async () => {
  for (const status of [200, 400, 426, 302]) {
    const result = await failure(verify({}, OFFER, status));
    assert.equal(result.code, "WS_ERR_HANDSHAKE_STATUS");
    assert.equal(result.reason, `Cannot connect: expected status 101, got ${status}`);
  }
});

Deno.test("verifyServerResponse fails when Upgrade is missing or not websocket", async () => {
  for (const upgrade of [null, "h2c", "websocket, h2c", ""]) {
    const result = await failure(verify({ Upgrade: upgrade }));
    assert.equal(result.code, "WS_ERR_HANDSHAKE_UPGRADE", String(upgrade));
  }
});

Deno.test("verifyServerResponse matches Upgrade: websocket case-insensitively", async () => {
  assert((await verify({ Upgrade: "WebSocket" })).ok);
});

Deno.test("verifyServerResponse fails when Connection lacks upgrade", async () => {
  for (const connection of [null, "keep-alive", "close", ""]) {
    const result = await failure(verify({ Connection: connection }));
    assert.equal(result.code, "WS_ERR_HANDSHAKE_CONNECTION", String(connection));
  }
});

Deno.test("verifyServerResponse matches the Connection upgrade token in a list", async () => {
  assert((await verify({ Connection: "keep-alive, UPGRADE" })).ok);
});

Deno.test("verifyServerResponse fails on a wrong Sec-WebSocket-Accept", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Accept": "AiyKAPn/OHGyylApcY00hc7nOdw=" }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_ACCEPT");
  assert.equal(
    result.reason,
    `Cannot connect: Sec-WebSocket-Accept is "AiyKAPn/OHGyylApcY00hc7nOdw=", expected ${ACCEPT}`,
  );
});

Deno.test("verifyServerResponse fails on a missing Sec-WebSocket-Accept", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Accept": null }));
  assert.equal(result.reason, "Cannot connect: Sec-WebSocket-Accept is missing");
});

Deno.test("verifyServerResponse fails on an accept computed for another key", async () => {
  const result = await failure(verify({}, { ...OFFER, key: generateKey() }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_ACCEPT");
});

Deno.test("verifyServerResponse fails on a subprotocol that was not offered", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Protocol": "mqtt" }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_PROTOCOL");
  assert.equal(
    result.reason,
    "Cannot connect: server selected subprotocol mqtt, which was not offered",
  );
});

Deno.test("verifyServerResponse fails on a subprotocol when none was offered", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Protocol": "chat" }, { key: SAMPLE_KEY }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_PROTOCOL");
});

Deno.test("verifyServerResponse fails on more than one subprotocol", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Protocol": "chat, superchat" }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_PROTOCOL");
  assert.match(result.reason, /must be one token/);
});

Deno.test("verifyServerResponse compares the subprotocol case-sensitively", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Protocol": "Chat" }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_PROTOCOL");
});

Deno.test("verifyServerResponse accepts no subprotocol even when some were offered", async () => {
  assert.deepEqual(await verify(), { ok: true, protocol: undefined, extensions: [] });
});

Deno.test("verifyServerResponse fails on an extension that was not offered", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Extensions": "x-webkit-deflate-frame" }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_EXTENSIONS");
  assert.equal(
    result.reason,
    "Cannot connect: server accepted extension x-webkit-deflate-frame, which was not offered",
  );
});

Deno.test("verifyServerResponse fails on an extension when none was offered", async () => {
  const result = await failure(
    verify({ "Sec-WebSocket-Extensions": "permessage-deflate" }, { key: SAMPLE_KEY }),
  );
  assert.equal(result.code, "WS_ERR_HANDSHAKE_EXTENSIONS");
});

Deno.test("verifyServerResponse fails on an extension accepted twice", async () => {
  const result = await failure(
    verify({ "Sec-WebSocket-Extensions": "permessage-deflate, permessage-deflate" }),
  );
  assert.match(result.reason, /more than once/);
});

Deno.test("verifyServerResponse fails on a malformed Sec-WebSocket-Extensions", async () => {
  const result = await failure(verify({ "Sec-WebSocket-Extensions": "permessage-deflate;" }));
  assert.equal(result.code, "WS_ERR_HANDSHAKE_EXTENSIONS");
  assert.match(result.reason, /^Cannot connect: Cannot parse Sec-WebSocket-Extensions: /);
});
