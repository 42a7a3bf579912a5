import { parentPort } from 'node:worker_threads';
import type { BatchRequest, BatchResponse } from './parse-pool';
import { loadFoundRuleFilesSync } from './rule-files';

/** Worker-thread entry (see parse-pool.ts): loads each batch of rule files it is sent, blocking I/O. */
const port = parentPort;
if (port) {
  port.on('message', (request: BatchRequest) => {
    port.postMessage({ id: request.id, results: loadFoundRuleFilesSync(request.files, request.maxBytes) } satisfies BatchResponse);
  });
}
