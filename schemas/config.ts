import { z } from 'zod';
import { field, section } from './config-fields';

/**
 * The single source of configuration. Env `SECTION_KEY` ↔ `section.key` in config.yml; precedence
 * env > config.yml > defaults. config.yml.sample and the README table are generated from / checked
 * against this schema (test/unit/config-docs.test.ts), so they cannot drift.
 *
 * To add an option: add a field here with a description; run `npm run config:sample`.
 */
export const ConfigSchema = z.object({
  opencti: section({
    url: field.optionalUrl({ description: 'OpenCTI platform URL (required by `run`)', example: 'http://opencti:8080' }),
    token: field.optionalString({ description: 'API token of the connector user (required by `run`)', secret: true, example: 'ChangeMe' }),
    ssl_verify: field.bool(true, { description: 'Verify the platform TLS certificate; false is an explicit, loudly logged opt-out' }),
    ca_file: field.optionalString({ description: 'PEM file of an extra CA trusted for the platform', example: '/etc/ssl/private-ca.pem' }),
    timeout_ms: field.int(30000, 100, 600000, { description: 'Timeout of one GraphQL call in milliseconds' }),
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
  }),
  worker: section({
    concurrency: field.int(4, 1, 256, { description: 'Enrichments processed in parallel' }),
    prefetch: field.int(10, 1, 1000, { description: 'Unacked messages the broker may hand us (≥ concurrency)' }),
    max_attempts: field.int(5, 1, 100, { description: 'Attempts for a transient failure before dead-lettering' }),
    backoff_base_ms: field.int(1000, 1, 3600000, { description: 'First retry delay; doubles each attempt, with jitter' }),
    backoff_max_ms: field.int(60000, 1, 86400000, { description: 'Cap of the retry delay' }),
    push_mode: field.enumOf(['graphql', 'amqp'] as const, 'graphql', { description: 'Push results with stixBundlePush (graphql) or the RabbitMQ push exchange (amqp)' }),
    shutdown_grace_ms: field.int(30000, 0, 3600000, { description: 'Time in-flight jobs get to finish on SIGTERM' }),
  }),
  limits: section({
    max_message_bytes: field.int(16 * 1024 * 1024, 1024, 1024 * 1024 * 1024, { description: 'Largest enrichment message accepted' }),
    max_techniques: field.int(5000, 1, 100000, { description: 'Most techniques assessed for one container' }),
    max_rule_file_bytes: field.int(1024 * 1024, 1024, 256 * 1024 * 1024, { description: 'Largest rule / inventory file read' }),
  }),
  http: section({
    enabled: field.bool(true, { description: 'Serve /healthz, /readyz and /metrics' }),
    host: field.string('0.0.0.0', { description: 'Listen address of the HTTP endpoint' }),
    port: field.int(9464, 0, 65535, { description: 'Port of the HTTP endpoint (0 = any free port)' }),
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
  }),
  assessor: section({
    backends: field.enumList(['embedded', 'openaev', 'siem'] as const, ['embedded'], { description: 'Assessment backends, in order (comma-separated); embedded fills what others cannot test' }),
  }),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
