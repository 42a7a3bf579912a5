/**
 * EVERY GraphQL document the connector sends. test/unit/graphql-contract.test.ts validates each one
 * against the OpenCTI 6.9.17 and 7.260817.0 schemas and the platform's alias rule (each Mutation
 * field once, each Query field at most twice per document; platform-behaviour.md §1).
 * Shapes follow pycti (`opencti_api_connector.py`, `opencti_api_work.py`) and protocol §5/§6.
 */

import { PREVALENCE_DOCUMENTS } from './technique-prevalence-api';

// Selections several documents share. One-line leaf selections are interpolated strings; a named
// object selection is a GraphQL fragment, appended to each document that spreads it (a document
// must define every fragment it spreads and no other, or it fails validation).

/** A connection's Relay cursor. */
const PAGE_INFO = 'pageInfo { endCursor hasNextPage }';
/** The stored scores of a coverage or of a `has-covered` relationship. */
const COVERAGE_SCORES = 'coverage_information { coverage_name coverage_score }';
/** An entity's ids and type: `{ id standard_id entity_type }`. */
const ENTITY_REF = '{ id standard_id entity_type }';

/** Where the platform's listen queue lives: the broker connection and the listen routing. */
const LISTEN_QUEUE_CONFIG = /* GraphQL */ `
  fragment ListenQueueConfig on ConnectorConfig {
    connection { host vhost use_ssl port user pass }
    listen listen_routing listen_exchange
  }
`;

/** An attack pattern with what technique resolution needs (its ATT&CK id). */
const ATTACK_PATTERN_REF = /* GraphQL */ `
  fragment AttackPatternRef on AttackPattern {
    id standard_id entity_type name x_mitre_id
    killChainPhases { kill_chain_name phase_name }
  }
`;

/** What a coverage's schedule is computed from (src/app/scheduler/scheduler-platform.ts). */
const SCHEDULE_COVERAGE_FIELDS = /* GraphQL */ `
  fragment ScheduleCoverageFields on SecurityCoverage {
    id
    standard_id
    name
    created_at
    periodicity
    duration
    auto_enrichment_disable
    coverage_last_result
  }
`;

/** §5.1 — declares the queues and returns where to consume and push. */
export const REGISTER_CONNECTOR = /* GraphQL */ `
  mutation RegisterConnector($input: RegisterConnectorInput) {
    registerConnector(input: $input) {
      id
      connector_state
      config {
        ...ListenQueueConfig
        push push_routing push_exchange
        dead_letter_routing
      }
      connector_user_id
    }
  }
  ${LISTEN_QUEUE_CONFIG}
`;

/** §5.2 — liveness (the platform marks a connector inactive after 5 minutes without it). */
export const PING_CONNECTOR = /* GraphQL */ `
  mutation PingConnector($id: ID!, $state: String, $connectorInfo: ConnectorInfoInput) {
    pingConnector(id: $id, state: $state, connectorInfo: $connectorInfo) {
      id
      connector_state
      connector_info { run_and_terminate buffering queue_threshold queue_messages_size next_run_datetime last_run_datetime }
    }
  }
`;

/** §5.3 work API. */
export const WORK_TO_RECEIVED = /* GraphQL */ `
  mutation WorkToReceived($id: ID!, $message: String) {
    workEdit(id: $id) { toReceived(message: $message) }
  }
`;

export const WORK_TO_PROCESSED = /* GraphQL */ `
  mutation WorkToProcessed($id: ID!, $message: String, $inError: Boolean) {
    workEdit(id: $id) { toProcessed(message: $message, inError: $inError) }
  }
`;

export const WORK_ADD_EXPECTATIONS = /* GraphQL */ `
  mutation WorkAddExpectations($id: ID!, $expectations: Int) {
    workEdit(id: $id) { addExpectations(expectations: $expectations) }
  }
`;

