import type { StackConfig } from './config.js';

/** The components of the local stack, in start order. */
export type ComponentName = 'kafka' | 'jaeger' | 'prometheus' | 'alertmanager' | 'influxdb' | 'otelcol';

/** How to launch one component as a local process. */
export interface LaunchSpec {
  /** Absolute path of the executable. */
  readonly command: string;
  /** Its arguments. */
  readonly args: readonly string[];
  /** Extra environment variables, added to the parent's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. */
  readonly cwd?: string;
}

/** The answer of one health probe. */
export interface Health {
  /** True when the component answers as it should. */
  readonly healthy: boolean;
  /** What was checked or what went wrong, for status output and errors. */
  readonly detail: string;
}

/** One real service the stack installs, starts, checks and stops. */
export interface StackComponent {
  /** Short name used in commands, pid files and log files. */
  readonly name: ComponentName;
  /** What it is, for status output. */
  readonly title: string;
  /** Installs what is missing into the cache; a no-op when the cache is warm. */
  install(config: StackConfig, log: (line: string) => void): Promise<void>;
  /** Writes configuration and data folders, and says how to launch the process. */
  prepare(config: StackConfig): Promise<LaunchSpec>;
  /** Checks once whether the running component is healthy. */
  probe(config: StackConfig): Promise<Health>;
  /** The addresses a user or test talks to, by role. */
  addresses(config: StackConfig): Readonly<Record<string, string>>;
  /** Ports it listens on, checked for collisions before it starts. */
  ports(config: StackConfig): readonly number[];
  /** Runs once after the first healthy probe (e.g. creating topics). */
  afterStart?(config: StackConfig): Promise<void>;
  /** Runs when `up` finds the component already running and healthy (e.g. reloading configuration). */
  refresh?(config: StackConfig): Promise<void>;
  /** How long to wait for health after start, in ms. */
  readonly startTimeoutMs: number;
}
