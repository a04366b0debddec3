import type { ActiveFault, FaultSpec } from './faults.js';

async function call<T>(url: string, init: RequestInit): Promise<T> {
  // An app bound beyond loopback serves its admin API only with the token (AIOPS_DEMO_FAULTS_TOKEN).
  const token = process.env.AIOPS_DEMO_FAULTS_TOKEN;
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  const response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  const body = (await response.json().catch(() => ({}))) as T & { error?: string; problems?: string[] };
  if (!response.ok) {
    const detail = body.problems?.length ? `: ${body.problems.join('; ')}` : body.error ? `: ${body.error}` : '';
    throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${response.status}${detail}`);
  }
  return body;
}

function adminUrl(baseUrl: string): string {
  return new URL('/admin/faults', baseUrl).href;
}

/** Puts a fault in force on a running demo app (`PUT /admin/faults`); returns it as the app holds it. */
export async function setFault(baseUrl: string, fault: FaultSpec): Promise<ActiveFault> {
  const body = await call<{ fault: ActiveFault }>(adminUrl(baseUrl), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
  return body.fault;
}

/** Lifts the fault of one route, or all faults (`DELETE /admin/faults`); returns how many were lifted. */
export async function clearFaults(baseUrl: string, route?: string): Promise<number> {
  const url = new URL(adminUrl(baseUrl));
  if (route !== undefined) url.searchParams.set('route', route);
  const body = await call<{ cleared: number }>(url.href, { method: 'DELETE' });
  return body.cleared;
}

/** The faults in force (`GET /admin/faults`). */
export async function getFaults(baseUrl: string): Promise<ActiveFault[]> {
  const body = await call<{ faults: ActiveFault[] }>(adminUrl(baseUrl), { method: 'GET' });
  return body.faults;
}
