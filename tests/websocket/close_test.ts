import assert from "node:assert/strict";
import {
  decodeClosePayload,
  encodeClosePayload,
  isValidCloseCode,
  MAX_CLOSE_REASON_BYTES,
} from "../../lib/websocket/close.ts";
import { hex, toHex } from "./_connection_helpers.ts";

/** The rule written out as a list, independent of the implementation's ranges. */
const SENDABLE = new Set([
  1000,
  1001,
  1002,
  1003,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  ...Array.from({ length: 2000 }, (_, i) => 3000 + i),
]);

Deno.test("isValidCloseCode accepts exactly 1000-1003, 1007-1014 and 3000-4999 over 0..65535", () => {
  for (let code = 0; code <= 0xffff; code++) {
    assert.equal(isValidCloseCode(code), SENDABLE.has(code), `code ${code}`);
  }
  for (const code of [-1000, 1000.5, NaN, Infinity, 70000]) {
    assert.equal(isValidCloseCode(code), false);
  }
});

Deno.test("decodeClosePayload reports 1005 for an empty payload", () => {
  assert.deepEqual(decodeClosePayload(new Uint8Array(0)), {
    type: "close",
    close: { code: 1005, reason: "" },
  });
});

Deno.test("decodeClosePayload rejects a 1-byte payload with 1002", () => {
  const result = decodeClosePayload(hex("03"));
  assert.equal(result.type, "error");
  if (result.type !== "error") return;
  assert.equal(result.error.code, "WS_ERR_INVALID_CLOSE_PAYLOAD");
  assert.equal(result.error.closeCode, 1002);
});

Deno.test("decodeClosePayload decodes a code and a UTF-8 reason", () => {
  assert.deepEqual(decodeClosePayload(hex("0fa0 ceba e1bdb9 cf83 cebc ceb5")), {
    type: "close",
    close: { code: 4000, reason: "\u03ba\u1f79\u03c3\u03bc\u03b5" }, // κόσμε
  });
  assert.deepEqual(decodeClosePayload(hex("03e9")), {
    type: "close",
    close: { code: 1001, reason: "" },
  });
});

Deno.test("decodeClosePayload rejects every code that may not be on the wire with 1002", () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0xffff]) {
    const result = decodeClosePayload(new Uint8Array([code >> 8, code & 0xff]));
    assert.equal(result.type === "error" && result.error.code, "WS_ERR_INVALID_CLOSE_CODE");
    assert.equal(result.type === "error" && result.error.closeCode, 1002);
  }
});

Deno.test("decodeClosePayload rejects a reason that is not UTF-8 with 1007", () => {
  for (const reason of ["ff", "ed a0 80", "c0 af", "e2 82"]) {
    const result = decodeClosePayload(hex("03e8 " + reason));
    assert.equal(result.type === "error" && result.error.code, "WS_ERR_INVALID_UTF8");
    assert.equal(result.type === "error" && result.error.closeCode, 1007);
  }
});

Deno.test("decodeClosePayload keeps a leading U+FEFF in the reason", () => {
  const result = decodeClosePayload(hex("03e8 efbbbf 41"));
  assert.equal(result.type === "close" && result.close.reason, "\ufeffA");
});

Deno.test("encodeClosePayload writes the code big-endian and the reason as UTF-8", () => {
  assert.equal(toHex(encodeClosePayload(1000)), "03e8");
  assert.equal(toHex(encodeClosePayload(4999, "κ")), "1387ceba");
  assert.equal(encodeClosePayload().length, 0);
  assert.equal(encodeClosePayload(undefined, "").length, 0);
});

Deno.test("encodeClosePayload accepts a reason of exactly 123 bytes and refuses 124", () => {
  assert.equal(MAX_CLOSE_REASON_BYTES, 123);
  assert.equal(encodeClosePayload(1000, "a".repeat(123)).length, 125);
  assert.equal(encodeClosePayload(1000, "€".repeat(41)).length, 125);
  assert.throws(() => encodeClosePayload(1000, "a".repeat(124)), RangeError);
  assert.throws(() => encodeClosePayload(1000, "€".repeat(41) + "a"), RangeError);
  assert.throws(() => encodeClosePayload(1000, "😀".repeat(31)), RangeError); // 124 bytes, 62 units
});

Deno.test("encodeClosePayload refuses codes that may not be sent and a reason without a code", () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 5000, 1000.5, NaN]) {
    assert.throws(() => encodeClosePayload(code), RangeError, `code ${code}`);
  }
  assert.throws(() => encodeClosePayload(undefined, "why"), TypeError);
});

Deno.test("encodeClosePayload and decodeClosePayload round-trip", () => {
  for (const [code, reason] of [[1000, ""], [1011, "internal"], [3000, "ü€😀"]] as const) {
    assert.deepEqual(decodeClosePayload(encodeClosePayload(code, reason)), {
      type: "close",
      close: { code, reason },
    });
  }
});
