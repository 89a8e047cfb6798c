// A streaming text response with a bounded byte queue, heartbeats and abort handling (the
// iframe transport's counterpart of the SSE module's event stream).

export type TextStreamCloseReason = "client-gone" | "overflow" | "closed";

export interface TextStreamOptions {
  readonly maxQueuedBytes: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeat: string;
  readonly headers: Headers;
  readonly signal: AbortSignal;
}

export interface TextStream {
  readonly response: Response;
  /** Queues text; false when closed or when it overflowed the queue (the stream is aborted). */
  write(text: string): boolean;
  close(): void;
  readonly closed: Promise<TextStreamCloseReason>;
}

const encoder = new TextEncoder();

export function createTextStream(options: TextStreamOptions): TextStream {
  const { maxQueuedBytes, signal } = options;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let resolveClosed!: (reason: TextStreamCloseReason) => void;
  const closed = new Promise<TextStreamCloseReason>((resolve) => resolveClosed = resolve);
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      finish("client-gone");
    },
  }, { highWaterMark: maxQueuedBytes, size: (chunk) => chunk.byteLength });

  function onAbort(): void {
    finish("client-gone");
  }

  function finish(reason: TextStreamCloseReason): void {
    if (!open) return;
    open = false;
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    signal.removeEventListener("abort", onAbort);
    try {
      // Overflow drops the queued bytes at once; a departed client needs no error (the HTTP
      // layer would only log it).
      if (reason === "overflow") controller.error(new Error("Stream closed: overflow"));
      else controller.close();
    } catch {
      // Already cancelled by the reader.
    }
    resolveClosed(reason);
  }

  function write(text: string): boolean {
    if (!open) return false;
    const bytes = encoder.encode(text);
    const queued = maxQueuedBytes - (controller.desiredSize ?? 0);
    if (queued > 0 && queued + bytes.byteLength > maxQueuedBytes) {
      finish("overflow");
      return false;
    }
    controller.enqueue(bytes);
    return true;
  }

  const response = new Response(body, { status: 200, headers: options.headers });
  if (signal.aborted) {
    finish("client-gone");
  } else {
    signal.addEventListener("abort", onAbort, { once: true });
    if (options.heartbeatIntervalMs > 0) {
      heartbeat = setInterval(() => write(options.heartbeat), options.heartbeatIntervalMs);
    }
  }
  return { response, write, close: () => finish("closed"), closed };
}
