import type { Serde } from '../serde.js';
import type { StateStore } from '../types.js';

/**
 * A key-value store held in memory and made durable through the changelog: every put or delete
 * marks the key dirty, and the runner writes dirty keys in the transaction that commits the
 * input that changed them.
 */
export class KeyValueStore<V> implements StateStore {
  private readonly map = new Map<string, V>();
  private readonly dirty = new Set<string>();
  private bytes = 0;

  constructor(
    readonly name: string,
    private readonly serde: Serde<V>,
  ) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  put(key: string, value: V): void {
    this.map.set(key, value);
    this.dirty.add(key);
  }

  /** Marks a value that was changed in place as dirty. */
  touch(key: string): void {
    if (this.map.has(key)) this.dirty.add(key);
  }

  delete(key: string): void {
    if (this.map.delete(key)) this.dirty.add(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  size(): number {
    return this.map.size;
  }

  sizeBytes(): number {
    return this.bytes;
  }

  *drainChanges(): Iterable<readonly [string, Buffer | null]> {
    for (const key of this.dirty) {
      const value = this.map.get(key);
      const bytes = value === undefined ? null : this.serde.serialize(value);
      if (bytes) this.bytes += bytes.length;
      yield [key, bytes] as const;
    }
    this.dirty.clear();
  }

  restore(key: string, value: Buffer | null): void {
    if (value === null) this.map.delete(key);
    else {
      this.map.set(key, this.serde.deserialize(value));
      this.bytes += value.length;
    }
  }

  clear(): void {
    this.map.clear();
    this.dirty.clear();
    this.bytes = 0;
  }
}
