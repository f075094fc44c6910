import type { JobTypeDescriptor } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { buildOpenApi } from "./build-openapi.ts";
import { embedSchema } from "./json-schema-refs.ts";

const retry = {
  maxAttempts: 3,
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: "none",
} as const;

const echo: JobTypeDescriptor = {
  type: "echo",
  description: "Returns its payload",
  payloadSchema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: { message: { type: "string" }, delay: { $ref: "#/$defs/ms" } },
    required: ["message"],
    $defs: { ms: { type: "integer", minimum: 0 } },
  },
  retry,
  timeoutMs: 30_000,
  version: 0,
  registeredAt: "2026-01-01T00:00:00.000Z",
};

const anything: JobTypeDescriptor = { ...echo, type: "json.any", payloadSchema: undefined };

type Doc = Record<string, unknown> & {
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>
  >;
  components: { schemas: Record<string, Record<string, unknown>> };
};

function build(types: JobTypeDescriptor[]): Doc {
  return buildOpenApi(types) as Doc;
}

/** Follows a `#/a/b` JSON pointer through the document. */
function resolve(doc: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split("/")
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}

function refsIn(value: unknown): string[] {
  return [...JSON.stringify(value).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
}

describe("buildOpenApi", () => {
  it("is an OpenAPI 3.1 document with every path of the API", () => {
    const doc = build([]);
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/healthz",
      "/openapi.json",
      "/readyz",
      "/v1/dlq",
      "/v1/dlq/replay",
      "/v1/dlq/{id}",
      "/v1/dlq/{id}/replay",
      "/v1/job-types",
      "/v1/job-types/{type}/pause",
      "/v1/job-types/{type}/resume",
      "/v1/jobs",
      "/v1/jobs/bulk",
      "/v1/jobs/{id}",
      "/v1/jobs/{id}/cancel",
      "/v1/jobs/{id}/events",
      "/v1/rejections",
      "/v1/rejections/{id}",
      "/v1/schedules",
      "/v1/schedules/{name}",
      "/v1/stats",
    ]);
    expect(Object.keys(doc.paths["/v1/schedules/{name}"]!).sort()).toEqual([
      "delete",
      "get",
      "put",
    ]);
    expect(Object.keys(doc.paths["/v1/jobs"]!).sort()).toEqual(["get", "post"]);
  });

  it("documents the submission's outcomes and every error as the shared error body", () => {
    const post = build([]).paths["/v1/jobs"]!["post"]!;
    expect(Object.keys(post.responses).sort()).toEqual([
      "200",
      "202",
      "400",
      "413",
      "415",
      "422",
      "503",
    ]);
    for (const status of ["400", "413", "415", "422", "503"]) {
      expect(refsIn(post.responses[status])).toEqual(["#/components/schemas/ErrorBody"]);
    }
    const errorBody = build([]).components.schemas["ErrorBody"]!;
    expect(errorBody["required"]).toEqual(["error", "message"]);
  });

  it("generates the envelope from the zod schema the gateway validates with", () => {
    const envelope = build([]).components.schemas["JobSubmission"]!;
    const properties = envelope["properties"] as Record<string, Record<string, unknown>>;
    expect(envelope["required"]).toEqual(["type"]);
    expect(envelope["additionalProperties"]).toBe(false);
    expect(properties["priority"]).toMatchObject({ minimum: 0, maximum: 9, default: 5 });
    expect(Object.keys(properties)).toEqual(
      expect.arrayContaining(["id", "type", "payload", "idempotencyKey", "batchId"]),
    );
  });

  it("offers one submission schema per registered type, discriminated by type", () => {
    const doc = build([echo, anything]);
    const body = resolve(
      doc,
      "#/paths/~1v1~1jobs/post/requestBody/content/application~1json/schema",
    );
    expect(body).toEqual({
      oneOf: [
        { $ref: "#/components/schemas/JobSubmission.echo" },
        { $ref: "#/components/schemas/JobSubmission.json.any" },
      ],
      discriminator: {
        propertyName: "type",
        mapping: {
          echo: "#/components/schemas/JobSubmission.echo",
          "json.any": "#/components/schemas/JobSubmission.json.any",
        },
      },
    });
    const payload = doc.components.schemas["JobPayload.echo"]!;
    expect(payload["required"]).toEqual(["message"]);
    expect(payload["$schema"]).toBeUndefined();
    expect(doc.components.schemas["JobPayload.json.any"]).toMatchObject({
      $ref: "#/components/schemas/JsonValue",
    });
  });

  it("uses the generic envelope when no type is registered", () => {
    const body = resolve(
      build([]),
      "#/paths/~1v1~1jobs/post/requestBody/content/application~1json/schema",
    );
    expect(body).toEqual({ $ref: "#/components/schemas/JobSubmission" });
  });

  it("leaves no reference dangling, including those inside payload schemas", () => {
    const doc = build([echo, anything]);
    const refs = refsIn(doc);
    expect(refs).toContain("#/components/schemas/JobPayload.echo/$defs/ms");
    for (const ref of new Set(refs)) {
      expect(resolve(doc, ref), ref).toBeDefined();
    }
  });

  it("describes list parameters from the query schemas", () => {
    const get = build([]).paths["/v1/jobs"]!["get"] as unknown as {
      parameters: { name: string; in: string; required: boolean }[];
    };
    expect(get.parameters.map((p) => `${p.in}:${p.name}:${String(p.required)}`)).toEqual([
      "query:status:false",
      "query:type:false",
      "query:batchId:false",
      "query:limit:false",
      "query:cursor:false",
    ]);
  });
});

describe("embedSchema", () => {
  it("rebases local references onto the schema's new place", () => {
    expect(
      embedSchema(
        { $id: "x", items: { $ref: "#/$defs/a" }, self: { $ref: "#" } },
        "#/components/schemas/P",
      ),
    ).toEqual({
      items: { $ref: "#/components/schemas/P/$defs/a" },
      self: { $ref: "#/components/schemas/P" },
    });
  });

  it("requires the bearer token on every operation but the probes and itself, when the gateway has tokens", () => {
    type Operation = { security?: unknown; responses: Record<string, unknown> };
    const withAuth = buildOpenApi([], undefined, { bearerAuth: true }) as Doc & {
      security: unknown;
      components: { securitySchemes: unknown };
      paths: Record<string, Record<string, Operation>>;
    };
    expect(withAuth.security).toEqual([{ bearer: [] }]);
    expect(withAuth.components.securitySchemes).toEqual({
      bearer: { type: "http", scheme: "bearer" },
    });
    expect(withAuth.paths["/v1/jobs"]?.post?.responses["401"]).toBeDefined();
    expect(withAuth.paths["/v1/jobs/{id}/events"]?.get?.responses["401"]).toBeDefined();
    for (const open of ["/healthz", "/readyz", "/openapi.json"]) {
      expect(withAuth.paths[open]?.get?.security, open).toEqual([]);
      expect(withAuth.paths[open]?.get?.responses["401"], open).toBeUndefined();
    }
    // Without tokens the document claims none.
    const without = build([]) as Doc & { security?: unknown };
    expect(without.security).toBeUndefined();
  });
});
