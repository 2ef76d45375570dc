/**
 * The memory map on a canvas: one cell per host frame, 64 to a row (256 KiB), coloured by
 * role. The roles arrive from the worker a few times a second; each is painted once into
 * an image of one pixel per frame, which the canvas scales up (zoom) without smoothing,
 * so drawing costs the same at any size. Rows of free frames only can be folded away
 * (most of a fresh guest's memory is free; a dashed line marks where rows were left
 * out). A selected process dims every frame but its native pages and their twins.
 */
import { FRAME_ROLES, type AddressSpaceView, type FrameRole } from '../vmm/index.js';

export const COLUMNS = 64;

/** Role colours (distinct in hue and lightness; the recovered green is what the browser test looks for). */
export const ROLE_COLOURS: Record<FrameRole, [number, number, number]> = {
  free: [226, 232, 240],
  kernel: [100, 116, 139],
  spare: [253, 230, 138],
  mirror: [6, 182, 212],
  native: [37, 99, 235],
  'page-table': [168, 85, 247],
  recovered: [22, 163, 74],
  poisoned: [220, 38, 38],
  retired: [17, 24, 39],
};

export const ROLE_LABELS: Record<FrameRole, string> = {
  free: 'free or kernel data', kernel: 'kernel image', spare: 'spare (reserved)', mirror: 'mirror twin', native: 'native user page',
  'page-table': 'page table', recovered: 'recovered', poisoned: 'poisoned', retired: 'retired',
};

/** Roles of frames with nothing in them: rows of these alone can be folded away. */
const EMPTY = new Set([FRAME_ROLES.indexOf('free'), FRAME_ROLES.indexOf('spare')]);

export const rgb = ([r, g, b]: [number, number, number]) => `rgb(${r}, ${g}, ${b})`;

export interface MapData {
  roles: Uint8Array;
  guestFrames: number;
  spareEnd: number;
  spaces: AddressSpaceView[];
}

export class MemoryMapView {
  private data: MapData | null = null;
  private readonly image = document.createElement('canvas');
  private cell = 3;
  private selected: number | null = null;
  /** Fold rows holding free frames only; the host rows shown, top to bottom. */
  private fold = true;
  private shownRows: number[] = [];
  /** The frame under the keyboard cursor, outlined. */
  cursor: number | null = null;
  private pending = false;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  get frames(): number {
    return this.data?.roles.length ?? 0;
  }

  setData(data: MapData): void {
    this.data = data;
    this.paint();
  }

  setZoom(cell: number): void {
    this.cell = cell;
    this.paint();
  }

  setFold(fold: boolean): void {
    this.fold = fold;
    this.paint();
  }

  /** Highlight the address space with this page directory (null: none). */
  select(directory: number | null): void {
    this.selected = directory;
    this.paint();
  }

  /** The host frame at a point of the canvas (CSS pixels), or null. */
  frameAt(x: number, y: number): number | null {
    const row = this.shownRows[Math.floor(y / this.cell)];
    if (row === undefined || x < 0 || x >= COLUMNS * this.cell) return null;
    const frame = row * COLUMNS + Math.floor(x / this.cell);
    return frame < this.frames ? frame : null;
  }

  /** The frame the keyboard cursor reaches from where it is, `delta` frames on (a row is ±COLUMNS: the next shown row). */
  moveCursor(delta: number): number {
    const shown = this.shownRows, from = this.cursor ?? shown[0]! * COLUMNS;
    let line = shown.indexOf(Math.floor(from / COLUMNS)), column = from % COLUMNS;
    if (Math.abs(delta) === COLUMNS) line += Math.sign(delta);
    else column += delta;
    if (column < 0) { column = COLUMNS - 1; line--; }
    if (column >= COLUMNS) { column = 0; line++; }
    line = Math.min(shown.length - 1, Math.max(0, line));
    return Math.min(this.frames - 1, shown[line]! * COLUMNS + column);
  }

  /**
   * The rows to show: all of them, or (folding) the first row of each region and every
   * row with something in it: a frame neither free nor an untouched spare.
   */
  private rowsToShow(data: MapData): number[] {
    const rows = Math.ceil(data.roles.length / COLUMNS);
    const shown: number[] = [];
    const starts = new Set([0, data.guestFrames / COLUMNS, data.spareEnd / COLUMNS]);
    for (let row = 0; row < rows; row++) {
      if (!this.fold || starts.has(row) || data.roles.subarray(row * COLUMNS, (row + 1) * COLUMNS).some((r) => !EMPTY.has(r))) shown.push(row);
    }
    return shown;
  }

  /** Repaints once in the next animation frame, however often it is asked. */
  paint(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const data = this.data;
    if (!data) return;
    const shown = this.shownRows = this.rowsToShow(data);
    const image = this.image;
    image.width = COLUMNS;
    image.height = shown.length;
    const context = image.getContext('2d')!;
    const pixels = context.createImageData(COLUMNS, shown.length);
    const chosen = this.selectedFrames(data);
    const colours = FRAME_ROLES.map((r) => ROLE_COLOURS[r]);
    shown.forEach((row, line) => {
      for (let column = 0; column < COLUMNS; column++) {
        const frame = row * COLUMNS + column;
        if (frame >= data.roles.length) break;
        let [r, g, b] = colours[data.roles[frame]!]!;
        if (chosen && !chosen.has(frame)) [r, g, b] = [r + (255 - r) * 0.8, g + (255 - g) * 0.8, b + (255 - b) * 0.8];
        const at = (line * COLUMNS + column) * 4;
        pixels.data[at] = r; pixels.data[at + 1] = g; pixels.data[at + 2] = b; pixels.data[at + 3] = 255;
      }
    });
    context.putImageData(pixels, 0, 0);
    const canvas = this.canvas, cell = this.cell;
    canvas.width = COLUMNS * cell;
    canvas.height = shown.length * cell;
    canvas.style.width = `${canvas.width}px`;
    canvas.style.height = `${canvas.height}px`;
    const out = canvas.getContext('2d')!;
    out.imageSmoothingEnabled = false;
    out.drawImage(image, 0, 0, canvas.width, canvas.height);
    // Solid: where the spare pool and the hardware mirror's copy begin; dashed: rows folded away.
    const regionStarts = [data.guestFrames / COLUMNS, data.spareEnd / COLUMNS];
    shown.forEach((row, line) => {
      if (line === 0) return;
      const region = regionStarts.includes(row), folded = row !== shown[line - 1]! + 1;
      if (!region && !folded) return;
      out.fillStyle = region ? '#0f172a' : '#64748b';
      if (region) out.fillRect(0, line * cell - 1, canvas.width, 2);
      else for (let x = 0; x < canvas.width; x += 8) out.fillRect(x, line * cell - 1, 4, 1);
    });
    const cursorLine = this.cursor === null ? -1 : shown.indexOf(Math.floor(this.cursor / COLUMNS));
    if (cursorLine >= 0) {
      out.strokeStyle = '#f59e0b';
      out.lineWidth = 2;
      out.strokeRect((this.cursor! % COLUMNS) * cell - 1, cursorLine * cell - 1, cell + 2, cell + 2);
    }
  }

  private selectedFrames(data: MapData): Set<number> | null {
    if (this.selected === null) return null;
    const space = data.spaces.find((s) => s.directory === this.selected);
    if (!space) return null;
    return new Set([...space.native, ...space.twins.filter((t): t is number => t !== null), ...space.otherMirrors]);
  }
}
