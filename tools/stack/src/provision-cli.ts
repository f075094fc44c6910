// `npm run provision` (and the first step of `npm test`): ensures the pinned servers are built.
import { ProvisionError } from "./errors.ts";
import { provisionTools } from "./provision-tools.ts";

try {
  const tools = await provisionTools();
  process.stderr.write(
    `provision: nats-server, ferretdb and nats are current (${tools.natsServer}, ${tools.ferretdb}, ${tools.natsCli})\n`,
  );
} catch (err) {
  const message = err instanceof ProvisionError ? err.message : String(err);
  process.stderr.write(`provision failed: ${message}\n`);
  process.exit(1);
}
