/**
 * A disk image for the IDE controller. The file is read once (or the bytes given are
 * copied); by default writes stay in memory (a copy-on-write overlay), so a run never
 * changes its inputs. `writable` writes each sector through to the file; commit() writes
 * the overlay back on request.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputFile } from '../input-file.js';

export const SECTOR = 512;

/** An image to boot from: a file, or bytes already in memory named for messages (a web page fetches its images). */
export type ImageSource = string | { name: string; bytes: Uint8Array };

export const imageName = (source: ImageSource): string => (typeof source === 'string' ? source : source.name);

function checkSize(size: number, flag: string, name: string): void {
  if (size === 0 || size % SECTOR !== 0) {
    throw new MemvisorError(`${flag} ${name}: a disk image must be a non-empty multiple of 512 bytes, this one is ${size} bytes`);
  }
}

export class DiskImage {
  readonly data: Uint8Array;
  private fd: number | null = null;
  dirty = false;

  constructor(readonly path: string, data: Uint8Array, readonly writable: boolean) {
    this.data = data;
  }

  static open(source: ImageSource, flag: string, writable = false): DiskImage {
    if (typeof source !== 'string') {
      if (writable) throw new MemvisorError(`${flag} ${source.name}: an image given as bytes has no file to write through to`);
      checkSize(source.bytes.length, flag, source.name);
      return new DiskImage(source.name, source.bytes.slice(), false);
    }
    const path = source;
    const data = readInputFile(path, INPUT.diskImage, `${flag} ${path}`);
    checkSize(data.length, flag, path);
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
