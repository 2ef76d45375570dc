/**
 * The framing of the GDB remote serial protocol over one TCP connection: packets are
 * `$body#cc` (cc: the sum of the body's bytes mod 256, two hex digits), acknowledged with
 * `+` (or `-`: send it again) until the debugger turns acknowledgements off; inside a
 * body `}` escapes the next byte (xor 0x20); a lone 0x03 byte outside any packet is
 * Ctrl-C. What the packets mean is stub.ts's business.
 */
import type { Socket } from 'node:net';

export interface PacketHandlers {
  packet(body: string): void;
  interrupt(): void;
  closed(): void;
}

const checksum = (body: string) => {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) & 0xff;
  return sum.toString(16).padStart(2, '0');
};

/** `$`, `#`, `}` and `*` (run-length marker) cannot appear raw in a body. */
export function escapeBody(body: string): string {
  return body.replace(/[$#}*]/g, (c) => `}${String.fromCharCode(c.charCodeAt(0) ^ 0x20)}`);
}

function unescapeBody(body: string): string {
  return body.replace(/\}([\s\S])/g, (_, c: string) => String.fromCharCode(c.charCodeAt(0) ^ 0x20));
}

export class PacketConnection {
  private input = '';
  private lastSent = '';
  private acknowledging = true;
  private open = true;

  constructor(private readonly socket: Socket, private readonly handlers: PacketHandlers) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk.toString('latin1')));
    socket.on('close', () => this.closeOnce());
    socket.on('error', () => this.closeOnce());
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Sends one packet (its body escaped here). */
  send(body: string): void {
    if (!this.open) return;
    const escaped = escapeBody(body);
    this.lastSent = `$${escaped}#${checksum(escaped)}`;
    this.socket.write(this.lastSent, 'latin1');
  }

  /** After QStartNoAckMode: neither side acknowledges packets any more. */
  stopAcknowledging(): void {
    this.acknowledging = false;
  }

  /** Ends the connection after what was sent has gone out. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.socket.end();
    this.handlers.closed();
  }

  private closeOnce(): void {
    if (!this.open) return;
    this.open = false;
    this.socket.destroy();
    this.handlers.closed();
  }

  private receive(text: string): void {
    this.input += text;
    while (this.open && this.input.length > 0) {
      const first = this.input[0]!;
      if (first === '\x03') {
        this.input = this.input.slice(1);
        this.handlers.interrupt();
      } else if (first === '$') {
        const hash = this.input.indexOf('#');
        if (hash < 0 || this.input.length < hash + 3) return;  // the rest is still on its way
        const raw = this.input.slice(1, hash);
        const sum = this.input.slice(hash + 1, hash + 3);
        this.input = this.input.slice(hash + 3);
        if (this.acknowledging) {
          if (sum.toLowerCase() !== checksum(raw)) {
            this.socket.write('-');
            continue;
          }
          this.socket.write('+');
        }
        this.handlers.packet(unescapeBody(raw));
      } else {
        // `+` acknowledges what we sent; `-` asks for it again; anything else is noise between packets.
        if (first === '-' && this.acknowledging && this.lastSent) this.socket.write(this.lastSent, 'latin1');
        this.input = this.input.slice(1);
      }
    }
  }
}
