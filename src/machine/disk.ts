/**
 * A disk image for the IDE controller. The file is read once (or the bytes given are
 * copied); by default writes stay in memory (a copy-on-write overlay), so a run never
 * changes its inputs. `writable` writes each sector through to the file; commit() writes
 * the overlay back on request.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { MemvisorError } from '../errors.js';
import { INPUT, readInputFile } from '../input-file.js';
import { copyBackMarked } from '../cpu/memory.js';

export const SECTOR = 512;

/** An image to boot from: a file, or bytes already in memory named for messages (a web page fetches its images). */
export type ImageSource = string | { name: string; bytes: Uint8Array };

export const imageName = (source: ImageSource): string => (typeof source === 'string' ? source : source.name);

function checkSize(size: number, flag: string, name: string): void {
  if (size === 0 || size % SECTOR !== 0) {
    throw new MemvisorError(`${flag} ${name}: a disk image must be a non-empty multiple of 512 bytes, this one is ${size} bytes`);
  }
}

/**
 * A restored disk's bytes as the next machine takes them over (PC.leftovers, a campaign's
 * runs): the bytes, and which 4 KiB chunks may have been written since they last held all
 * of `image` (the snapshot's disk image), so that restoring the same image again copies
 * only those chunks instead of the whole disk.
 */
export interface DiskBytes {
  data: Uint8Array;
  written: Uint8Array;
  image: Uint8Array;
}

/** Bytes per mark in DiskBytes.written (a whole number of sectors). */
const CHUNK = 4096;

export class DiskImage {
  readonly data: Uint8Array;
  private fd: number | null = null;
  dirty = false;
  /** For a disk restored from a snapshot's image: the image, and the chunks written since (see DiskBytes). */
  private restored: { image: Uint8Array; written: Uint8Array } | null = null;

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

  /**
   * A disk with a snapshot's image in memory (writes stay there). `reuse`: the bytes of a
   * finished machine's disk (DiskImage.leftover); taken over when they last held the same
   * image, and then only the chunks written since are copied back. Otherwise a copy.
   */
  static restore(path: string, image: Uint8Array, reuse?: DiskBytes | null): DiskImage {
    let data: Uint8Array, written: Uint8Array;
    if (reuse && reuse.image === image && reuse.data.length === image.length) {
      data = reuse.data;
      written = reuse.written;
      copyBackMarked(data, image, written, CHUNK);
    } else {
      data = image.slice();
      written = new Uint8Array(Math.ceil(image.length / CHUNK));
    }
    const disk = new DiskImage(path, data, false);
    disk.restored = { image, written };
    return disk;
  }

  /** This disk's bytes for a machine restored from the same snapshot after this one is done (null: not a restored disk). */
  leftover(): DiskBytes | null {
    return this.restored === null ? null : { data: this.data, written: this.restored.written, image: this.restored.image };
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
    if (this.restored !== null) this.restored.written[Math.floor((lba * SECTOR) / CHUNK)] = 1;
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