/**
 * The first write of a run marks its work received in the same document: one call instead of two,
 * `workEdit` once, as the platform's alias rule wants. Both are fields of one `workEdit`, so the
 * platform resolves them concurrently, not in order; that is safe because they change different
 * figures of the work (its received time and status, its expectation count: updateReceivedTime and
 * updateExpectationsNumber, opencti-graphql src/resolvers/connector.js) and a work completes only once
 * `toProcessed` is called (platform-behaviour.md §4), which stays a call of its own after the pushes.
 */
export const WORK_RECEIVED_ADD_EXPECTATIONS = /* GraphQL */ `
  mutation WorkReceivedAddExpectations($id: ID!, $message: String, $expectations: Int) {
    workEdit(id: $id) { toReceived(message: $message) addExpectations(expectations: $expectations) }
  }
`;

/** What a work already holds: expectations added and imports reported (a redelivered job must not guess). */
export const WORK_EXPECTED = /* GraphQL */ `
  query WorkExpected($id: ID!) {
    work(id: $id) { id tracking { import_expected_number import_processed_number } }
  }
`;

export const WORK_PING = /* GraphQL */ `
  mutation WorkPing($id: ID!) {
    workEdit(id: $id) { ping }
  }
`;

/**
 * A coverage's `has-covered` relationships, ours and other writers' (the write plan tells them apart
 * by id: `standard_id`, or an id merged into `x_opencti_stix_ids` by an upsert).
 */
const HAS_COVERED_PAGE = /* GraphQL */ `
  fragment HasCoveredPage on StixCoreRelationshipConnection {
    ${PAGE_INFO}
    edges {
      node {
        id
        standard_id
        x_opencti_stix_ids
        relationship_type
        description
        ${COVERAGE_SCORES}
        to { ... on StixCoreObject ${ENTITY_REF} }
      }
    }
  }
`;

/**
 * §5.5 — what the message does not carry, in one round trip: `auto_enrichment_disable`, the stored
 * scores (loop guard), the covered entity's type, our summary note, and the first page of
 * `has-covered` relationships (further pages: COVERAGE_RELATIONSHIPS). No Identity-looking fields
 * (`identity_class` is non-null and would fail the query), no `toStixBundle` (we page the content
 * instead).
 */
export const COVERAGE_STATE = /* GraphQL */ `
  query CoverageState($id: String!, $first: Int) {
    securityCoverage(id: $id) {
      id
      standard_id
      name
      external_uri
      periodicity
      duration
      auto_enrichment_disable
      coverage_valid_to
      ${COVERAGE_SCORES}
      objectCovered ${ENTITY_REF}
      notes(first: 50) {
        edges { node { id standard_id x_opencti_stix_ids attribute_abstract content } }
      }
      stixCoreRelationships(relationship_type: "has-covered", first: $first) { ...HasCoveredPage }
    }
  }
  ${HAS_COVERED_PAGE}
`;

/** The coverage's `has-covered` relationships, page by page (the pages after CoverageState's first). */
export const COVERAGE_RELATIONSHIPS = /* GraphQL */ `
  query CoverageRelationships($id: String!, $first: Int, $after: ID) {
    securityCoverage(id: $id) {
      id
      stixCoreRelationships(relationship_type: "has-covered", first: $first, after: $after) { ...HasCoveredPage }
    }
  }
  ${HAS_COVERED_PAGE}
`;

/** Attack patterns contained in a report / grouping / case (when `stix_objects` is null). */
export const CONTAINER_ATTACK_PATTERNS = /* GraphQL */ `
  query ContainerAttackPatterns($id: String!, $first: Int, $after: ID) {
    container(id: $id) {
      id
      standard_id
      entity_type
      objects(first: $first, after: $after, types: ["Attack-Pattern"]) {
        ${PAGE_INFO}
        edges {
          node { ...AttackPatternRef }
        }
      }
    }
  }
  ${ATTACK_PATTERN_REF}
`;

/** Attack patterns an intrusion set / campaign / incident (or a container) `uses` or `targets` (§3.4 items 4-5). */
export const RELATED_ATTACK_PATTERNS = /* GraphQL */ `
  query RelatedAttackPatterns($fromId: [String], $first: Int, $after: ID) {
    stixCoreRelationships(
      fromId: $fromId
      toTypes: ["Attack-Pattern"]
      relationship_type: ["uses", "targets"]
      first: $first
      after: $after
    ) {
      ${PAGE_INFO}
      edges {
        node {
          id
          to { ...AttackPatternRef }
        }
      }
    }
  }
  ${ATTACK_PATTERN_REF}
`;

