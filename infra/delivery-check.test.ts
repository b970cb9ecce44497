import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { renderAlertmanagerConfig } from "../configs/alertmanager/config";
import { publishedUrl } from "../configs/runtime/docker-endpoints";
import type { SettingsInput } from "../configs/settings/schema";
import { loadSettings } from "../configs/validate";
import { makeTempDir } from "../test-support/cleanup";
import { freePort } from "../test-support/ports";
import { dockerTestEndpoints } from "../test-support/promtool";
import { defaultTimeoutMs } from "./delivery/check";
import {
  DeliveryCheck,
  type DeliveryCheckInputs,
  deliveryCheckDigest,
  deliveryCheckProvider,
} from "./delivery-check";

const run = promisify(execFile);

const checkType = "pulumi-nodejs:dynamic/watchtower:DeliveryCheck";

interface Recorded {
  readonly resource: pulumi.Resource;
  readonly type: string;
  readonly inputs: Record<string, unknown>;
  readonly opts: pulumi.ResourceOptions;
  readonly parent: pulumi.Resource | undefined;
}

interface Constructed {
  readonly resources: ReadonlyMap<string, Recorded>;
  readonly dependencies: readonly pulumi.Resource[];
}

/** Stands in for a docker.Container: the check only waits for it and reads its name. */
class FakeContainer extends pulumi.CustomResource {
  declare readonly name: pulumi.Output<string>;

  constructor(name: string) {
    super("docker:index/container:Container", name, { name: `watchtower-dev-${name}` });
  }
}

/** The check's args as the stack derives them from settings. */
function argsFor(input: SettingsInput) {
  const { settings } = loadSettings(input);
  const alertmanagerConfig = renderAlertmanagerConfig(settings, dockerTestEndpoints(settings));
  return {
    alertmanagerUrl: publishedUrl(settings, settings.ports.alertmanager),
    inboxUrl:
      settings.email.smarthost === undefined ? publishedUrl(settings, settings.ports.mailpit) : undefined,
    alertmanagerConfig,
    email: settings.email,
  };
}

/** Constructs a DeliveryCheck under Pulumi's mocks, beside two fake containers it is told to wait for. */
async function construct(input: SettingsInput, timeoutMs?: number): Promise<Constructed> {
  const inputsByName = new Map<string, { type: string; inputs: Record<string, unknown> }>();
  const declared: { resource: pulumi.Resource; name: string; opts: pulumi.ResourceOptions }[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        inputsByName.set(name, { type, inputs });
        return { id: `${name}-id`, state: inputs };
      },
      call: () => ({}),
    },
    "watchtower",
    "dev",
    false,
  );
  let dependencies: pulumi.Resource[] = [];
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(({ resource, name, opts }) => {
      declared.push({ resource, name, opts });
      return undefined;
    });
    const container = (name: string) => new FakeContainer(name);
    const alertmanager = container("alertmanager");
    dependencies = [alertmanager, container("mailpit")];
    new DeliveryCheck("monitoring-delivery", {
      ...argsFor(input),
      alertmanagerContainer: alertmanager.name,
      timeoutMs,
      waitFor: dependencies,
    });
    return {};
  });
  await Promise.all(declared.map(({ resource }) => new Promise((resolve) => resource.urn.apply(resolve))));
  const resources = new Map<string, Recorded>();
  for (const { resource, name, opts } of declared) {
    const recorded = inputsByName.get(name);
    resources.set(name, {
      resource,
      type: recorded?.type ?? "(not registered)",
      inputs: recorded?.inputs ?? {},
      opts,
      parent: opts.parent,
    });
  }
  return { resources, dependencies };
}

function checkOf(constructed: Constructed): Recorded {
  const found = [...constructed.resources.values()].find((resource) => resource.type === checkType);
  if (!found) throw new Error(`no ${checkType} among ${[...constructed.resources.keys()].join(", ")}`);
  return found;
}

