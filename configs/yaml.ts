/** YAML output shared by the renderers: one header, one style. */
import { stringify } from "yaml";

const header =
  "# Generated from the stack's settings by configs/ (npm run render). Do not edit: change Pulumi.<stack>.yaml.";

export function generatedYaml(document: unknown): string {
  return `${header}\n${stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
