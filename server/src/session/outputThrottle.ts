// Coalesces the Julia process's stdout/stderr into few notifications and caps their rate: a user loop that prints
// millions of lines must not flood the editor or grow memory. Above the cap the rest of the current second is
// dropped (the pipe is still drained, so Julia never blocks) and a notice says how much was lost.
import type { OutputParams } from '../../../shared/src/protocol.ts';

export interface ThrottleOptions {
  send(chunk: OutputParams): void;
  /** Output accepted per one-second window; the rest of the window is dropped. */
  maxBytesPerSecond?: number;
  /** How long output is gathered before it is sent. */
  flushMs?: number;
  now?: () => number;
}

export class OutputThrottle {
  private readonly send: (chunk: OutputParams) => void;
  private readonly maxBytes: number;
  private readonly flushMs: number;
  private readonly now: () => number;
  private pending: OutputParams[] = [];
  private windowStart = 0;
  private windowBytes = 0;
  private droppedBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: ThrottleOptions) {
    this.send = options.send;
    this.maxBytes = options.maxBytesPerSecond ?? 256 * 1024;
    this.flushMs = options.flushMs ?? 30;
    this.now = options.now ?? Date.now;
  }

  push(stream: OutputParams['stream'], text: string): void {
    if (!text) return;
    this.rollWindow();
    const bytes = Buffer.byteLength(text);
    const room = this.maxBytes - this.windowBytes;
    if (bytes <= room) {
      this.append(stream, text);
      this.windowBytes += bytes;
    } else {
      // Once dropping starts, the window is full (room = 0) until it rolls over.
      const kept = room > 0 ? cutToBytes(text, room) : '';
      if (kept) this.append(stream, kept);
      if (this.droppedBytes === 0) {
        this.append('stderr', `\n[output faster than ${kb(this.maxBytes)}/s: dropping the rest of this second]\n`);
      }
      this.windowBytes = this.maxBytes;
      this.droppedBytes += bytes - Buffer.byteLength(kept);
    }
    this.schedule();
  }

  /** Sends everything gathered so far (e.g. before an evaluation result is reported). */
  flush(): void {
    this.rollWindow();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const chunks = this.pending;
    this.pending = [];
    for (const chunk of chunks) this.send(chunk);
    if (this.droppedBytes > 0) this.schedule();
  }

  /** Flushes and reports any dropped output now; the throttle can be reused afterwards. */
  dispose(): void {
    this.windowStart = -Infinity;
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private append(stream: OutputParams['stream'], text: string): void {
    const last = this.pending[this.pending.length - 1];
    if (last && last.stream === stream) last.text += text;
    else this.pending.push({ stream, text });
  }

  private rollWindow(): void {
    const now = this.now();
    if (now - this.windowStart < 1000) return;
    if (this.droppedBytes > 0) this.append('stderr', `[${kb(this.droppedBytes)} of output dropped]\n`);
    this.windowStart = now;
    this.windowBytes = 0;
    this.droppedBytes = 0;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.flushMs);
  }
}

function kb(bytes: number): string {
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} bytes`;
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `bytes`. */
export function cutToBytes(text: string, bytes: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= bytes) return text;
  let end = bytes;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--; // do not split a UTF-8 sequence
  return buf.subarray(0, end).toString();
}
