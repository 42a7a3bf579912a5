import { z } from 'zod';
import { field, section } from './config-fields';

/**
 * The single source of configuration. Env `SECTION_KEY` ↔ `section.key` in config.yml; precedence
 * env > config.yml > defaults. config.yml.sample and the README table are generated from / checked
 * against this schema (test/unit/deploy/config-docs.test.ts), so they cannot drift.
 *
 * To add an option: add a field here with a description; run `npm run config:sample`.
 */
export const ConfigSchema = z.object({
  opencti: section({
    url: field.optionalUrl({ description: 'OpenCTI platform URL (required by `run`)', example: 'http://opencti:8080' }),
    token: field.optionalString({ description: 'API token of the connector user (required by `run`)', secret: true, example: 'ChangeMe' }),
    ssl_verify: field.bool(true, { description: 'Verify the platform TLS certificate; false is an explicit, loudly logged opt-out' }),
    ca_file: field.optionalString({ description: 'PEM file of an extra CA trusted for the platform', example: '/etc/ssl/private-ca.pem' }),
    timeout_ms: field.int(30000, 100, 600000, { description: 'Deadline of one GraphQL call in milliseconds: connecting and the whole answer (an answer that trickles in is cut too)' }),
    breaker_failures: field.int(5, 1, 1000, { description: 'Platform-wide failures in a row (unreachable, timeouts, 5xx) that open the circuit: consumption pauses, nothing is dead-lettered; a rejected token opens it at once' }),
    breaker_probe_base_ms: field.int(1000, 10, 600000, { description: 'First delay before probing OpenCTI once the circuit is open; doubles per failed probe, with jitter' }),
    breaker_probe_max_ms: field.int(30000, 10, 3600000, { description: 'Cap of the delay between probes while the circuit is open' }),
    public_url: field.optionalUrl({
      description: 'Address people open OpenCTI at, when it differs from OPENCTI_URL (e.g. http://opencti:8080 inside compose); the coverage link (external_uri) falls back to the coverage page there',
      example: 'https://opencti.example.org',
    }),
  }),
  connector: section({
    id: field.optionalUuid({ description: 'Connector id, a stable UUID (required by `run`)', example: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11' }),
    name: field.string('Security Coverage Assessor', { description: 'Connector name shown in OpenCTI' }),
    scope: field.list(['security-coverage'], { description: 'Entity types enriched (comma-separated)' }),
    auto: field.bool(true, { description: 'Enrich coverages automatically on creation' }),
    auto_update: field.bool(true, { description: 'Enrich coverages again when they or their container change' }),
    log_level: field.enumOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, 'info', { description: 'Log level' }),
    ping_interval_seconds: field.int(30, 5, 240, { description: 'Seconds between pings (the platform marks a connector inactive after 5 minutes)' }),
  }),
  mq: section({
    url: field.optionalAmqpUrl({ description: 'Full AMQP URI overriding the broker the platform returns and every MQ_* part (amqp[s]://user:pass@host:port/vhost)', secret: true, example: 'amqp://opencti:ChangeMe@rabbitmq:5672/%2F' }),
    host: field.optionalString({ description: 'Override the broker host the platform returns (NAT, other network)', example: 'rabbitmq' }),
    port: field.optionalInt(1, 65535, { description: 'Override the broker port', example: '5672' }),
    vhost: field.optionalString({ description: 'Override the broker vhost', example: '/' }),
    use_ssl: field.optionalBool({ description: 'Override TLS use for the broker', example: 'false' }),
    user: field.optionalString({ description: 'Override the broker user', example: 'opencti' }),
    pass: field.optionalString({ description: 'Override the broker password', secret: true, example: 'ChangeMe' }),
    ssl_verify: field.bool(true, { description: 'Verify the broker TLS certificate' }),
    ca_file: field.optionalString({ description: 'PEM file of an extra CA trusted for the broker', example: '/etc/ssl/private-ca.pem' }),
    dead_letter_queue: field.optionalString({ description: 'Our dead-letter queue (default `<listen queue>.dlq`)', example: 'listen_<id>.dlq' }),
  }),
  coverage: section({
    rules_dirs: field.list([], { description: 'Directories of Sigma / Elastic / Splunk rules (comma-separated)', example: '/data/rules/sigma,/data/rules/elastic' }),
    controls_file: field.optionalString({ description: 'Prevention-control inventory (YAML)', example: '/data/controls.yml' }),
    data_sources_file: field.optionalString({ description: 'Data-source inventory (YAML)', example: '/data/data-sources.yml' }),
    validation_file: field.optionalString({ description: 'Emulation results (YAML/JSON/CSV)', example: '/data/validation.yml' }),
    layers: field.list([], { description: 'Imported ATT&CK Navigator layers / DeTT&CT files (comma-separated)', example: '/data/layer.json' }),
    attack_catalogue: field.optionalString({ description: 'Compact ATT&CK catalogue written by `attack import`', example: '/data/attack-catalogue.json' }),
    rollup_subtechniques: field.bool(true, { description: 'Credit a parent technique with its sub-techniques\' rules' }),
    aggregate: field.enumOf(['mean', 'min', 'max'] as const, 'mean', { description: 'How technique scores roll up to the container score' }),
    priorities_file: field.optionalString({ description: 'Overrides of the gap prevalence/impact tables (YAML)', example: '/data/priorities.yml' }),
    allow_empty: field.bool(false, { description: 'Let the daemon start with no detection rule loaded (every technique would score 0); by default it refuses to start' }),
    cache_file: field.optionalString({ description: 'Parsed-rule cache: a restart re-parses only changed rule files (safe to delete)', example: '/var/lib/coverage-connector/inventory-cache.json' }),
    watch: field.bool(true, { description: 'Reload the evidence when a rule or inventory file changes, without a restart (a broken file keeps its previous version)' }),
    watch_debounce_ms: field.int(1000, 50, 600000, { description: 'Quiet time after the last file change before the evidence is reloaded' }),
  }),
  worker: section({
    concurrency: field.int(4, 1, 256, { description: 'Enrichments processed in parallel' }),
    prefetch: field.int(10, 1, 1000, { description: 'Unacked messages the broker may hand us (≥ concurrency)' }),
    max_attempts: field.int(5, 1, 100, { description: 'Attempts for a transient failure before dead-lettering' }),
    backoff_base_ms: field.int(1000, 1, 3600000, { description: 'First retry delay; doubles each attempt, with jitter' }),
    backoff_max_ms: field.int(60000, 1, 86400000, { description: 'Cap of the retry delay' }),
    push_mode: field.enumOf(['graphql', 'amqp'] as const, 'graphql', { description: 'Push results with stixBundlePush (graphql) or the RabbitMQ push exchange (amqp)' }),
    push_parallelism: field.int(8, 1, 64, { description: 'One-object relationship pushes in flight per job' }),
    shutdown_grace_ms: field.int(30000, 0, 3600000, { description: 'Time in-flight jobs get to finish on SIGTERM' }),
    job_timeout_ms: field.int(300000, 100, 86400000, { description: 'Deadline of one attempt of a job (platform calls and assessment); past it the job is aborted and retried. Also the stall limit of /readyz' }),
  }),
  limits: section({
    max_message_bytes: field.int(16 * 1024 * 1024, 1024, 1024 * 1024 * 1024, { description: 'Largest enrichment message accepted' }),
    max_techniques: field.int(5000, 1, 100000, { description: 'Most techniques assessed for one container' }),
    max_rule_file_bytes: field.int(1024 * 1024, 1024, 256 * 1024 * 1024, { description: 'Largest rule / inventory file read' }),
  }),
  http: section({
    enabled: field.bool(true, { description: 'Serve /healthz, /readyz and /metrics' }),
    host: field.string('127.0.0.1', { description: 'Listen address of the HTTP endpoint (loopback by default; 0.0.0.0 to be scraped from another host or container, then set HTTP_AUTH_TOKEN)' }),
    port: field.int(9464, 0, 65535, { description: 'Port of the HTTP endpoint (0 = any free port)' }),
    auth_token: field.optionalString({ description: 'Bearer token required by /status and /metrics (`Authorization: Bearer <token>`); /healthz and /readyz stay open for probes', secret: true, example: 'ChangeMe' }),
  }),
  scheduler: section({
    enabled: field.bool(true, { description: 'Re-run coverages on their periodicity (one replica schedules at a time)' }),
    tick_cron: field.string('* * * * *', { description: 'node-cron expression of the scheduler tick' }),
    default_periodicity: field.string('P1D', { description: 'Periodicity used when a coverage has none or an invalid one' }),
    default_duration: field.string('P30D', { description: 'Duration used when a coverage has none or an invalid one' }),
    min_periodicity: field.string('PT1M', { description: 'Shortest accepted periodicity' }),
    max_duration: field.string('P5Y', { description: 'Longest accepted periodicity or duration' }),
    timezone: field.string('UTC', { description: 'IANA zone for calendar periods (P1D, P1M) across DST' }),
    state_file: field.optionalString({ description: 'Local schedule cache (safe to delete; the platform is the source of truth)', example: '/var/lib/coverage-connector/schedule.json' }),
    first_run_grace: field.string('PT10M', { description: 'A coverage without any result yet is run this long after its creation (if its creation enrichment did not produce one)' }),
    run_timeout: field.string('PT1H', { description: 'How long a started run without a result counts as in flight (no new run meanwhile)' }),
    reconcile_interval: field.string('PT1H', { description: 'Period of the full paginated re-read of every coverage by the leader (also done on becoming leader)' }),
    max_runs_per_tick: field.int(100, 1, 10000, { description: 'Most runs one tick starts; the rest start at the next ticks' }),
    lock_heartbeat_seconds: field.int(5, 1, 60, { description: 'Probe period of the scheduler lock (a new leader takes over within about this delay)' }),
  }),
  assessor: section({
    backends: field.enumList(['embedded', 'openaev', 'siem'] as const, ['embedded'], { description: 'Assessment backends, in order (comma-separated); embedded fills what others cannot test' }),
  }),
  openaev: section({
    url: field.optionalUrl({ description: 'OpenAEV base URL (required when the openaev backend is used); also the base of the "Go to OpenAEV" links', example: 'https://openaev.example.org' }),
    token: field.optionalString({ description: 'OpenAEV API token, sent as `Authorization: Bearer <token>`', secret: true, example: 'ChangeMe' }),
    timeout_ms: field.int(30000, 100, 600000, { description: 'Timeout of one OpenAEV REST call in milliseconds' }),
    max_attempts: field.int(3, 1, 10, { description: 'Attempts of one OpenAEV call when it is unreachable or answers 5xx/429 (then the job is retried by the worker)' }),
    backoff_base_ms: field.int(500, 1, 600000, { description: 'First delay between OpenAEV call attempts; doubles each attempt, with jitter' }),
    backoff_max_ms: field.int(10000, 1, 3600000, { description: 'Cap of the delay between OpenAEV call attempts (Retry-After is honoured up to this cap)' }),
    draft: field.bool(false, { description: 'Create/update scenarios without a recurrence, so nothing runs until an operator schedules it in OpenAEV' }),
    state_file: field.optionalString({ description: 'JSON file keeping scenario id, content hash and applied recurrence per coverage (absent: in memory; one re-send per coverage after a restart)', example: '/var/lib/coverage-connector/openaev-state.json' }),
  }),
  siem: section({
    kind: field.enumOf(['elastic', 'wazuh'] as const, 'elastic', { description: 'SIEM flavour: elastic (Elastic Security) or wazuh (Wazuh indexer); both are queried with the Elasticsearch _search API' }),
    url: field.optionalUrl({ description: 'Elasticsearch / Wazuh indexer URL (required when the siem backend is used)', example: 'https://elastic.example.org:9200' }),
    api_key: field.optionalString({ description: 'Elasticsearch API key (base64 `id:key`), sent as `Authorization: ApiKey <key>`', secret: true, example: 'ChangeMe' }),
    username: field.optionalString({ description: 'Basic-auth user when no API key is set (Wazuh indexer: admin or a read-only user)', example: 'coverage-reader' }),
    password: field.optionalString({ description: 'Basic-auth password', secret: true, example: 'ChangeMe' }),
    alerts_index: field.optionalString({ description: 'Alerts index pattern (default `.alerts-security.alerts-*` for elastic, `wazuh-alerts-*` for wazuh)', example: '.alerts-security.alerts-default' }),
    events_index: field.optionalString({ description: 'Raw events index pattern used to tell "logged" from "none" (absent: no logged outcome)', example: 'logs-*' }),
    execution_logs: field.list([], { description: 'Execution logs of the emulation (Invoke-AtomicRedTeam CSV, ATTiRe JSON, or CSV/JSON with technique_id, executed_at, host); comma-separated', example: '/data/art-execution-log.csv' }),
    window_minutes: field.int(60, 1, 10080, { description: 'Minutes after an execution during which its alerts are searched; a run is scored only once its window has closed' }),
    clock_skew_seconds: field.int(120, 0, 3600, { description: 'Seconds before an execution also searched (clock skew between the test host and the SIEM)' }),
    lookback_days: field.int(30, 1, 3650, { description: 'Only executions of the last N days are scored' }),
    logged_score: field.int(50, 0, 100, { description: 'Detection score of a run whose events reached the SIEM without an alert' }),
    timeout_ms: field.int(30000, 100, 600000, { description: 'Timeout of one SIEM query in milliseconds' }),
    max_attempts: field.int(3, 1, 10, { description: 'Attempts of one SIEM query when it is unreachable or answers 5xx/429' }),
    backoff_base_ms: field.int(500, 1, 600000, { description: 'First delay between SIEM query attempts; doubles each attempt, with jitter' }),
    backoff_max_ms: field.int(10000, 1, 3600000, { description: 'Cap of the delay between SIEM query attempts' }),
    external_url: field.optionalUrl({ description: 'Link shown as the source of SIEM results (e.g. the Kibana alerts page)', example: 'https://kibana.example.org/app/security/alerts' }),
    state_file: field.optionalString({ description: 'JSON file keeping executions recorded through the API (absent: in memory)', example: '/var/lib/coverage-connector/siem-state.json' }),
  }),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
