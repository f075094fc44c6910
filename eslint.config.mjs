// @ts-check
import js from "@eslint/js";
import nx from "@nx/eslint-plugin";
import prettier from "eslint-config-prettier";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      ".tools/**",
      ".data/**",
      ".nx/**",
      "bench/results/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@nx": nx, "import-x": importX },
    // Without an explicit resolver, import-x falls back to a legacy one named "node" and loads the
    // `node` package (Node 24, a dev dependency) in its place, which fails on ESM dependencies.
    settings: { "import-x/resolver-next": [createNodeResolver()] },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-unnecessary-condition": "off",
      "import-x/no-cycle": "error",
      "@nx/enforce-module-boundaries": [
        "error",
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: "type:service", onlyDependOnLibsWithTags: ["type:lib"] },
            { sourceTag: "type:lib", onlyDependOnLibsWithTags: ["type:lib"] },
            { sourceTag: "type:tool", onlyDependOnLibsWithTags: ["type:lib", "type:test-lib"] },
            { sourceTag: "type:test-lib", onlyDependOnLibsWithTags: ["type:lib"] },
            {
              sourceTag: "type:bench",
              onlyDependOnLibsWithTags: ["type:lib", "type:test-lib", "type:tool"],
            },
            {
              sourceTag: "type:test",
              onlyDependOnLibsWithTags: ["type:lib", "type:test-lib", "type:service", "type:tool"],
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.spec.ts", "**/vitest.config.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    // Project test configs share the workspace's vitest settings by relative import.
    files: ["**/vitest.config.ts"],
    rules: { "@nx/enforce-module-boundaries": "off" },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