/** §6.2 — `bundle` is the JSON string of the bundle (not base64). */
export const STIX_BUNDLE_PUSH = /* GraphQL */ `
  mutation StixBundlePush($connectorId: String!, $bundle: String!, $work_id: String) {
    stixBundlePush(connectorId: $connectorId, bundle: $bundle, work_id: $work_id)
  }
`;

/** A push that is its run's first write: the work is marked received first, in the same call. */
export const STIX_BUNDLE_PUSH_RECEIVED = /* GraphQL */ `
  mutation StixBundlePushReceived($connectorId: String!, $bundle: String!, $work_id: String!, $workId: ID!, $message: String) {
    workEdit(id: $workId) { toReceived(message: $message) }
    stixBundlePush(connectorId: $connectorId, bundle: $bundle, work_id: $work_id)
  }
`;

/**
 * Removes one of our own has-covered whose technique left the container. Synchronous; inside a draft
 * (`opencti-draft-id` header) the platform records it in the draft. Relationship deletions do not
 * re-trigger the coverage's enrichment (platform-behaviour.md §2 lists what does).
 */
export const RELATIONSHIP_DELETE = /* GraphQL */ `
  mutation RelationshipDelete($id: ID!) {
    stixCoreRelationshipEdit(id: $id) { delete }
  }
`;

// ─── Scheduler (src/app/scheduler/scheduler-platform.ts, docs/scheduling.md) ────────────────────────────────

/**
 * Every coverage, page by page, with what the schedule is computed from. Stable order (creation);
 * `jobs` (this coverage's works) only for `schedule list`, too costly for the hourly reconciliation.
 */
export const SCHEDULE_COVERAGES = /* GraphQL */ `
  query ScheduleCoverages($first: Int, $after: ID, $withJobs: Boolean!) {
    securityCoverages(first: $first, after: $after, orderBy: created_at, orderMode: asc) {
      pageInfo { endCursor hasNextPage globalCount }
      edges {
        node {
          ...ScheduleCoverageFields
          jobs(first: 10) @include(if: $withJobs) { id timestamp status connector { id } }
        }
      }
    }
  }
  ${SCHEDULE_COVERAGE_FIELDS}
`;

/** One coverage, fresh, with its latest works: read right before a scheduled run (no double run). */
export const SCHEDULE_COVERAGE = /* GraphQL */ `
  query ScheduleCoverage($id: String!) {
    securityCoverage(id: $id) {
      ...ScheduleCoverageFields
      jobs(first: 10) { id timestamp status connector { id } }
    }
  }
  ${SCHEDULE_COVERAGE_FIELDS}
`;

/** A scheduled run = the platform's own enrichment request: it creates the work and publishes the message. */
export const SCHEDULE_ASK_ENRICHMENT = /* GraphQL */ `
  mutation ScheduleAskEnrichment($id: ID!, $connectorId: ID!) {
    stixCoreObjectEdit(id: $id) {
      askEnrichment(connectorId: $connectorId) { id }
    }
  }
`;

// ─── end of scheduler block ──────────────────────────────────────────────────────────────────────

// ─── Operator tooling (src/app/operator/operator.ts, docs/operating.md) ───────────────────────────────────

/** `status` / `retrigger` / `dlq`: is the connector registered, and where are its queues. */
export const OPERATOR_CONNECTOR = /* GraphQL */ `
  query OperatorConnector($id: String!) {
    connector(id: $id) {
      id
      name
      active
      updated_at
      config { ...ListenQueueConfig }
    }
  }
  ${LISTEN_QUEUE_CONFIG}
`;

