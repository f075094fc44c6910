import { z } from "zod";

import { withoutRootKeywords } from "./json-schema-refs.ts";
import type { JsonSchemaObject } from "./json-schema-refs.ts";

/** An OpenAPI parameter object. */
export interface ParameterObject {
  name: string;
  in: "query" | "path" | "header";
  required: boolean;
  description?: string;
  schema: JsonSchemaObject;
}

/** The OpenAPI parameters of a zod object schema the gateway parses query or path params with. */
export function parametersOf(schema: z.ZodObject, location: "query" | "path"): ParameterObject[] {
  return Object.entries(schema.shape).map(([name, field]: [string, z.ZodType]) => {
    const json = withoutRootKeywords(
      z.toJSONSchema(field, { io: "input", target: "draft-2020-12", unrepresentable: "any" }),
    );
    const parameter: ParameterObject = {
      name,
      in: location,
      required: location === "path" || !field.safeParse(undefined).success,
      schema: json,
    };
    if (field.description !== undefined) parameter.description = field.description;
    return parameter;
  });
}
