import type { ServiceName } from "./service-process.ts";

/** Variables only one service may see: secrets the others have no use for. */
const ownedBy: Readonly<Record<string, ServiceName>> = {
  // The worker runs users' job code: it has no business with the REST API's tokens.
  GATEWAY_API_TOKENS: "gateway",
};

/** The stack's environment as `name` is given it: another service's secrets left out. */
export function serviceEnvironment(name: ServiceName, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([variable]) => (ownedBy[variable] ?? name) === name),
  );
}
