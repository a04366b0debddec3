import { prom } from './model.js';
import type { DashboardSpec } from './model.js';
import { anomalyAnnotations, http, links, rate, sloAnnotations } from './queries.js';

const slo = 'service="$service", slo=~"$slo"';

export const sloDashboard: DashboardSpec = {
  uid: 'aiops-slo',
  title: 'AIOps / SLOs',
  description: 'Error budgets and multi-window burn rates as the streaming SLO engine computes them (evaluate\'s gauges), with its alerts, the projected budget exhaustion and the latency per route.',
  firstLook:
    '**Alerts firing** and the **page-window burn rates** first: both windows above 14.4 is a page. ' +
    '**Budget runs out in** says how long the budget lasts at the last hour\'s burn rate (empty: no bad event in the last hour). ' +
    'Then **p95 / p99 per route** for the latency objectives, and the link to the service dashboard for the routes behind it.',
  tags: ['aiops', 'slo'],
  variables: [
    { name: 'service', label: 'Service', query: 'label_values(aiops_slo_objective, service)' },
    { name: 'slo', label: 'SLO', query: 'label_values(aiops_slo_objective{service="$service"}, slo)', multi: true, includeAll: true },
  ],
  annotations: [sloAnnotations, anomalyAnnotations],
  links: [links.service, links.tracesOfService],
  panels: [
    {
      title: 'Error budget remaining',
      type: 'stat',
      description: 'Share of the period\'s error budget left; negative when overspent.',
      w: 6,
      h: 6,
      unit: 'percentunit',
      thresholds: [
        { value: null, color: 'red' },
        { value: 0.25, color: 'orange' },
        { value: 0.5, color: 'green' },
      ],
      targets: [prom(`aiops_slo_budget_remaining{${slo}}`, '{{slo}}', true)],
    },
    {
      title: 'Objective',
      type: 'stat',
      description: 'Target share of good events.',
      w: 6,
      h: 6,
      unit: 'percentunit',
      targets: [prom(`aiops_slo_objective{${slo}}`, '{{slo}}', true)],
    },
    {
      title: 'Events this period',
      type: 'stat',
      description: 'Events counted in the current SLO period (rolling or calendar).',
      w: 6,
      h: 6,
      unit: 'short',
      targets: [prom(`aiops_slo_period_events{${slo}}`, '{{slo}}', true)],
    },
    {
      title: 'Budget runs out in',
      type: 'stat',
      description: 'Time left until the error budget is spent at the last hour\'s bad-event rate (aiops_slo_budget_exhausted_at_seconds minus now); 0 once overspent, no value without a bad event in the last hour.',
      w: 6,
      h: 6,
      unit: 's',
      thresholds: [
        { value: null, color: 'red' },
        { value: 86_400, color: 'orange' },
        { value: 604_800, color: 'green' },
      ],
      targets: [prom(`clamp_min(aiops_slo_budget_exhausted_at_seconds{${slo}} - time(), 0)`, '{{slo}}', true)],
    },
    {
      title: 'Projected budget exhaustion',
      type: 'timeseries',
      description: 'When the budget would run out (Unix time, as a date) as evaluate projected it bucket by bucket from the last hour\'s bad events; a line falling towards now is a burn speeding up.',
      w: 12,
      h: 8,
      unit: 'dateTimeAsIso',
      targets: [prom(`aiops_slo_budget_exhausted_at_seconds{${slo}} * 1000`, '{{slo}}')],
      links: [links.service],
    },
    {
      title: 'Latency p95 and p99 per route',
      type: 'timeseries',
      description: 'The 95th and 99th percentiles of server request duration by route (http.server.request.duration buckets of the SLO\'s service), beside the latency objectives.',
      w: 12,
      h: 8,
      unit: 's',
      targets: [0.95, 0.99].map((q) => prom(`histogram_quantile(${q}, sum by (le, http_route) (${rate(`${http}_bucket{job="$service"}`)}))`, `p${Math.round(q * 100)} {{http_route}}`)),
      links: [links.service],
    },
    {
      title: 'Burn rate, page windows (1h, 5m)',
      type: 'timeseries',
      description: 'Burn rate over the page pair of windows; the page fires when both exceed 14.4 (scaled to the period).',
      w: 12,
      h: 8,
      min: 0,
      thresholds: [
        { value: null, color: 'green' },
        { value: 14.4, color: 'red' },
      ],
      targets: [prom(`aiops_slo_burn_rate{${slo}, window=~"1h|5m"}`, '{{slo}} {{window}}')],
      links: [links.service],
    },
    {
      title: 'Burn rate, ticket windows (6h, 30m, 1d, 2h, 3d)',
      type: 'timeseries',
      description: 'Burn rate over the longer windows: 6x over 6h and 30m pages too; 3x over 1d and 2h and 1x over 3d and 6h open tickets.',
      w: 12,
      h: 8,
      min: 0,
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'orange' },
        { value: 6, color: 'red' },
      ],
      targets: [prom(`aiops_slo_burn_rate{${slo}, window=~"6h|30m|1d|2h|3d"}`, '{{slo}} {{window}}')],
    },
    {
      title: 'Error budget remaining over time',
      type: 'timeseries',
      description: 'Share of the period\'s budget left, as the engine updates it each bucket.',
      w: 12,
      h: 8,
      unit: 'percentunit',
      targets: [prom(`aiops_slo_budget_remaining{${slo}}`, '{{slo}}')],
    },
    {
      title: 'Error ratio by window',
      type: 'timeseries',
      description: 'Share of bad events over each window.',
      w: 12,
      h: 8,
      unit: 'percentunit',
      min: 0,
      targets: [prom(`aiops_slo_error_ratio{${slo}, window=~"5m|1h"}`, '{{slo}} {{window}}')],
    },
    {
      title: 'Alerts firing',
      type: 'state-timeline',
      description: 'Each alert tier of each SLO: 1 while firing (page, ticket, budget exhausted).',
      w: 24,
      h: 7,
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'red' },
      ],
      targets: [prom(`max by (slo, tier) (aiops_slo_alert{${slo}})`, '{{slo}} {{tier}}')],
    },
  ],
};
