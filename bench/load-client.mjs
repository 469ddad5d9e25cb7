// Runs autocannon in its own process (so that the load generator does not share the server's event loop) and
// prints its result as JSON. Every request is a valid POST /accounts with its own account name and
// Idempotency-Key, as the vend CLI sends it. Arguments: one JSON object { url, connections, duration }.
import autocannon from 'autocannon';

const { url, connections, duration, prefix } = JSON.parse(process.argv[2]);
let serial = 0;
const result = await autocannon({
  url: `${url}/accounts`,
  connections,
  duration,
  requests: [
    {
      method: 'POST',
      setupRequest(request) {
        const n = ++serial;
        return {
          ...request,
          headers: { 'content-type': 'application/json', 'idempotency-key': `${prefix}-${n}` },
          body: JSON.stringify({
            name: `${prefix}-${n}`,
            organizationalUnit: 'Sandbox',
            owner: 'alice@example.com',
            tags: { team: 'load' },
          }),
        };
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    requests: result.requests,
    latency: result.latency,
    statusCodeStats: result.statusCodeStats,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration,
  }),
);
