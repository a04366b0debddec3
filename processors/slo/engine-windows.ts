/**
 * Window sums of the SLO engine: moving the newest bucket on (buckets leave windows, skipped
 * slots are cleared), adding a bucket into every window that holds it, and the periodic
 * recomputation from the rings that bounds floating-point drift.
 */
import { periodBounds } from './calendar.js';
import type { CalendarWindow } from './calendar.js';
import { COARSE_PAGE, COARSE_RESYNC, EngineRings, FINE_PAGE, MODE_CALENDAR, MODE_ROLLING_COARSE, RESYNC, mod } from './engine-rings.js';

/** The engine with its window sums kept up to date. */
export class EngineWindows extends EngineRings {
  protected burn(j: number): number {
    const good = this.goodSum[j] as number;
    const total = this.totalSum[j] as number;
    return total > 0 && total > good ? (total - good) / (total * this.errorBudget) : 0;
  }

  /** Moves the newest bucket to `to` (> clock): buckets leave windows, skipped slots are cleared. */
  protected advance(to: number): void {
    const from = this.clock;
    const gap = to - from;
    const F = this.fineSize;
    const head = this.head;
    const lens = this.lens;
    const fineGood = this.fineGood;
    const fineTotal = this.fineTotal;
    const goodSum = this.goodSum;
    const totalSum = this.totalSum;
    const activeSum = this.active;
    // Fine windows: the buckets from + 1 − len … to − len leave window j.
    for (let j = 0; j < lens.length; j++) {
      const len = lens[j] as number;
      if (gap >= len) {
        goodSum[j] = 0;
        totalSum[j] = 0;
        activeSum[j] = 0;
        continue;
      }
      let active = activeSum[j] as number;
      if (active > 0) {
        let good = goodSum[j] as number;
        let total = totalSum[j] as number;
        let k = head + 1 - len;
        if (k < 0) k += F;
        for (let i = 0; i < gap; i++) {
          const t = fineTotal[k] as number;
          if (t > 0) {
            good -= fineGood[k] as number;
            total -= t;
            active--;
          }
          if (++k === F) k = 0;
        }
        if (active === 0) {
          good = 0;
          total = 0;
        }
        goodSum[j] = good;
        totalSum[j] = total;
        activeSum[j] = active;
      }
    }
    // Rolling coarse period: slots before the new far edge leave (before the ring moves on).
    let resyncPeriod = false;
    const cFrom = this.cIndex;
    const cTo = Math.floor(to / this.bucketsPerSlot);
    const C = this.coarseSize;
    if (this.mode === MODE_ROLLING_COARSE) {
      const farTo = this.farOf(to);
      const farFrom = this.farSlot;
      if (farTo > farFrom) {
        if (farTo > cFrom) {
          this.pGood = 0;
          this.pTotal = 0;
          this.pActive = 0;
        } else if (this.pActive > 0) {
          let k = this.cHead - (cFrom - farFrom);
          if (k < 0) k += C;
          for (let c = farFrom; c < farTo; c++) {
            const t = this.coarseTotal[k] as number;
            if (t > 0) {
              this.pGood -= this.coarseGood[k] as number;
              this.pTotal -= t;
              this.pActive--;
            }
            if (++k === C) k = 0;
          }
          if (this.pActive === 0) {
            this.pGood = 0;
            this.pTotal = 0;
          }
        }
        this.farSlot = farTo;
        resyncPeriod = Math.floor(farTo / COARSE_RESYNC) > Math.floor(farFrom / COARSE_RESYNC);
      }
    }
    // Clear the fine slots of the new buckets.
    if (gap >= F) {
      fineGood.fill(0);
      fineTotal.fill(0);
      this.fineDirty.fill(1);
      this.head = mod(to, F);
    } else {
      let k = head;
      for (let i = 0; i < gap; i++) {
        if (++k === F) k = 0;
        if ((fineTotal[k] as number) !== 0 || (fineGood[k] as number) !== 0) {
          fineGood[k] = 0;
          fineTotal[k] = 0;
          this.fineDirty[(k / FINE_PAGE) | 0] = 1;
        }
      }
      this.head = k;
    }
    // Clear the coarse slots the newest bucket moved into.
    if (cTo > cFrom) {
      if (cTo - cFrom >= C) {
        this.coarseGood.fill(0);
        this.coarseTotal.fill(0);
        this.coarseDirty.fill(1);
        this.cHead = mod(cTo, C);
      } else {
        let k = this.cHead;
        for (let c = cFrom; c < cTo; c++) {
          if (++k === C) k = 0;
          if ((this.coarseTotal[k] as number) !== 0 || (this.coarseGood[k] as number) !== 0) {
            this.coarseGood[k] = 0;
            this.coarseTotal[k] = 0;
            this.coarseDirty[(k / COARSE_PAGE) | 0] = 1;
          }
        }
        this.cHead = k;
      }
      this.cIndex = cTo;
    }
    this.clock = to;
    this.headerDirty = true;
    // Periodic recomputation (at fixed bucket indices, so a restored engine keeps the schedule)
    // bounds floating-point drift of the running sums.
    for (let j = 0; j < lens.length; j++) {
      if (to < (this.nextResync[j] as number)) continue;
      const len = lens[j] as number;
      if (gap < len) this.resyncWindow(j, to);
      this.nextResync[j] = (Math.floor(to / (len * RESYNC)) + 1) * len * RESYNC;
    }
    if (resyncPeriod) this.resyncPeriod(to);
    if (this.mode === MODE_CALENDAR && to * this.bucketMs >= this.pEnd) {
      const { startMs, endMs } = periodBounds(this.window as CalendarWindow, to * this.bucketMs);
      this.pStart = startMs;
      this.pEnd = endMs;
      this.pGood = 0;
      this.pTotal = 0;
    }
  }

