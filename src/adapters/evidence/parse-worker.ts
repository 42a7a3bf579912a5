import { parentPort } from 'node:worker_threads';
import type { BatchRequest, BatchResponse } from './parse-pool';
import { loadFoundRuleFiles } from './rule-files';

/** Worker-thread entry (see parse-pool.ts): loads each batch of rule files it is sent. */
const port = parentPort;
if (port) {
  port.on('message', (request: BatchRequest) => {
    void loadFoundRuleFiles(request.files, request.maxBytes).then((results) => port.postMessage({ id: request.id, results } satisfies BatchResponse));
  });
}
