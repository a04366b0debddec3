import type { Logger } from 'pino';
import { deadLetterRecord } from './dead-letter.js';
import { aiopsError } from './errors.js';
import type { BadRecordPolicy, Clock, InputRecord, OutputRecord, ProcessorContext, ProcessorCounters, StateStore } from './types.js';

export interface TaskContextOptions {
  readonly processor: string;
  readonly topic: string;
  readonly partition: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly policy: BadRecordPolicy;
  readonly partitionsOf: (topic: string) => number;
}

/**
 * The context of one task (one input partition): buffers what the processor emits until the
 * runner commits it, and applies the bad-record policy to rejected records (always logged and
 * counted, whatever the policy).
 */
export class TaskContext implements ProcessorContext {
  readonly topic: string;
  readonly partition: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly counters: ProcessorCounters;
  readonly stores: StateStore[] = [];
  private outputs: OutputRecord[] = [];
  private deadLetters: OutputRecord[] = [];
  /** Counts since the last take: they count once the work is committed (a rolled-back batch is counted when replayed). */
  private counts = new Map<string, number>();

  constructor(private readonly options: TaskContextOptions) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.clock = options.clock;
    this.log = options.log;
    this.counters = { add: (name, value = 1) => this.count(name, value) };
  }

  partitionsOf(topic: string): number {
    return this.options.partitionsOf(topic);
  }

  emit(record: OutputRecord): void {
    this.outputs.push(record);
  }

  reject(record: InputRecord, reason: string, cause?: unknown): void {
    this.count('rejected_records');
    this.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason, err: cause }, 'bad record');
    switch (this.options.policy) {
      case 'dead-letter':
        this.deadLetters.push(deadLetterRecord(this.options.processor, record, reason, cause));
        return;
      case 'skip':
        this.count('skipped_records');
        return;
      case 'fail':
        throw aiopsError('RECORD_REJECTED', [this.options.processor, record.topic, record.partition, record.offset, reason], cause);
    }
  }

  register<S extends StateStore>(store: S): S {
    if (this.stores.some((s) => s.name === store.name)) throw new Error(`store ${store.name} registered twice`);
    this.stores.push(store);
    return store;
  }

  /** Hands over and forgets what was emitted and counted since the last call. */
  take(): { outputs: OutputRecord[]; deadLetters: OutputRecord[]; counts: Map<string, number> } {
    const taken = { outputs: this.outputs, deadLetters: this.deadLetters, counts: this.counts };
    this.outputs = [];
    this.deadLetters = [];
    this.counts = new Map();
    return taken;
  }

  private count(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
}
