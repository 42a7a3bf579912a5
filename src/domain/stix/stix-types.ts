/** Minimal STIX 2.1 shapes the connector reads and writes. Unknown properties are kept as `unknown`. */
export interface StixObject {
  type: string;
  id: string;
  spec_version?: string;
  [key: string]: unknown;
}

export interface StixBundle {
  type: 'bundle';
  id: string;
  spec_version?: string;
  objects: StixObject[];
}

/** OpenCTI's STIX extension id carried by Security-Coverage objects. */
export const OPENCTI_EXTENSION_ID = 'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba';
/** OpenCTI's MITRE extension (carries the ATT&CK `id` on attack-patterns emitted by the platform). */
export const OPENCTI_MITRE_EXTENSION_ID = 'extension-definition--322b8f77-262a-4cb8-a915-1e441e00329b';
