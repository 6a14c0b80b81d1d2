// The other end of the lockstep bench's NATS round trip: a process that answers every request on one subject with its own bytes, until stdin closes.
import { connect } from '@nats-io/transport-node';

const [url, subject] = process.argv.slice(2) as [string, string];
const nc = await connect({ servers: url });
nc.subscribe(subject, {
  callback: (_err, msg) => {
    msg.respond(msg.data);
  },
});
await nc.flush();
// Ready: the bench starts its requests only after this line (a request before the subscription would go unanswered).
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => void nc.close().then(() => process.exit(0)));
