/** Server-sent events from a fetch Response body (parsing by eventsource-parser). */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One event: `event` is the SSE event name when the server sent one (Anthropic does). */
export type SseEvent = EventSourceMessage;

/** Iterate the events of a `text/event-stream` body as they arrive. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const pending: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => pending.push(e) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (pending.length > 0) yield pending.shift()!;
    }
    parser.feed(decoder.decode());
    // A final event without its blank line is still delivered.
    parser.feed('\n\n');
    while (pending.length > 0) yield pending.shift()!;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
