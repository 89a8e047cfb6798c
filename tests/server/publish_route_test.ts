import assert from "node:assert/strict";
import { bodyTypeOf } from "../../lib/server/publish_route.ts";

Deno.test("bodyTypeOf classifies text and JSON types with parameters, case-insensitively", () => {
  assert.deepEqual(bodyTypeOf("text/plain"), { kind: "text", charset: "utf-8" });
  assert.deepEqual(bodyTypeOf('Text/HTML; Charset="ISO-8859-1"'), {
    kind: "text",
    charset: "iso-8859-1",
  });
  assert.deepEqual(bodyTypeOf("application/json;charset=utf-8"), {
    kind: "json",
    charset: "utf-8",
  });
  assert.deepEqual(bodyTypeOf("application/ld+json"), { kind: "json", charset: "utf-8" });
});

Deno.test("bodyTypeOf refuses every other type", () => {
  for (
    const type of [
      null,
      "",
      "application/octet-stream",
      "image/png",
      "text",
      "application/jsonx",
      "multipart/form-data",
    ]
  ) {
    assert.equal(bodyTypeOf(type), undefined, String(type));
  }
});
