#!/usr/bin/env bash
# Scaffolds one workspace project: tools/new-project.sh <libs|services|tools> <name> <tag>
set -euo pipefail
kind=$1 name=$2 tag=$3
dir="$kind/$name"
mkdir -p "$dir/src"
cat > "$dir/package.json" <<JSON
{
  "name": "@conveyor/$name",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "exports": {
    ".": {
      "conveyor-source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "default": "./dist/index.js"
    }
  }
}
JSON
cat > "$dir/project.json" <<JSON
{
  "name": "$name",
  "\$schema": "../../node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$dir/src",
  "projectType": "$([ "$kind" = libs ] && echo library || echo application)",
  "tags": ["$tag"],
  "targets": { "build": {}, "typecheck": {}, "lint": {}, "test": {} }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "noEmit": true },
  "include": ["src/**/*.ts", "vitest.config.ts"]
}
JSON
cat > "$dir/tsconfig.build.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist" },
  "include": ["src/**/*.ts"],
  "exclude": ["src/**/*.spec.ts"]
}
JSON
cat > "$dir/vitest.config.ts" <<TS
import { projectConfig } from "../../vitest.shared.ts";

export default projectConfig();
TS