  /** Adds counts to bucket `b` (within the horizon, at most the newest) and every window holding it. */
  protected put(b: number, good: number, total: number): void {
    const age = this.clock - b;
    let k = this.head - age;
    if (k < 0) k += this.fineSize;
    const before = this.fineTotal[k] as number;
    this.fineGood[k] = (this.fineGood[k] as number) + good;
    this.fineTotal[k] = before + total;
    this.fineDirty[(k / FINE_PAGE) | 0] = 1;
    const fresh = before === 0 && total > 0 ? 1 : 0;
    const lens = this.lens;
    const goodSum = this.goodSum;
    const totalSum = this.totalSum;
    const activeSum = this.active;
    for (let j = 0; j < lens.length; j++) {
      if (age < (lens[j] as number)) {
        goodSum[j] = (goodSum[j] as number) + good;
        totalSum[j] = (totalSum[j] as number) + total;
        activeSum[j] = (activeSum[j] as number) + fresh;
      }
    }
    const c = age === 0 ? this.cIndex : Math.floor(b / this.bucketsPerSlot);
    let ck = this.cHead - (this.cIndex - c);
    if (ck < 0) ck += this.coarseSize;
    const slotBefore = this.coarseTotal[ck] as number;
    this.coarseGood[ck] = (this.coarseGood[ck] as number) + good;
    this.coarseTotal[ck] = slotBefore + total;
    this.coarseDirty[(ck / COARSE_PAGE) | 0] = 1;
    if (this.mode === MODE_ROLLING_COARSE) {
      if (c >= this.farSlot) {
        this.pGood += good;
        this.pTotal += total;
        if (slotBefore === 0 && total > 0) this.pActive++;
      }
    } else if (this.mode === MODE_CALENDAR) {
      if (b * this.bucketMs >= this.pStart) {
        this.pGood += good;
        this.pTotal += total;
      }
    }
  }

  /** Recomputes window j's sums from the fine ring, for newest bucket `clock`. */
  protected resyncWindow(j: number, clock: number): void {
    const len = this.lens[j] as number;
    const F = this.fineSize;
    let good = 0;
    let total = 0;
    let active = 0;
    let k = mod(clock - len + 1, F);
    for (let i = 0; i < len; i++) {
      const t = this.fineTotal[k] as number;
      if (t > 0) {
        good += this.fineGood[k] as number;
        total += t;
        active++;
      }
      if (++k === F) k = 0;
    }
    this.goodSum[j] = good;
    this.totalSum[j] = total;
    this.active[j] = active;
  }

  /** Recomputes the rolling coarse period's sums from the coarse ring. */
  protected resyncPeriod(clock: number): void {
    let good = 0;
    let total = 0;
    let active = 0;
    const last = Math.floor(clock / this.bucketsPerSlot);
    for (let c = this.farSlot; c <= last; c++) {
      const k = mod(c, this.coarseSize);
      const t = this.coarseTotal[k] as number;
      if (t > 0) {
        good += this.coarseGood[k] as number;
        total += t;
        active++;
      }
    }
    this.pGood = good;
    this.pTotal = total;
    this.pActive = active;
  }
}
