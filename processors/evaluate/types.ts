import type { ProcessorContext } from '../../runtime/types.js';
import type { SignalValue } from '../../schemas/index.js';

/**
 * What the detectors and the SLO engine implement to receive every closed bucket of every
 * signal, in bucket order per signal, inside evaluate's transaction: what they emit through the
 * context is committed with the input that produced it.
 */
export interface SignalConsumer {
  /** Consumer name, for logs and counters. */
  readonly name: string;
  /** Registers the consumer's state stores (called from the processor's init). */
  init?(context: ProcessorContext): void;
  /** Called once the partition's state is restored, before the first record. */
  restored?(context: ProcessorContext): void;
  /** One closed bucket of one signal. */
  onSignalValue(value: Readonly<SignalValue>, context: ProcessorContext): void;
  /**
   * Evaluate's watermark passed `watermarkMs`: every bucket ending at or before it has been
   * handed over. Lets a consumer move time on for keys that had no traffic (called after the
   * closed buckets, only when the watermark advanced).
   */
  onWatermark?(watermarkMs: number, context: ProcessorContext): void;
  /** The partition is closed (revoked or the process stops). */
  close?(): void;
}