/** `retrigger --stale|--all|--container`: every coverage with its validity end and covered entity. */
export const OPERATOR_COVERAGES = /* GraphQL */ `
  query OperatorCoverages($first: Int, $after: ID) {
    securityCoverages(first: $first, after: $after, orderBy: created_at, orderMode: asc) {
      pageInfo { endCursor hasNextPage globalCount }
      edges {
        node {
          id
          standard_id
          name
          coverage_valid_to
          auto_enrichment_disable
          objectCovered ${ENTITY_REF}
        }
      }
    }
  }
`;

/** §5.5: the coverage as the platform would send it (`toStixBundle` = §3.4 content, coverage first). */
export const OPERATOR_COVERAGE_BUNDLE = /* GraphQL */ `
  query OperatorCoverageBundle($id: String!) {
    securityCoverage(id: $id) {
      id
      standard_id
      name
      coverage_valid_to
      ${COVERAGE_SCORES}
      toStixBundle
    }
  }
`;

/**
 * A work of our own (§5.3): an operator-queued request, or the results of a run whose enrichment
 * work was already written into by a process that died (src/app/enrichment-job.ts).
 */
export const WORK_ADD = /* GraphQL */ `
  mutation WorkAdd($connectorId: String!, $friendlyName: String) {
    workAdd(connectorId: $connectorId, friendlyName: $friendlyName) { id }
  }
`;

// ─── end of operator block ───────────────────────────────────────────────────────────────────────

// ─── What the platform is (src/adapters/opencti/platform-probe.ts, docs/compatibility.md) ──────────

/** `about { version }` (6.9.17 and 7.260817.0: `Query.about: AppInfo`, `AppInfo.version: String!`); only logged. */
export const PLATFORM_VERSION = /* GraphQL */ `
  query PlatformVersion {
    about { version }
  }
`;

/**
 * Feature detection from the schema. `__type` of a name the schema lacks is null, so this validates on
 * every version; the platform's alias rule (graphql-no-alias, src/graphql/graphql.js) allows the same
 * Query field at most twice per document, `__type` included.
 */
export const PLATFORM_SCHEMA_FACTS = /* GraphQL */ `
  query PlatformSchemaFacts {
    coverage: __type(name: "SecurityCoverage") { fields { name } }
    result: __type(name: "SecurityCoverageResult") { name }
  }
`;

/** Every document, by operation name (the contract test iterates over this). */
export const DOCUMENTS: Readonly<Record<string, string>> = {
  RegisterConnector: REGISTER_CONNECTOR,
  PingConnector: PING_CONNECTOR,
  WorkToReceived: WORK_TO_RECEIVED,
  WorkToProcessed: WORK_TO_PROCESSED,
  WorkAddExpectations: WORK_ADD_EXPECTATIONS,
  WorkReceivedAddExpectations: WORK_RECEIVED_ADD_EXPECTATIONS,
  WorkPing: WORK_PING,
  WorkExpected: WORK_EXPECTED,
  CoverageState: COVERAGE_STATE,
  CoverageRelationships: COVERAGE_RELATIONSHIPS,
  ContainerAttackPatterns: CONTAINER_ATTACK_PATTERNS,
  RelatedAttackPatterns: RELATED_ATTACK_PATTERNS,
  StixBundlePush: STIX_BUNDLE_PUSH,
  StixBundlePushReceived: STIX_BUNDLE_PUSH_RECEIVED,
  // Scheduler block
  ScheduleCoverages: SCHEDULE_COVERAGES,
  ScheduleCoverage: SCHEDULE_COVERAGE,
  ScheduleAskEnrichment: SCHEDULE_ASK_ENRICHMENT,
  // Operator block
  OperatorConnector: OPERATOR_CONNECTOR,
  OperatorCoverages: OPERATOR_COVERAGES,
  OperatorCoverageBundle: OPERATOR_COVERAGE_BUNDLE,
  WorkAdd: WORK_ADD,
  PlatformVersion: PLATFORM_VERSION,
  PlatformSchemaFacts: PLATFORM_SCHEMA_FACTS,
  RelationshipDelete: RELATIONSHIP_DELETE,
  // Gap prevalence from the platform's intelligence (technique-prevalence-api.ts)
  ...PREVALENCE_DOCUMENTS,
};
