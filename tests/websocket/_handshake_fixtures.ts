// Real opening-handshake heads, shared by the HTTP head parser and handshake tests.
// Captured 2026-11-22 with a Deno.listen server printing the received bytes, except
// FIREFOX_REQUEST (Firefox is not installed here; reconstructed from Firefox 128's
// documented header order and values).

/** Chromium 156 (headless), `new WebSocket("ws://127.0.0.1:40969/chat?room=1", ["chat", "superchat"])`. */
export const CHROMIUM_REQUEST = "GET /chat?room=1 HTTP/1.1\r\n" +
  "Host: 127.0.0.1:40969\r\n" +
  "Connection: Upgrade\r\n" +
  "Pragma: no-cache\r\n" +
  "Cache-Control: no-cache\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36\r\n" +
  "Upgrade: websocket\r\n" +
  "Origin: http://127.0.0.1:40969\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
  "Accept-Language: en-US,en;q=0.9\r\n" +
  "Sec-WebSocket-Key: kI5BWID9PYnrlxFns96Vcg==\r\n" +
  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
  "Sec-WebSocket-Protocol: chat, superchat\r\n" +
  "\r\n";

/** Firefox 128 (reconstructed): note `Connection: keep-alive, Upgrade`. */
export const FIREFOX_REQUEST = "GET /chat HTTP/1.1\r\n" +
  "Host: localhost:8000\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
  "Accept: */*\r\n" +
  "Accept-Language: en-US,en;q=0.5\r\n" +
  "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "Origin: http://localhost:8000\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "Sec-WebSocket-Extensions: permessage-deflate\r\n" +
  "Sec-WebSocket-Key: 4Rk9DH2p6D0PbNuRHB+MHw==\r\n" +
  "DNT: 1\r\n" +
  "Connection: keep-alive, Upgrade\r\n" +
  "Sec-Fetch-Dest: empty\r\n" +
  "Sec-Fetch-Mode: websocket\r\n" +
  "Sec-Fetch-Site: same-origin\r\n" +
  "Pragma: no-cache\r\n" +
  "Cache-Control: no-cache\r\n" +
  "Upgrade: websocket\r\n" +
  "\r\n";

/** Python websockets 10.4, `connect("ws://127.0.0.1:40969/py/path?x=1", subprotocols=["chat"], origin=...)`. */
export const PYTHON_WEBSOCKETS_REQUEST = "GET /py/path?x=1 HTTP/1.1\r\n" +
  "Host: 127.0.0.1:40969\r\n" +
  "Origin: http://example.com\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Key: txyV1ogxDnrN07XKZLmrdw==\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "User-Agent: Python/3.11 websockets/10.4\r\n" +
  "\r\n";

/** Python aiohttp 3.8.4 client, `ws_connect(..., protocols=("chat",), compress=15)`: lower-case `upgrade`. */
export const AIOHTTP_REQUEST = "GET /aio HTTP/1.1\r\n" +
  "Host: 127.0.0.1:40969\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: upgrade\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "Sec-WebSocket-Key: lABX272P2fSIzVoCf/vlHg==\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
  "Accept: */*\r\n" +
  "Accept-Encoding: gzip, deflate\r\n" +
  "User-Agent: Python/3.11 aiohttp/3.8.4\r\n" +
  "\r\n";

/** The key all the captured responses below answer (the RFC 6455 §1.3 sample nonce). */
export const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Python websockets 10.4 server answering SAMPLE_KEY, `chat, superchat` and permessage-deflate. */
export const PYTHON_WEBSOCKETS_RESPONSE = "HTTP/1.1 101 Switching Protocols\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
  "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "Date: Sun, 22 Nov 2026 07:37:11 GMT\r\n" +
  "Server: Python/3.11 websockets/10.4\r\n" +
  "\r\n";

/** Python aiohttp 3.8.4 server answering the same request: `Connection: upgrade`. */
export const AIOHTTP_RESPONSE = "HTTP/1.1 101 Switching Protocols\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
  "Sec-WebSocket-Extensions: permessage-deflate\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "Content-Type: application/octet-stream\r\n" +
  "Date: Sun, 22 Nov 2026 07:37:13 GMT\r\n" +
  "Server: Python/3.11 aiohttp/3.8.4\r\n" +
  "\r\n";

/** Deno 2.9.6 `Deno.upgradeWebSocket(req, { protocol: "chat" })`: lower-case field names. */
export const DENO_RESPONSE = "HTTP/1.1 101 Switching Protocols\r\n" +
  "upgrade: websocket\r\n" +
  "connection: Upgrade\r\n" +
  "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
  "sec-websocket-protocol: chat\r\n" +
  "date: Sun, 22 Nov 2026 07:37:15 GMT\r\n" +
  "\r\n";

/** RFC 6455 §1.3 sample client handshake. */
export const RFC6455_REQUEST = "GET /chat HTTP/1.1\r\n" +
  "Host: server.example.com\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Origin: http://example.com\r\n" +
  "Sec-WebSocket-Protocol: chat, superchat\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "\r\n";

/** RFC 6455 §1.3 sample server handshake. */
export const RFC6455_RESPONSE = "HTTP/1.1 101 Switching Protocols\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "\r\n";
