/**
 * Persistence of the SLO engine: its rings cut into pages (360 fine buckets, 96 coarse slots)
 * plus a header, the pages changed since the last write, and the restore that recomputes the
 * running sums from the rings.
 */
import { periodBounds } from './calendar.js';
import type { CalendarWindow } from './calendar.js';
import { EngineBudget } from './engine-budget.js';
import { HEADER_BYTES, HEADER_V1_BYTES, HEADER_VERSION, MODE_CALENDAR, MODE_ROLLING_COARSE, SLOT_MS, mod } from './engine-rings.js';

/** The engine with its state snapshot and restore. */
export class EngineState extends EngineBudget {
  /** Every page key: `h` (header), `f0` … (fine ring), `c0` … (coarse ring). */
  pageKeys(): string[] {
    const keys = ['h'];
    for (let i = 0; i < this.fineDirty.length; i++) keys.push(`f${i}`);
    for (let i = 0; i < this.coarseDirty.length; i++) keys.push(`c${i}`);
    return keys;
  }

  /**
   * Keys of the pages changed since the last {@link clearDirty}: `h` (header: newest bucket,
   * late counter, alert states), `f<i>` (fine buckets 360i … 360i + 359 of the ring), `c<i>`
   * (coarse slots 96i …). Write them all, then clear; a page never written is all zeros.
   */
  dirtyPages(): Iterable<string> {
    const keys: string[] = [];
    if (this.headerDirty) keys.push('h');
    for (let i = 0; i < this.fineDirty.length; i++) if (this.fineDirty[i] === 1) keys.push(`f${i}`);
    for (let i = 0; i < this.coarseDirty.length; i++) if (this.coarseDirty[i] === 1) keys.push(`c${i}`);
    return keys;
  }

  /** Forgets which pages changed. */
  clearDirty(): void {
    this.headerDirty = false;
    this.fineDirty.fill(0);
    this.coarseDirty.fill(0);
  }

  /** The page's bytes: header 40 bytes; a fine page 360 good then 360 total doubles (LE); a coarse page 96 + 96. */
  writePage(key: string): Buffer {
    if (key === 'h') {
      const buf = Buffer.alloc(HEADER_BYTES);
      buf.writeUInt8(HEADER_VERSION, 0);
      buf.writeUInt8(this.started ? 1 : 0, 1);
      for (let t = 0; t < 3; t++) buf.writeUInt8(this.tierState[t] as number, 2 + t);
      buf.writeDoubleLE(this.bucketMs, 8);
      buf.writeUInt32LE(this.fineSize, 16);
      buf.writeUInt32LE(this.coarseSize, 20);
      buf.writeDoubleLE(this.clock, 24);
      buf.writeDoubleLE(this.lateCount, 32);
      buf.writeDoubleLE(this.firstMs, 40);
      return buf;
    }
    const [good, total, from, size] = this.pageOf(key);
    const buf = Buffer.alloc(size * 16);
    for (let i = 0; i < size; i++) {
      buf.writeDoubleLE(good[from + i] as number, i * 8);
      buf.writeDoubleLE(total[from + i] as number, (size + i) * 8);
    }
    return buf;
  }

  /**
   * Restores a page written by {@link writePage} (of an engine with the same spec and bucketMs:
   * a header of another configuration throws a RangeError). Read every stored page, in any
   * order, into a fresh engine, then call {@link restored}.
   */
  readPage(key: string, buf: Buffer): void {
    if (key === 'h') {
      const v1 = buf.length === HEADER_V1_BYTES && buf.readUInt8(0) === 1;
      if (!v1 && (buf.length !== HEADER_BYTES || buf.readUInt8(0) !== HEADER_VERSION)) throw new RangeError(`SLO engine header must be ${HEADER_BYTES} bytes of version ${HEADER_VERSION}`);
      if (buf.readDoubleLE(8) !== this.bucketMs || buf.readUInt32LE(16) !== this.fineSize || buf.readUInt32LE(20) !== this.coarseSize) {
        throw new RangeError('SLO engine header is of another bucket size or period');
      }
      this.started = buf.readUInt8(1) === 1;
      for (let t = 0; t < 3; t++) this.tierState[t] = buf.readUInt8(2 + t) === 1 ? 1 : 0;
      this.clock = buf.readDoubleLE(24);
      this.lateCount = buf.readDoubleLE(32);
      this.firstMs = v1 ? Number.NEGATIVE_INFINITY : buf.readDoubleLE(40);
      this.headerDirty = v1;
      return;
    }
    const [good, total, from, size, dirty, page] = this.pageOf(key);
    if (buf.length !== size * 16) throw new RangeError(`SLO engine page ${key} must be ${size * 16} bytes, got ${buf.length}`);
    for (let i = 0; i < size; i++) {
      good[from + i] = buf.readDoubleLE(i * 8);
      total[from + i] = buf.readDoubleLE((size + i) * 8);
    }
    dirty[page] = 0;
  }

  /** Recomputes the running sums from the rings after pages were read. */
  restored(): void {
    this.goodSum.fill(0);
    this.totalSum.fill(0);
    this.active.fill(0);
    this.pGood = 0;
    this.pTotal = 0;
    this.pActive = 0;
    this.pStart = Number.NEGATIVE_INFINITY;
    this.pEnd = Number.NEGATIVE_INFINITY;
    if (!this.started) return;
    this.cursors();
    for (let j = 0; j < this.lens.length; j++) this.resyncWindow(j, this.clock);
    if (this.mode === MODE_ROLLING_COARSE) {
      this.resyncPeriod(this.clock);
    } else if (this.mode === MODE_CALENDAR) {
      const { startMs, endMs } = periodBounds(this.window as CalendarWindow, this.clock * this.bucketMs);
      this.pStart = startMs;
      this.pEnd = endMs;
      const last = Math.floor(this.clock / this.bucketsPerSlot);
      for (let c = Math.floor(startMs / SLOT_MS); c <= last; c++) {
        const k = mod(c, this.coarseSize);
        this.pGood += this.coarseGood[k] as number;
        this.pTotal += this.coarseTotal[k] as number;
      }
    }
  }
}
