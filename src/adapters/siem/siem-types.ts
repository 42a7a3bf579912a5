/**
 * The SIEM validation backend's ports. The query layer is pluggable: Elasticsearch / Elastic
 * Security and Wazuh ship in elasticsearch-query.ts; Splunk or Sentinel implement `SiemQuery`.
 */

/** One emulated technique execution (Atomic Red Team test, red-team step…). */
export interface Execution {
  /** Upper-case ATT&CK id that was executed (T1059.001). */
  techniqueId: string;
  /** ISO time the execution started. */
  executedAt: string;
  /** Host the test ran on; narrows the SIEM search and enables the "logged" outcome. */
  host?: string;
  /** Test name or id (Atomic GUID), for explanations. */
  test?: string;
  /** Where the record came from: a file path or `api`. */
  origin: string;
}

/** Time range (inclusive) and optional hosts a query is limited to. */
export interface SiemWindow {
  from: Date;
  to: Date;
  hosts: string[];
}

export interface SiemHit {
  id: string;
  timestamp?: string;
  /** Rule name for alerts. */
  rule?: string;
  host?: string;
}

export interface SiemMatches {
  total: number;
  /** A few example documents (for the explanation), oldest first. */
  samples: SiemHit[];
}

export interface SiemQuery {
  /** `elastic`, `wazuh`, … */
  readonly name: string;
  /** Alerts tagged with any of `techniques` inside the window. */
  alertsFor(techniques: string[], window: SiemWindow, signal?: AbortSignal): Promise<SiemMatches>;
  /**
   * Raw events from the window's hosts (telemetry reached the SIEM). Undefined when the
   * deployment has no events source configured: the "logged" outcome is then unavailable.
   */
  eventsFor(techniques: string[], window: SiemWindow, signal?: AbortSignal): Promise<SiemMatches | undefined>;
}

/** Executions known to the backend: from log files and/or recorded through the API. */
export interface ExecutionLog {
  list(): Promise<{ executions: Execution[]; issues: string[] }>;
  /** Records executions reported by an API call (persisted in the store). Returns how many were new. */
  record(executions: Array<Omit<Execution, 'origin'> & { origin?: string }>): Promise<number>;
}
