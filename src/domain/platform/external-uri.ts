/**
 * The coverage's `external_uri`: the link the OpenCTI coverage page shows instead of "Provisioning
 * OpenAEV" (opencti-front `securityCoverages/Root.tsx`), validated there as a URL. It must be an
 * absolute http(s) URL a person can open, and stable per coverage: any change to it is a write that
 * re-triggers an enrichment (platform-behaviour.md §2, §6).
 */

export interface ExternalUriSettings {
  /** The connector's public base URL (`http.public_url`): the coverage report page it serves. */
  connectorPublicUrl?: string;
  /** The platform's public base URL (`opencti.public_url`, default `opencti.url`). */
  platformPublicUrl: string;
}

const uuidOf = (id: string): string => (id.includes('--') ? id.slice(id.indexOf('--') + 2) : id);
const base = (url: string): string => url.replace(/\/+$/, '');

/**
 * `<http.public_url>/coverages/<coverage uuid>` when the connector has a public URL; otherwise the
 * coverage's own page in OpenCTI (`/dashboard/analyses/security_coverages/<internal id>`, the route
 * opencti-front links coverages with).
 */
export function coverageExternalUri(settings: ExternalUriSettings, coverage: { standardId: string; internalId: string }): string {
  if (settings.connectorPublicUrl) return `${base(settings.connectorPublicUrl)}/coverages/${uuidOf(coverage.standardId)}`;
  return `${base(settings.platformPublicUrl)}/dashboard/analyses/security_coverages/${coverage.internalId}`;
}

/** True for an absolute http(s) URL with a host: what the platform's edit form accepts and a person can open. */
export function isOpenableUrl(value: string | undefined | null): boolean {
  if (!value) return false;
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}
