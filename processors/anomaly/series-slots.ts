import type { DetectorBank } from './detector-bank.js';

/**
 * Maps series ids (strings) to detector-bank slots. A released slot is reused for the next new
 * series, its state reset first.
 */
export class SeriesSlots {
  private readonly ids = new Map<string, number>();
  private readonly free: number[] = [];

  constructor(private readonly bank: DetectorBank) {}

  /** The slot of `id`, allocated (fresh state) on first sight. */
  slotOf(id: string): number {
    const known = this.ids.get(id);
    if (known !== undefined) return known;
    const reused = this.free.pop();
    let slot: number;
    if (reused === undefined) slot = this.bank.allocate();
    else {
      slot = reused;
      this.bank.reset(slot);
    }
    this.ids.set(id, slot);
    return slot;
  }

  /** The slot of `id` when it has one. */
  get(id: string): number | undefined {
    return this.ids.get(id);
  }

  /** Forgets `id`; its slot goes back to the pool. */
  release(id: string): boolean {
    const slot = this.ids.get(id);
    if (slot === undefined) return false;
    this.ids.delete(id);
    this.free.push(slot);
    return true;
  }

  /** Forgets every series; their slots go back to the pool (each is reset when reused). */
  clear(): void {
    for (const slot of this.ids.values()) this.free.push(slot);
    this.ids.clear();
  }

  /** Series ids and their slots. */
  entries(): IterableIterator<[string, number]> {
    return this.ids.entries();
  }

  /** Series currently holding a slot. */
  get size(): number {
    return this.ids.size;
  }
}
