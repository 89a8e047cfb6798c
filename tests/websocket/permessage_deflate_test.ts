import assert from "node:assert/strict";
import {
  type ExtensionOffer,
  formatExtensions,
  parseExtensions,
} from "../../lib/websocket/extension_header.ts";
import {
  acceptPerMessageDeflateResponse,
  createPerMessageDeflateOffer,
  type DeflateParams,
  negotiatePerMessageDeflate,
  type PerMessageDeflateClientOptions,
  type PerMessageDeflateOptions,
} from "../../lib/websocket/permessage_deflate.ts";

function offers(header: string): readonly ExtensionOffer[] {
  const parsed = parseExtensions(header);
  assert(parsed.ok, parsed.ok ? "" : parsed.reason);
  return parsed.extensions;
}

/** Negotiates and returns the response header and the agreement. */
function accept(
  header: string,
  options?: PerMessageDeflateOptions,
): { response: string; params: DeflateParams; declined: readonly string[] } {
  const result = negotiatePerMessageDeflate(offers(header), options);
  assert(result.accepted, `expected ${JSON.stringify(header)} to be accepted`);
  return {
    response: formatExtensions([result.response]),
    params: result.params,
    declined: result.declined,
  };
}

function decline(header: string, options?: PerMessageDeflateOptions): readonly string[] {
  const result = negotiatePerMessageDeflate(offers(header), options);
  assert(!result.accepted, `expected ${JSON.stringify(header)} to be declined`);
  return result.declined;
}

const TAKEOVER: PerMessageDeflateOptions = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
};

