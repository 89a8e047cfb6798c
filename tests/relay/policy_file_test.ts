import assert from "node:assert/strict";
import { buildPolicyFile, encodePolicyFile, policyDomainOf } from "../../lib/relay/policy_file.ts";

Deno.test("buildPolicyFile grants each configured domain the configured ports", () => {
  const xml = buildPolicyFile({
    origins: ["https://app.example.com:8443", "http://APP.example.com", "*.example.org"],
    ports: [8001, "9000-9010", 8001],
  });
  assert.equal(
    xml,
    [
      '<?xml version="1.0"?>',
      '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd">',
      "<cross-domain-policy>",
      '<allow-access-from domain="app.example.com" to-ports="8001,9000-9010"/>',
      '<allow-access-from domain="*.example.org" to-ports="8001,9000-9010"/>',
      "</cross-domain-policy>",
    ].join("\n"),
  );
});

Deno.test("buildPolicyFile grants nothing when no origin is configured, never a wildcard", () => {
  const xml = buildPolicyFile({ origins: [], ports: [8001] });
  assert.ok(!xml.includes("allow-access-from"));
  assert.ok(!xml.includes("*"));
});

Deno.test("buildPolicyFile writes a wildcard only when * itself is configured", () => {
  assert.match(buildPolicyFile({ origins: ["*"], ports: ["*"] }), /domain="\*" to-ports="\*"/);
});

Deno.test("policyDomainOf refuses origins with no usable domain", () => {
  for (
    const origin of ["", "https://", "a b", 'x"y', "https://a/b?c", "*foo.com", "https://[::1]"]
  ) {
    assert.throws(() => policyDomainOf(origin), TypeError, origin);
  }
});

Deno.test("buildPolicyFile refuses ports outside 1..65535 and malformed ranges", () => {
  for (const port of [0, 65536, 1.5, "x", "10-5", "1-", "-1", "70000"]) {
    assert.throws(
      () => buildPolicyFile({ origins: ["a.com"], ports: [port] }),
      RangeError,
      String(port),
    );
  }
});

Deno.test("encodePolicyFile ends the document with its only NUL", () => {
  const bytes = encodePolicyFile({ origins: ["a.com"], ports: [843] });
  assert.equal(bytes.indexOf(0), bytes.length - 1);
  assert.equal(
    new TextDecoder().decode(bytes.subarray(0, -1)),
    buildPolicyFile({ origins: ["a.com"], ports: [843] }),
  );
});

Deno.test("buildPolicyFile without ports builds a URL policy for /crossdomain.xml", () => {
  const xml = buildPolicyFile({ origins: ["https://app.example.com"] });
  assert.match(xml, /<allow-access-from domain="app.example.com"\/>/);
  assert.ok(!xml.includes("to-ports"));
});
