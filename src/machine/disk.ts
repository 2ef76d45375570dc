/**
 * A disk image for the IDE controller. The file is read once; by default writes stay in
 * memory (a copy-on-write overlay), so a run never changes its inputs. `writable` writes
 * each sector through to the file; commit() writes the overlay back on request.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputFile } from '../input-file.js';

export const SECTOR = 512;

export class DiskImage {
  readonly data: Uint8Array;
  private fd: number | null = null;
  dirty = false;

  constructor(readonly path: string, data: Uint8Array, readonly writable: boolean) {
    this.data = data;
  }

  static open(path: string, flag: string, writable = false): DiskImage {
    const data = readInputFile(path, INPUT.diskImage, `${flag} ${path}`);
    if (data.length === 0 || data.length % SECTOR !== 0) {
      throw new MemvisorError(`${flag} ${path}: a disk image must be a non-empty multiple of 512 bytes, this one is ${data.length} bytes`);
    }
    const disk = new DiskImage(path, new Uint8Array(data.buffer, data.byteOffset, data.length), writable);
    if (writable) {
      try {
        disk.fd = openSync(path, 'r+');
      } catch (e) {
        throw new MemvisorError(`${flag} ${path}: cannot open the disk image for writing (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    return disk;
  }

  get sectors(): number {
    return this.data.length / SECTOR;
  }

  read(lba: number, into: Uint8Array, at: number): void {
    into.set(this.data.subarray(lba * SECTOR, (lba + 1) * SECTOR), at);
  }

  write(lba: number, from: Uint8Array, at: number): void {
    const sector = from.subarray(at, at + SECTOR);
    this.data.set(sector, lba * SECTOR);
    this.dirty = true;
    if (this.fd !== null) writeSync(this.fd, sector, 0, SECTOR, lba * SECTOR);
  }

  /** Writes the in-memory image back to its file (for --commit). */
  commit(): void {
    if (!this.dirty || this.fd !== null) return;
    const fd = openSync(this.path, 'r+');
    try {
      writeSync(fd, this.data, 0, this.data.length, 0);
    } finally {
      closeSync(fd);
    }
    this.dirty = false;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
