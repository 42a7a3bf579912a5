/**
 * The part of the OpenCTI 6.9.17 GraphQL schema the fake platform serves: exactly the types, fields
 * and arguments the connector uses, written by hand so the tests run without ../shared.
 * test/unit/graphql-contract.test.ts checks (when ../shared exists) that every type, field, argument
 * and their types here exist identically in the real schema, so the fake speaks the real schema.
 */
/** The connector info fields: the platform's input (pingConnector) and output types list the same ones. */
const CONNECTOR_INFO_FIELDS = `  run_and_terminate: Boolean!
  buffering: Boolean!
  queue_threshold: Float!
  queue_messages_size: Float!
  next_run_datetime: DateTime
  last_run_datetime: DateTime
`;

export const FAKE_OPENCTI_SDL = /* GraphQL */ `
scalar DateTime
scalar StixId
scalar StixRef
scalar Any

type Query {
  securityCoverage(id: String!): SecurityCoverage
  securityCoverages(first: Int, after: ID, orderBy: SecurityCoverageOrdering, orderMode: OrderingMode): SecurityCoverageConnection
  container(id: String): Container
  stixCoreRelationships(first: Int, after: ID, orderBy: StixCoreRelationshipsOrdering, orderMode: OrderingMode, fromId: [String], fromTypes: [String], toId: [String], toTypes: [String], relationship_type: [String]): StixCoreRelationshipConnection
  reports(first: Int, after: ID, orderBy: ReportsOrdering, orderMode: OrderingMode): ReportConnection
  connector(id: String!): Connector
  work(id: ID!): Work
}

type Mutation {
  workEdit(id: ID!): WorkEditMutations
  pingConnector(id: ID!, state: String, connectorInfo: ConnectorInfoInput): Connector
  registerConnector(input: RegisterConnectorInput): Connector
  stixBundlePush(connectorId: String!, bundle: String!, work_id: String): Boolean
  stixCoreObjectEdit(id: ID!): StixCoreObjectEditMutations
  stixCoreRelationshipEdit(id: ID!): StixCoreRelationshipEditMutations
  labelAdd(input: LabelAddInput!): Label
  stixDomainObjectEdit(id: ID!): StixDomainObjectEditMutations
  noteAdd(input: NoteAddInput!): Note
  noteEdit(id: ID!): NoteEditMutations
  workAdd(connectorId: String!, friendlyName: String): Work!
}

type Label {
  id: ID!
  value: String
  color: String
}

input LabelAddInput {
  value: String!
  color: String
}

input StixRefRelationshipAddInput {
  toId: StixRef
  relationship_type: String!
}

input NoteAddInput {
  attribute_abstract: String
  content: String!
  objects: [String]
  objectLabel: [String]
}

input EditInput {
  key: String!
  value: [Any]!
}

type StixRefRelationship {
  id: ID!
}

type StixDomainObjectEditMutations {
  relationAdd(input: StixRefRelationshipAddInput!): StixRefRelationship
  relationDelete(toId: StixRef!, relationship_type: String): StixDomainObject
}

type NoteEditMutations {
  delete: ID
  fieldPatch(input: [EditInput]!): Note
}

type StixCoreRelationshipEditMutations {
  delete: ID
}

type StixCoreObjectEditMutations {
  askEnrichment(connectorId: ID!): Work
}

enum State {
  wait
  progress
  complete
  timeout
}

type Work {
  id: ID!
  name: String
  connector: Connector
  timestamp: DateTime!
  status: State!
  tracking: WorkTracking
}

type WorkTracking {
  import_expected_number: Int
  import_last_processed: DateTime
  import_processed_number: Int
}

enum SecurityCoverageOrdering {
  name
  confidence
  created
  created_at
  creator
  modified
  updated_at
  objectMarking
  coverage_last_result
  _score
}

enum OrderingMode {
  asc
  desc
}

enum StixCoreRelationshipsOrdering {
  created
  created_at
}

enum ReportsOrdering {
  created
  published
}

type ReportEdge {
  cursor: String!
  node: Report!
}

type ReportConnection {
  pageInfo: PageInfo!
  edges: [ReportEdge]
}

type SecurityCoverageEdge {
  cursor: String!
  node: SecurityCoverage!
}

type SecurityCoverageConnection {
  pageInfo: PageInfo!
  edges: [SecurityCoverageEdge!]!
}

enum ConnectorType {
  EXTERNAL_IMPORT
  INTERNAL_IMPORT_FILE
  INTERNAL_ENRICHMENT
  INTERNAL_ANALYSIS
  INTERNAL_EXPORT_FILE
  STREAM
}

input RegisterConnectorInput {
  id: ID!
  name: String!
  type: ConnectorType!
  scope: [String!]
  auto: Boolean
  auto_update: Boolean
  enrichment_resolution: String
  only_contextual: Boolean
  playbook_compatible: Boolean
  listen_callback_uri: String
}

input ConnectorInfoInput {
${CONNECTOR_INFO_FIELDS}}

input WorkErrorInput {
  error: String
  source: String
}

type ConnectorInfo {
${CONNECTOR_INFO_FIELDS}}

type RabbitMQConnection {
  host: String!
  vhost: String!
  use_ssl: Boolean!
  port: Int!
  user: String!
  pass: String!
}

type ConnectorConfig {
  connection: RabbitMQConnection!
  listen: String!
  listen_routing: String!
  listen_exchange: String!
  push: String!
  push_routing: String!
  push_exchange: String!
  dead_letter_routing: String!
}

type Connector {
  id: ID!
  name: String!
  connector_state: String
  connector_user_id: ID
  connector_info: ConnectorInfo
  config: ConnectorConfig
  active: Boolean
  updated_at: DateTime
}

type WorkEditMutations {
  ping: ID!
  reportExpectation(error: WorkErrorInput): ID!
  addExpectations(expectations: Int): ID!
  toReceived(message: String): ID!
  toProcessed(message: String, inError: Boolean): ID!
}

type CoverageResult {
  coverage_name: String!
  coverage_score: Int!
}

type PageInfo {
  startCursor: String!
  endCursor: String!
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  globalCount: Int!
}

interface StixCoreObject {
  id: ID!
  standard_id: String!
  entity_type: String!
  stixCoreRelationships(first: Int, after: ID, relationship_type: String): StixCoreRelationshipConnection
}

interface StixDomainObject {
  id: ID!
  standard_id: String!
  entity_type: String!
  stixCoreRelationships(first: Int, after: ID, relationship_type: String): StixCoreRelationshipConnection
}

interface Container {
  id: ID!
  standard_id: String!
  entity_type: String!
  objects(first: Int, after: ID, types: [String]): StixObjectOrStixRelationshipRefConnection
}

type SecurityCoverage implements StixCoreObject & StixDomainObject {
  id: ID!
  standard_id: String!
  entity_type: String!
  name: String!
  created_at: DateTime!
  modified: DateTime
  coverage_last_result: DateTime
  jobs(first: Int): [Work]
  external_uri: String
  periodicity: String
  duration: String
  auto_enrichment_disable: Boolean
  coverage_information: [CoverageResult!]
  objectLabel: [Label!]
  notes(first: Int): NoteConnection
  objectCovered: StixDomainObject
  stixCoreRelationships(first: Int, after: ID, relationship_type: String): StixCoreRelationshipConnection
  coverage_valid_from: DateTime
  coverage_valid_to: DateTime
  toStixBundle: String
}

type AttackPattern implements StixCoreObject & StixDomainObject {
  id: ID!
  standard_id: String!
  entity_type: String!
  name: String!
  x_mitre_id: String
  killChainPhases: [KillChainPhase!]
  stixCoreRelationships(first: Int, after: ID, relationship_type: String): StixCoreRelationshipConnection
}

type KillChainPhase {
  kill_chain_name: String!
  phase_name: String!
}

type Report implements StixCoreObject & StixDomainObject & Container {
  id: ID!
  standard_id: String!
  entity_type: String!
  name: String!
  published: DateTime
  objects(first: Int, after: ID, types: [String]): StixObjectOrStixRelationshipRefConnection
  stixCoreRelationships(first: Int, after: ID, relationship_type: String): StixCoreRelationshipConnection
}

type IntrusionSet implements StixCoreObject & StixDomainObject {
  id: ID!
  standard_id: String!
  entity_type: String!
  name: String!
  stixCoreRelationships(first: Int, after: ID, relationship_type: String): StixCoreRelationshipConnection
}

type Note {
  id: ID!
  standard_id: String!
  x_opencti_stix_ids: [StixId]
  attribute_abstract: String
  content: String!
  objectLabel: [Label!]
}

type NoteEdge {
  cursor: String!
  node: Note!
}

type NoteConnection {
  pageInfo: PageInfo!
  edges: [NoteEdge!]!
}

type StixCoreRelationship {
  id: ID!
  standard_id: String!
  x_opencti_stix_ids: [StixId]
  description: String
  entity_type: String!
  relationship_type: String!
  coverage_information: [CoverageResult!]
  fromId: String!
  fromType: String!
  created: DateTime
  modified: DateTime
  from: StixObjectOrStixRelationshipOrCreator
  to: StixObjectOrStixRelationshipOrCreator
}

union StixObjectOrStixRelationshipOrCreator = AttackPattern | Report | IntrusionSet | SecurityCoverage

union StixObjectOrStixRelationship = AttackPattern | Report | IntrusionSet | SecurityCoverage

type StixObjectOrStixRelationshipRefEdge {
  cursor: String!
  types: [String]!
  node: StixObjectOrStixRelationship!
}

type StixObjectOrStixRelationshipRefConnection {
  pageInfo: PageInfo!
  edges: [StixObjectOrStixRelationshipRefEdge]
}

type StixCoreRelationshipEdge {
  cursor: String!
  node: StixCoreRelationship!
}

type StixCoreRelationshipConnection {
  pageInfo: PageInfo!
  edges: [StixCoreRelationshipEdge!]!
}
`;