function isSecret(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/** The check's inputs without the serialized provider, which is the same code whatever the settings. */
function checkedInputs(constructed: Constructed): Record<string, unknown> {
  const { __provider: _, ...inputs } = checkOf(constructed).inputs;
  return inputs;
}

describe("DeliveryCheck (under Pulumi's mocks)", function () {
  // Serializing the provider's closure takes a few seconds the first time; it is cached afterwards.
  this.timeout(60_000);

  it("runs the check against Alertmanager and Mailpit's published URLs, with a digest of what decides delivery", async () => {
    const constructed = await construct({});
    const expected = argsFor({});
    expect(checkedInputs(constructed)).to.deep.equal({
      alertmanagerUrl: "http://127.0.0.1:9093",
      inboxUrl: "http://127.0.0.1:8025",
      timeoutMs: defaultTimeoutMs,
      configDigest: deliveryCheckDigest(expected.alertmanagerConfig, expected.email),
      alertmanagerContainer: "watchtower-dev-alertmanager",
    });
    expect(checkOf(constructed).inputs.__provider).to.be.a("string").and.include("exports.handler");
  });

  it("waits for what it is given, as a child of its component", async () => {
    const constructed = await construct({});
    const check = checkOf(constructed);
    expect(check.opts.dependsOn).to.have.members([...constructed.dependencies]);
    const component = constructed.resources.get("monitoring-delivery");
    expect(component?.type).to.equal("watchtower:index:DeliveryCheck");
    expect(check.parent === component?.resource, "the component is the check's parent").to.equal(true);
  });

  it("has no inbox to look in when e-mail goes to a real smarthost, and keeps its digest secret beside a password", async () => {
    const constructed = await construct(
      { email: { smarthost: "smtp.example.com:587", authUsername: "alerts", authPassword: "pw-0123456789" } },
      45_000,
    );
    const inputs = checkedInputs(constructed);
    expect(inputs).to.not.have.property("inboxUrl");
    expect(inputs.timeoutMs).to.equal(45_000);
    expect(isSecret(inputs.configDigest), "configDigest is a secret").to.equal(true);
  });

  it("keeps its inputs when settings unrelated to delivery change, so that it does not run again", async () => {
    const before = checkedInputs(await construct({}));
    const after = checkedInputs(
      await construct({
        alerts: { highRequestVolume: { maxRequests: 300 }, instanceDown: { for: "1m" } },
        prometheus: { retention: "30d" },
        grafana: { adminUser: "ops" },
        loadtest: { enabled: false },
        data: { keepOnDestroy: true },
      }),
    );
    expect(after).to.deep.equal(before);
  });

  it("changes its digest with Alertmanager's configuration and with every e-mail setting", () => {
    const digest = (input: SettingsInput) => {
      const { alertmanagerConfig, email } = argsFor(input);
      return deliveryCheckDigest(alertmanagerConfig, email);
    };
    const defaults = digest({});
    const smtp = { smarthost: "smtp.example.com:587", authUsername: "alerts", authPassword: "pw-0123456789" };
    const changed = [
      digest({ email: { to: "someone@example.org" } }),
      digest({ alertmanager: { groupWait: "30s" } }),
      digest({ email: smtp }),
      digest({ email: { ...smtp, authPassword: "pw-9876543210" } }),
    ];
    expect(new Set([defaults, ...changed]).size).to.equal(changed.length + 1);
  });
});

describe("the delivery check's dynamic provider", function () {
  this.timeout(60_000);
  const inputs: DeliveryCheckInputs = {
    alertmanagerUrl: "http://127.0.0.1:9093",
    inboxUrl: "http://127.0.0.1:8025",
    timeoutMs: 30_000,
    configDigest: "sha256:1",
  };

  it("reports a change, and so runs the check, only when one of its inputs changed", async () => {
    const diff = deliveryCheckProvider.diff;
    if (!diff) throw new Error("the provider has no diff");
    const olds = { ...inputs, checkId: "c", result: "delivered" };
    expect((await diff("c", olds, inputs)).changes).to.equal(false);
    expect((await diff("c", olds, { ...inputs, configDigest: "sha256:2" })).changes).to.equal(true);
    const { inboxUrl: _, ...withoutInbox } = inputs;
    expect((await diff("c", olds, withoutInbox)).changes).to.equal(true);
  });

  it("serializes the way Pulumi does, and runs from that text alone in a fresh Node.js process", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => deliveryCheckProvider, {
      allowSecrets: true,
    });
    const dir = makeTempDir("delivery-provider-");
    try {
      const providerFile = join(dir.path, "provider.js");
      writeFileSync(providerFile, serialized.text);
      const alertmanagerUrl = `http://127.0.0.1:${await freePort()}`;
      // What Pulumi's dynamic provider host does with the text (cmd/dynamic-provider), in plain Node: no tsx.
      const script = `
        const provider = require(${JSON.stringify(require.resolve("require-from-string"))})(
          require("node:fs").readFileSync(${JSON.stringify(providerFile)}, "utf8")).handler();
        provider.create(${JSON.stringify({ ...inputs, alertmanagerUrl })}).then(
          () => console.log("created"), (error) => console.log("failed: " + error.message));`;
      const { stdout } = await run(process.execPath, ["-e", script], { cwd: dir.path, timeout: 30_000 });
      expect(stdout.trim()).to.match(
        new RegExp(
          `^failed: delivery check failed .*cannot reach Alertmanager at ${alertmanagerUrl}: .*ECONNREFUSED`,
        ),
      );
    } finally {
      dir.remove();
    }
  });
});
