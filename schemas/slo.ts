import { createHash } from 'node:crypto';
import { topicSerde } from './schema-file.js';

export type SloTier = 'page' | 'ticket' | 'budget';
export type SloAlertState = 'FIRING' | 'RESOLVED';

/** One record of aiops.slo.v1 (see slo.v1.avsc for every field's meaning). */
export interface SloEvent {
  id: string;
  timestamp: number;
  slo: string;
  service: string;
  description: string;
  sli: string;
  objective: number;
  period: string;
  period_ms: number;
  tier: SloTier;
  state: SloAlertState;
  long_window_ms: number;
  short_window_ms: number;
  factor: number;
  long_burn_rate: number;
  short_burn_rate: number;
  budget_remaining: number;
  projected_exhaustion: number | null;
  started_at: number;
  labels: Record<string, string>;
  /** Share of the period observed (1 when omitted on writing, the schema's default). */
  observed_share?: number;
}

export const sloTopic = 'aiops.slo.v1';
export const sloEventSerde = topicSerde<SloEvent>('slo.v1.avsc');

/**
 * Content-derived id of one SLO alert: a 32-hex-digit SHA-256 prefix of SLO name, tier and the
 * instant it started firing; its FIRING and RESOLVED records share it.
 */
export function sloEventId(slo: string, tier: SloTier, startedAtMs: number): string {
  return createHash('sha256').update(JSON.stringify([slo, tier, startedAtMs]), 'utf8').digest('hex').slice(0, 32);
}
