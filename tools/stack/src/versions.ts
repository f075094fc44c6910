/** A `vMAJOR.MINOR.PATCH` version (with optional pre-release) found in a tool's output. */
const versionPattern = /\bv?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\b/;

/**
 * The version a tool prints for `--version`, normalised to `vX.Y.Z`: `nats-server: v2.14.9`,
 * `v0.5.1`, `version: v1.24.2`. Undefined when the output names no version.
 */
export function parseVersion(output: string): string | undefined {
  const match = versionPattern.exec(output);
  return match?.[1] === undefined ? undefined : `v${match[1]}`;
}

/** The version `go.mod` requires of `module`, or undefined when it does not require it. */
export function goModRequirement(goMod: string, module: string): string | undefined {
  const escaped = module.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod);
  return match?.[1];
}
