/**
 * Runs the Pulumi program under Pulumi's mocks, the way the engine would run it, and records every resource
 * with its inputs, parent and options. Used by the infra tests only.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { SettingsInput } from "../configs/settings/schema";
import { createStack, type ProgramLog, type StackOutputs } from "../infra/stack";

export const mockProject = "watchtower";
export const mockStack = "dev";

/** A resource as the engine received it. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs after serialization: secrets appear as Pulumi's secret envelope (see `isSecretEnvelope`). */
  readonly inputs: Record<string, unknown>;
  /** Name of the parent resource; the root stack's name for top-level resources. */
  readonly parent?: string;
  readonly options: pulumi.CustomResourceOptions;
  /** Names of the resources in `options.dependsOn`. */
  readonly dependsOn: readonly string[];
  /** The provider the engine would use for it, as the engine receives it (`<urn>::<id>`); unset for the default. */
  readonly provider?: string;
}

export interface StackRun {
  /** Keyed by resource name. */
  readonly resources: ReadonlyMap<string, RecordedResource>;
  readonly outputs: StackOutputs;
  readonly warnings: readonly string[];
}

/** Settings as a stack file holds them, top-level key by top-level key. */
export type StackConfig = { readonly [K in keyof SettingsInput]?: unknown } & Record<string, unknown>;

/** A value the SDK marked secret, as the engine receives it. */
interface SecretEnvelope {
  readonly value: unknown;
}

function isSecretEnvelope(value: unknown): value is SecretEnvelope {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/** Every string in a value, split by whether it sits inside a secret envelope. */
export function collectStrings(value: unknown): { plain: string[]; secret: string[] } {
  const found = { plain: [] as string[], secret: [] as string[] };
  const visit = (node: unknown, secret: boolean): void => {
    if (typeof node === "string") (secret ? found.secret : found.plain).push(node);
    else if (isSecretEnvelope(node)) visit(node.value, true);
    else if (Array.isArray(node)) for (const element of node) visit(element, secret);
    else if (typeof node === "object" && node !== null)
      for (const element of Object.values(node)) visit(element, secret);
  };
  visit(value, false);
  return found;
}

/** The value with every secret envelope replaced by what it holds. */
export function revealSecrets(value: unknown): unknown {
  if (isSecretEnvelope(value)) return revealSecrets(value.value);
  if (Array.isArray(value)) return value.map(revealSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, revealSecrets(element)]));
  }
  return value;
}

/** The generated Grafana password the mocks hand out, so tests can look for it. */
export function mockGeneratedPassword(resourceName: string): string {
  return `generated-${createHash("sha256").update(resourceName).digest("hex").slice(0, 20)}`;
}

function digestOf(value: unknown): string {
  return `sha256:${createHash("sha256")
    .update(JSON.stringify(revealSecrets(value)))
    .digest("hex")}`;
}

/** The outputs the program reads back from its resources, computed the way the providers would. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "docker:index/image:Image":
      return { imageName: inputs.imageName, repoDigest: digestOf(inputs) };
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: digestOf(inputs.name) };
    case "docker:index/network:Network":
    case "docker:index/volume:Volume":
    case "docker:index/container:Container":
      return { name: inputs.name };
    case "random:index/randomPassword:RandomPassword":
      return { result: mockGeneratedPassword(name) };
    default:
      return {};
  }
}

/** The names of explicit dependencies; the program passes resources, never outputs of them. */
function dependencyNames(
  dependsOn: pulumi.CustomResourceOptions["dependsOn"],
  nameOf: ReadonlyMap<pulumi.Resource, string>,
): string[] {
  const list = dependsOn === undefined ? [] : Array.isArray(dependsOn) ? dependsOn : [dependsOn];
  return list.map((dependency) => {
    const name = pulumi.Resource.isInstance(dependency) ? nameOf.get(dependency) : undefined;
    if (name === undefined) throw new Error("a dependsOn entry is not a resource the program declared");
    return name;
  });
}

/** Waits until the engine (here, the mocks) has answered the registration of a resource. */
function registration(resource: pulumi.Resource): Promise<unknown> {
  return new Promise((resolve) => resource.urn.apply(resolve));
}

/**
 * Runs the program with the given stack config. `secretKeys` are the top-level keys the CLI would mark secret
 * (`pulumi config set --secret --path email.authPassword` marks all of `email`). `registered` receives
 * `<type> <name>` of every resource the engine is asked to register, also when the program fails.
 */
export async function runStack(
  config: StackConfig,
  secretKeys: readonly string[] = [],
  registered: string[] = [],
  program: (log: ProgramLog) => StackOutputs | Promise<StackOutputs> = createStack,
): Promise<StackRun> {
  const inputsByName = new Map<
    string,
    { type: string; inputs: Record<string, unknown>; provider: string | undefined }
  >();
  const declared: {
    resource: pulumi.Resource;
    type: string;
    name: string;
    opts: pulumi.CustomResourceOptions;
  }[] = [];
  const warnings: string[] = [];

  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([key, value]) => [`${mockProject}:${key}`, JSON.stringify(value)]),
    ),
    secretKeys.map((key) => `${mockProject}:${key}`),
  );
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs, provider }) => {
        registered.push(`${type} ${name}`);
        inputsByName.set(name, { type, inputs, provider: provider || undefined });
        return { id: `${name}-id`, state: mockState(type, name, inputs) };
      },
      call: () => ({}),
    },
    mockProject,
    mockStack,
    false,
  );

  let outputs: StackOutputs | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(({ resource, type, name, opts }) => {
      declared.push({ resource, type, name, opts });
      return undefined;
    });
    outputs = await program({
      warn: (message) => {
        warnings.push(message);
      },
    });
    return {};
  });
  await Promise.all(declared.map(({ resource }) => registration(resource)));
  if (outputs === undefined) throw new Error("the program returned no outputs");

  const nameOf = new Map(declared.map(({ resource, name }) => [resource, name]));
  const stackResource = pulumi.runtime.getStackResource();
  const resources = new Map<string, RecordedResource>();
  for (const { type, name, opts } of declared) {
    const parent = opts.parent;
    resources.set(name, {
      type,
      name,
      inputs: inputsByName.get(name)?.inputs ?? {},
      parent:
        parent === undefined || parent === stackResource ? `${mockProject}-${mockStack}` : nameOf.get(parent),
      options: opts,
      dependsOn: dependencyNames(opts.dependsOn, nameOf),
      provider: inputsByName.get(name)?.provider,
    });
  }
  return { resources, outputs, warnings };
}

/** A container's upload, as the Docker provider takes it. */
export interface Upload {
  file: string;
  content: unknown;
  permissions?: string;
  owner?: string;
}

export function byType(run: StackRun, type: string): RecordedResource[] {
  return [...run.resources.values()].filter((resource) => resource.type === type);
}

export function resource(run: StackRun, name: string): RecordedResource {
  const found = run.resources.get(name);
  if (!found) throw new Error(`no resource named ${name}; have ${[...run.resources.keys()].join(", ")}`);
  return found;
}

/**
 * A container's uploads, secrets revealed: the mocks mark the whole list secret when one file in it is (Pulumi
 * lifts secretness out of lists and maps when it deserializes inputs).
 */
export function uploadsOf(container: RecordedResource): Upload[] {
  return (revealSecrets(container.inputs.uploads) as Upload[] | undefined) ?? [];
}

/** Upload contents by container path, secrets revealed. */
export function uploadedFiles(container: RecordedResource): Record<string, string> {
  return Object.fromEntries(uploadsOf(container).map((upload) => [upload.file, String(upload.content)]));
}
