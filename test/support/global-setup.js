// Probes the broker once for the whole run. Tests read BROKER_AVAILABLE; REQUIRE_BROKER=1 turns a
// missing broker into a failure instead of skipped integration suites.
const amqp = require('amqplib');

module.exports = async function globalSetup() {
  const url = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
  process.env.AMQP_URL = url;
  try {
    const conn = await amqp.connect(url, { timeout: 3000 });
    await conn.close();
    process.env.BROKER_AVAILABLE = '1';
  } catch (err) {
    process.env.BROKER_AVAILABLE = '0';
    const msg = `RabbitMQ is not reachable at ${url.replace(/\/\/[^@]*@/, '//***@')}: ${err && err.message}`;
    if (process.env.REQUIRE_BROKER === '1') throw new Error(`${msg} (REQUIRE_BROKER=1)`);
    process.stderr.write(`${msg}; broker suites are skipped (set REQUIRE_BROKER=1 to fail instead)\n`);
  }
};
