import type { JobTypeDescriptor } from "@conveyor/contracts";

import { openPaths } from "../http/bearer-auth.ts";
import { componentSchemas, componentsPointer } from "./components.ts";
import { embedSchema } from "./json-schema-refs.ts";
import type { JsonSchemaObject } from "./json-schema-refs.ts";
import { paths } from "./paths.ts";

/** What the document says about the API itself. */
export interface ApiInfo {
  title: string;
  version: string;
}

const defaultInfo: ApiInfo = { title: "Conveyor REST API", version: "1.0.0" };

/**
 * The OpenAPI 3.1 document of the REST API, from the zod schemas the gateway validates with plus
 * each registered job type's payload schema. A submission is `oneOf` the per-type submissions
 * (`JobSubmission.<type>`, discriminated by `type`), each the generic `JobSubmission` envelope with
 * its payload bound to `JobPayload.<type>`; with no type registered it is the generic envelope.
 */
export function buildOpenApi(
  types: readonly JobTypeDescriptor[],
  info: ApiInfo = defaultInfo,
  options: { bearerAuth?: boolean } = {},
): Record<string, unknown> {
  const schemas = componentSchemas();
  const mapping: Record<string, string> = {};
  for (const descriptor of types) {
    const payloadName = `JobPayload.${descriptor.type}`;
    const submissionName = `JobSubmission.${descriptor.type}`;
    schemas[payloadName] = payloadSchema(descriptor, `${componentsPointer}${payloadName}`);
    schemas[submissionName] = {
      description: descriptor.description ?? `A submission of a ${descriptor.type} job`,
      allOf: [
        { $ref: `${componentsPointer}JobSubmission` },
        {
          type: "object",
          properties: {
            type: { const: descriptor.type },
            payload: { $ref: `${componentsPointer}${payloadName}` },
          },
        },
      ],
    };
    mapping[descriptor.type] = `${componentsPointer}${submissionName}`;
  }
  const submission =
    types.length === 0
      ? { $ref: `${componentsPointer}JobSubmission` }
      : {
          oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
          discriminator: { propertyName: "type", mapping },
        };
  const document = {
    openapi: "3.1.0",
    info: {
      ...info,
      description:
        "Submit jobs and read their state. Every error is JSON `{ error, message, issues? }`.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths: paths(submission),
    components: { schemas },
  };
  return options.bearerAuth === true ? withBearerAuth(document) : document;
}

/**
 * `document` for a gateway that requires a bearer token: the scheme, required everywhere but on
 * the open paths, and the 401 each operation may answer.
 */
function withBearerAuth(document: {
  paths: Record<string, object>;
  components: { schemas: Record<string, JsonSchemaObject> };
}): Record<string, unknown> {
  const unauthorized = {
    description: "No bearer token, or one the gateway does not accept (`unauthorized`)",
    content: { "application/json": { schema: { $ref: `${componentsPointer}ErrorBody` } } },
  };
  const paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, operations]) => [
      path,
      openPaths.has(path)
        ? Object.fromEntries(
            Object.entries(operations).map(([method, op]) => [method, { ...op, security: [] }]),
          )
        : Object.fromEntries(
            Object.entries(operations as Record<string, { responses: object }>).map(
              ([method, op]) => [
                method,
                { ...op, responses: { ...op.responses, "401": unauthorized } },
              ],
            ),
          ),
    ]),
  );
  return {
    ...document,
    paths,
    security: [{ bearer: [] }],
    components: {
      ...document.components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}

/** The type's payload schema moved under `pointer`; any JSON value when it declares none. */
function payloadSchema(descriptor: JobTypeDescriptor, pointer: string): JsonSchemaObject {
  if (!descriptor.payloadSchema) {
    return { description: "Any JSON value", $ref: `${componentsPointer}JsonValue` };
  }
  return embedSchema(descriptor.payloadSchema, pointer);
}
