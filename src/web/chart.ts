/**
 * A small live chart of the memory-error counters over guest time: one line each for
 * faults injected, activated (lost data read), recovered (by the monitor or the guest)
 * and processes killed.
 */
import { CYCLES_PER_SECOND } from '../virtual-time.js';
import type { Counters } from './protocol.js';

export const SERIES = [
  { label: 'injected', colour: '#b91c1c', value: (c: Counters) => c.injected },
  { label: 'activated', colour: '#f59e0b', value: (c: Counters) => c.activated },
  { label: 'recovered', colour: '#16a34a', value: (c: Counters) => c.recovered + c.recoveredByGuest },
  { label: 'killed', colour: '#111827', value: (c: Counters) => c.killed },
] as const;

const MAX_SAMPLES = 600;

export class CounterChart {
  private samples: Array<{ cycle: number; values: number[] }> = [];

  constructor(private readonly canvas: HTMLCanvasElement) {}

  reset(): void {
    this.samples = [];
    this.draw();
  }

  add(cycle: number, counters: Counters): void {
    const values = SERIES.map((s) => s.value(counters));
    const last = this.samples.at(-1);
    if (last && last.cycle === cycle) return;
    this.samples.push({ cycle, values });
    if (this.samples.length > MAX_SAMPLES) this.samples = this.samples.filter((_, i) => i % 2 === 0);
    this.draw();
  }

  private draw(): void {
    const { canvas, samples } = this;
    const c = canvas.getContext('2d')!;
    const w = canvas.width, h = canvas.height, pad = 18;
    c.clearRect(0, 0, w, h);
    c.strokeStyle = '#cbd5e1';
    c.strokeRect(pad, 2, w - pad - 2, h - pad - 2);
    if (samples.length < 2) return;
    const t0 = samples[0]!.cycle, t1 = samples.at(-1)!.cycle;
    const top = Math.max(1, ...samples.flatMap((s) => s.values));
    c.fillStyle = '#475569';
    c.font = '10px system-ui, sans-serif';
    c.fillText(String(top), 0, 10);
    c.fillText('0', 6, h - pad);
    c.fillText(`${((t1 - t0) / CYCLES_PER_SECOND).toFixed(2)} s of guest time`, pad + 4, h - 4);
    SERIES.forEach((series, i) => {
      c.strokeStyle = series.colour;
      c.lineWidth = 2;
      c.beginPath();
      samples.forEach((s, j) => {
        const x = pad + ((s.cycle - t0) / Math.max(1, t1 - t0)) * (w - pad - 4);
        const y = h - pad - (s.values[i]! / top) * (h - pad - 6);
        if (j === 0) c.moveTo(x, y); else c.lineTo(x, y);
      });
      c.stroke();
    });
  }
}
