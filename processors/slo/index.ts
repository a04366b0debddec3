export type { AvailabilitySli, LatencySli, Sli, SloAlerting, SloSelector, SloSpec, SloWindow, StatusClass } from './types.js';
export { parseSloFiles, parseSloSources, parseSloText } from './spec.js';
export { SloEngine, SloSnapshot, burnAlertRules, standardWindowsMs } from './engine.js';
export type { AlertTier, AlertTransition, BurnAlertRule } from './engine.js';
export { nominalPeriodMs, periodBounds } from './calendar.js';
export { sloRuleGroups, sloRulesYaml } from './rules.js';
export { countAtOrBelow, goodAndTotal, sloIngestRules, sloNameOf, sloRulePrefix } from './signals.js';
export { SloBoard, SloStage, periodLabel, windowLabel } from './slo-stage.js';