Deno.test("negotiatePerMessageDeflate answers Chromium's offer with both no_context_takeover by default", () => {
  const { response, params } = accept("permessage-deflate; client_max_window_bits");
  assert.equal(
    response,
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
  assert.deepEqual(params, {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  });
});

Deno.test("negotiatePerMessageDeflate answers a bare offer with no parameters under a takeover policy", () => {
  const { response, params } = accept("permessage-deflate", TAKEOVER);
  assert.equal(response, "permessage-deflate");
  assert.deepEqual(params, {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  });
});

Deno.test("negotiatePerMessageDeflate grants server_no_context_takeover when the client asks", () => {
  const { response, params } = accept("permessage-deflate; server_no_context_takeover", TAKEOVER);
  assert.equal(response, "permessage-deflate; server_no_context_takeover");
  assert.equal(params.serverNoContextTakeover, true);
  assert.equal(params.clientNoContextTakeover, false);
});

Deno.test("negotiatePerMessageDeflate keeps the client's declared client_no_context_takeover", () => {
  const { response, params } = accept("permessage-deflate; client_no_context_takeover", TAKEOVER);
  assert.equal(response, "permessage-deflate; client_no_context_takeover");
  assert.equal(params.clientNoContextTakeover, true);
});

Deno.test("negotiatePerMessageDeflate answers server_max_window_bits with the smaller of offer and policy", () => {
  assert.equal(
    accept("permessage-deflate; server_max_window_bits=10", TAKEOVER).response,
    "permessage-deflate; server_max_window_bits=10",
  );
  const { response, params } = accept("permessage-deflate; server_max_window_bits=12", {
    ...TAKEOVER,
    serverMaxWindowBits: 9,
  });
  assert.equal(response, "permessage-deflate; server_max_window_bits=9");
  assert.equal(params.serverMaxWindowBits, 9);
});

Deno.test("negotiatePerMessageDeflate accepts server_max_window_bits=8", () => {
  const { response, params } = accept("permessage-deflate; server_max_window_bits=8", TAKEOVER);
  assert.equal(response, "permessage-deflate; server_max_window_bits=8");
  assert.equal(params.serverMaxWindowBits, 8);
});

Deno.test("negotiatePerMessageDeflate does not announce an unrequested server_max_window_bits", () => {
  const { response, params } = accept("permessage-deflate", {
    ...TAKEOVER,
    serverMaxWindowBits: 10,
  });
  assert.equal(response, "permessage-deflate");
  assert.equal(params.serverMaxWindowBits, 10);
});

Deno.test("negotiatePerMessageDeflate limits client_max_window_bits only when offered", () => {
  const policy = { ...TAKEOVER, clientMaxWindowBits: 10 };
  const offered = accept("permessage-deflate; client_max_window_bits", policy);
  assert.equal(offered.response, "permessage-deflate; client_max_window_bits=10");
  assert.equal(offered.params.clientMaxWindowBits, 10);
  const lower = accept("permessage-deflate; client_max_window_bits=9", policy);
  assert.equal(lower.response, "permessage-deflate; client_max_window_bits=9");
  assert.equal(lower.params.clientMaxWindowBits, 9);
  // RFC 7692 §7.1.2.2: not offered → MUST NOT be in the response; the client uses 15.
  const absent = accept("permessage-deflate", policy);
  assert.equal(absent.response, "permessage-deflate");
  assert.equal(absent.params.clientMaxWindowBits, 15);
});

Deno.test("negotiatePerMessageDeflate accepts the first acceptable of several offers", () => {
  const { response, params, declined } = accept(
    "permessage-deflate; server_max_window_bits=10; client_max_window_bits, " +
      "permessage-deflate; client_max_window_bits",
    TAKEOVER,
  );
  assert.equal(response, "permessage-deflate; server_max_window_bits=10");
  assert.equal(params.serverMaxWindowBits, 10);
  assert.deepEqual(declined, []);
});

Deno.test("negotiatePerMessageDeflate declines an invalid offer and accepts the next", () => {
  const { response, declined } = accept(
    "permessage-deflate; server_max_window_bits=7, x-webkit-deflate-frame, permessage-deflate",
    TAKEOVER,
  );
  assert.equal(response, "permessage-deflate");
  assert.equal(declined.length, 1);
  assert.match(declined[0]!, /server_max_window_bits must be an integer from 8 to 15, got "7"/);
});

Deno.test("negotiatePerMessageDeflate declines offers with invalid parameters", () => {
  const cases: [string, RegExp][] = [
    ["permessage-deflate; server_no_context_takeover; server_no_context_takeover", /appears twice/],
    ["permessage-deflate; client_max_window_bits; client_max_window_bits=10", /appears twice/],
    ["permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", /appears twice/],
    ["permessage-deflate; foo", /unknown parameter foo/],
    ["permessage-deflate; server_no_context_takeover=1", /must not have a value/],
    ["permessage-deflate; client_no_context_takeover=true", /must not have a value/],
    ["permessage-deflate; server_max_window_bits", /got no value/],
    ["permessage-deflate; server_max_window_bits=16", /got "16"/],
    ["permessage-deflate; server_max_window_bits=010", /got "010"/],
    ["permessage-deflate; server_max_window_bits=08", /got "08"/],
    ['permessage-deflate; client_max_window_bits="abc"', /got "abc"/],
    ["permessage-deflate; client_max_window_bits=7", /got "7"/],
  ];
  for (const [header, reason] of cases) {
    const declined = decline(header);
    assert.equal(declined.length, 1, header);
    assert.match(declined[0]!, /^Declined permessage-deflate offer: /);
    assert.match(declined[0]!, reason, header);
  }
});

Deno.test("negotiatePerMessageDeflate accepts a quoted window value", () => {
  assert.equal(
    accept('permessage-deflate; server_max_window_bits="11"', TAKEOVER).params.serverMaxWindowBits,
    11,
  );
});

Deno.test("negotiatePerMessageDeflate ignores other extensions", () => {
  assert.deepEqual(decline("x-webkit-deflate-frame, foo; bar=1"), []);
  assert.deepEqual(negotiatePerMessageDeflate([]), { accepted: false, declined: [] });
});

Deno.test("negotiatePerMessageDeflate accepts nothing when disabled", () => {
  assert.deepEqual(decline("permessage-deflate", { enabled: false }), []);
});

Deno.test("negotiatePerMessageDeflate throws RangeError on an invalid policy", () => {
  assert.throws(
    () => negotiatePerMessageDeflate([], { serverMaxWindowBits: 16 }),
    RangeError,
  );
  assert.throws(
    () => negotiatePerMessageDeflate([], { clientMaxWindowBits: 7.5 }),
    RangeError,
  );
});

Deno.test("createPerMessageDeflateOffer builds the default and a full offer", () => {
  assert.equal(
    formatExtensions([createPerMessageDeflateOffer()]),
    "permessage-deflate; client_max_window_bits",
  );
  assert.equal(
    formatExtensions([createPerMessageDeflateOffer({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    })]),
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
      "server_max_window_bits=10; client_max_window_bits=11",
  );
  assert.throws(() => createPerMessageDeflateOffer({ serverMaxWindowBits: 7 }), RangeError);
  assert.throws(() => createPerMessageDeflateOffer({ clientMaxWindowBits: 16 }), RangeError);
});

function response(
  header: string,
  options?: PerMessageDeflateClientOptions,
): ReturnType<typeof acceptPerMessageDeflateResponse> {
  return acceptPerMessageDeflateResponse(offers(header), createPerMessageDeflateOffer(options));
}

Deno.test("acceptPerMessageDeflateResponse reads the server's agreement", () => {
  const result = response(
    "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10",
  );
  assert.deepEqual(result, {
    ok: true,
    params: {
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 12,
      clientMaxWindowBits: 10,
    },
  });
});

Deno.test("acceptPerMessageDeflateResponse reports a declined extension as no params", () => {
  assert.deepEqual(response("x-other"), { ok: true, params: undefined });
  assert.deepEqual(
    acceptPerMessageDeflateResponse([], createPerMessageDeflateOffer()),
    { ok: true, params: undefined },
  );
});

Deno.test("acceptPerMessageDeflateResponse applies the client's own declarations", () => {
  const result = response("permessage-deflate", {
    clientNoContextTakeover: true,
    clientMaxWindowBits: 11,
  });
  assert(result.ok && result.params);
  assert.equal(result.params.clientNoContextTakeover, true);
  assert.equal(result.params.clientMaxWindowBits, 11);
});

Deno.test("acceptPerMessageDeflateResponse fails a response that breaks RFC 7692", () => {
  const cases: [string, PerMessageDeflateClientOptions, RegExp][] = [
    ["permessage-deflate; foo", {}, /unknown parameter foo/],
    ["permessage-deflate; client_max_window_bits", {}, /got no value/],
    ["permessage-deflate; server_max_window_bits=16", {}, /got "16"/],
    [
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      {},
      /appears twice/,
    ],
    ["permessage-deflate, permessage-deflate", {}, /accepted permessage-deflate twice/],
    ["permessage-deflate", { serverNoContextTakeover: true }, /requested, not granted/],
    ["permessage-deflate", { serverMaxWindowBits: 10 }, /requested, not granted/],
    [
      "permessage-deflate; server_max_window_bits=11",
      { serverMaxWindowBits: 10 },
      /exceeds the requested 10/,
    ],
    [
      "permessage-deflate; client_max_window_bits=12",
      { clientMaxWindowBits: 11 },
      /exceeds the offered 11/,
    ],
  ];
  for (const [header, options, reason] of cases) {
    const result = response(header, options);
    assert(!result.ok, header);
    assert.match(result.reason, /^Cannot accept permessage-deflate response: /);
    assert.match(result.reason, reason, header);
  }
});

Deno.test("acceptPerMessageDeflateResponse fails client_max_window_bits that was not offered", () => {
  const offer = { name: "permessage-deflate", params: [] };
  const result = acceptPerMessageDeflateResponse(
    offers("permessage-deflate; client_max_window_bits=10"),
    offer,
  );
  assert(!result.ok);
  assert.match(result.reason, /client_max_window_bits was not offered/);
});

Deno.test("negotiatePerMessageDeflate and acceptPerMessageDeflateResponse agree", () => {
  const clientOptions: PerMessageDeflateClientOptions[] = [
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true, clientMaxWindowBits: 12 },
    { serverMaxWindowBits: 8 },
  ];
  const policies: PerMessageDeflateOptions[] = [
    {},
    TAKEOVER,
    { ...TAKEOVER, serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
  ];
  for (const clientOption of clientOptions) {
    for (const policy of policies) {
      const offer = createPerMessageDeflateOffer(clientOption);
      const server = negotiatePerMessageDeflate(offers(formatExtensions([offer])), policy);
      assert(server.accepted);
      const client = acceptPerMessageDeflateResponse(
        offers(formatExtensions([server.response])),
        offer,
      );
      assert(client.ok, client.ok ? "" : client.reason);
      const label = JSON.stringify({ clientOption, policy });
      // The client's view of the server's window is what the server announced (15 when it
      // announced nothing); the server may compress with a smaller one.
      assert(client.params!.serverMaxWindowBits >= server.params.serverMaxWindowBits, label);
      assert.equal(
        client.params!.serverNoContextTakeover,
        server.params.serverNoContextTakeover,
        label,
      );
      assert.equal(
        client.params!.clientNoContextTakeover,
        server.params.clientNoContextTakeover,
        label,
      );
      assert(client.params!.clientMaxWindowBits <= server.params.clientMaxWindowBits, label);
    }
  }
});
