import type { StixBundle } from '../../domain/stix/stix-types';
import type { Broker } from './broker';

/**
 * `worker.push_mode=amqp`: publishes a bundle to the platform's push exchange exactly as pycti's
 * `_send_bundle` does (protocol §6.1). Confirmed before resolving.
 */
export interface PushTarget {
  exchange: string;
  routingKey: string;
  /** The connector user (registration `connector_user_id`): the worker imports as this user. */
  applicantId: string | null;
}

export interface PushMessageOptions {
  workId: string | null;
  draftId?: string | null;
  sequence?: number;
}

export function pushMessageBody(bundle: StixBundle, target: PushTarget, options: PushMessageOptions): Record<string, unknown> {
  return {
    type: 'bundle',
    bundle_type: 'QUEUE_BUNDLE',
    applicant_id: target.applicantId,
    action_sequence: options.sequence ?? 1,
    entities_types: [],
    content: Buffer.from(JSON.stringify(bundle), 'utf8').toString('base64'),
    update: true,
    draft_id: options.draftId ?? null,
    work_id: options.workId,
  };
}

export type AmqpBundlePublisher = (bundle: StixBundle, options: PushMessageOptions) => Promise<void>;

export function createAmqpBundlePublisher(broker: Pick<Broker, 'publish'>, target: PushTarget): AmqpBundlePublisher {
  return async (bundle, options) => {
    const body = Buffer.from(JSON.stringify(pushMessageBody(bundle, target, options)), 'utf8');
    await broker.publish(target.exchange, target.routingKey, body, {
      persistent: true,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
    });
  };
}
