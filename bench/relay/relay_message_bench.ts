// The relay's per-message cost: XML-escaped JSON in a NUL-terminated document, against the
// plain JSON text + UTF-8 every other transport pays (the baseline).
import { messageJson } from "../../lib/hub/message.ts";
import { encodeRelayMessage, type RelayMessage } from "../../lib/relay/relay_message.ts";

const encoder = new TextEncoder();
const small: RelayMessage = {
  id: "mwrjs512-42",
  channel: "news",
  data: "breaking: 32 bytes of ascii text",
  time: 0,
};
const markup: RelayMessage = {
  id: "mwrjs512-43",
  channel: "news",
  event: "update",
  data: { html: "<p>a &amp; b</p>".repeat(256), n: 1, list: [1, 2, 3] },
  time: 0,
};

for (
  const [name, message] of [["32 B string", small], ["4 KiB markup-heavy JSON", markup]] as const
) {
  Deno.bench(`JSON text + UTF-8 of a ${name} message`, { group: name, baseline: true }, () => {
    // A fresh object each time: messageJson caches per message object.
    encoder.encode(messageJson({ ...message }));
  });
  Deno.bench(`relay document of a ${name} message`, { group: name }, () => {
    encodeRelayMessage({ ...message });
  });
}
