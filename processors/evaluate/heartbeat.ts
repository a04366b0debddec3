/**
 * The cadence, in data time, at which evaluate repeats the state of an open anomaly (an UPDATE
 * event) and of a firing SLO tier (a FIRING event with the same id) when nothing else was emitted
 * about it: the sinks resolve an alert as stale when no event about it came for several of these
 * (AIOPS_SINKS_STALE_ANOMALY_MS, AIOPS_SINKS_STALE_SLO_MS). A multiple of every bucket length
 * (they divide 5 minutes).
 */
export const openStateHeartbeatMs = 300_000;

/**
 * Whether an SLO event is a heartbeat: a FIRING repeated for a tier that already fired (its time
 * is after its start; the FIRING that starts an alert has timestamp = started_at).
 */
export function isSloHeartbeat(e: { readonly state: string; readonly timestamp: number; readonly started_at: number }): boolean {
  return e.state === 'FIRING' && e.timestamp > e.started_at;
}
