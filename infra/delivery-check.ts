/**
 * Every `pulumi up` that creates or changes Alertmanager's configuration or the e-mail settings proves that an
 * alert reaches a person: a dynamic resource runs the delivery check (infra/delivery/check.ts) once the
 * Alertmanager and inbox containers are up, and fails the update, with the reason, unless the e-mail arrives.
 *
 * The check runs on create and when its inputs change, never otherwise: its inputs are the URLs, the timeout and
 * a digest of what decides delivery (alertmanager.yml, the e-mail settings, the Alertmanager image), so a changed
 * threshold or dashboard leaves it alone.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { alertmanager, imageRef } from "../configs/runtime/versions";
import type { Settings } from "../configs/settings/schema";
import { defaultTimeoutMs, exitCodeOf, runDeliveryCheck } from "./delivery/check";
import { mailpitInbox } from "./delivery/inbox";
import { containerLog } from "./delivery/logs";

/** The inputs the provider receives, as plain values. */
export interface DeliveryCheckInputs {
  readonly alertmanagerUrl: string;
  /** Absent when e-mail goes to a real smarthost: the check then trusts Alertmanager's count of accepted e-mail. */
  readonly inboxUrl?: string;
  readonly timeoutMs: number;
  /** Changes exactly when the outcome of a check could: a new value runs the check again. */
  readonly configDigest: string;
  /** Whose log names the SMTP error of a failed check. */
  readonly alertmanagerContainer?: string;
}

export interface DeliveryCheckOutputs extends DeliveryCheckInputs {
  /** The `check_id` label of the last check's alert. */
  readonly checkId: string;
  /** What the last check found, such as "delivered to oncall@example.com in 0.4 s", and when. */
  readonly result: string;
}

/** Inputs whose change runs the check again; every input is one. */
const checkedInputs = [
  "alertmanagerUrl",
  "inboxUrl",
  "timeoutMs",
  "configDigest",
  "alertmanagerContainer",
] as const satisfies readonly (keyof DeliveryCheckInputs)[];

/**
 * The dynamic provider. Pulumi serializes it, and everything it calls, into the state and runs it in its own
 * provider process; `delete` is left out because a check leaves nothing behind (it resolves its own alert).
 */
export const deliveryCheckProvider: pulumi.dynamic.ResourceProvider<
  DeliveryCheckInputs,
  DeliveryCheckOutputs
> = {
  async create(inputs) {
    const outs = await checkDelivery(inputs);
    return { id: outs.checkId, outs };
  },
  async diff(_id, olds, news) {
    const changed = checkedInputs.filter((key) => olds[key] !== news[key]);
    return { changes: changed.length > 0 };
  },
  async update(_id, _olds, news) {
    return { outs: await checkDelivery(news) };
  },
};

/** Runs one check; a failed one throws its reason, which Pulumi prints as the resource's error. */
async function checkDelivery(inputs: DeliveryCheckInputs): Promise<DeliveryCheckOutputs> {
  const report = await runDeliveryCheck({
    alertmanagerUrl: inputs.alertmanagerUrl,
    inbox: inputs.inboxUrl === undefined ? undefined : mailpitInbox(inputs.inboxUrl),
    log: inputs.alertmanagerContainer === undefined ? undefined : containerLog(inputs.alertmanagerContainer),
    timeoutMs: inputs.timeoutMs,
  });
  if (exitCodeOf(report) !== 0) {
    throw new Error(`delivery check failed (set delivery.checkOnUp to false to skip it): ${report.message}`);
  }
  return { ...inputs, checkId: report.checkId, result: `${new Date().toISOString()}: ${report.message}` };
}

type ResourceInputs = { readonly [K in keyof DeliveryCheckInputs]: pulumi.Input<DeliveryCheckInputs[K]> };

class DeliveryCheckResource extends pulumi.dynamic.Resource {
  declare readonly checkId: pulumi.Output<string>;
  declare readonly result: pulumi.Output<string>;

  constructor(name: string, inputs: ResourceInputs, opts: pulumi.CustomResourceOptions) {
    // Outputs are declared as undefined inputs, so that the engine fills them in from the provider's outs.
    super(
      deliveryCheckProvider,
      name,
      { ...inputs, checkId: undefined, result: undefined },
      opts,
      "watchtower",
      "DeliveryCheck",
    );
  }
}

export interface DeliveryCheckArgs {
  /** Alertmanager's URL as this machine reaches it: its published port. */
  readonly alertmanagerUrl: string;
  /** Mailpit's published web URL; unset when `email.smarthost` names a real SMTP server. */
  readonly inboxUrl?: string;
  /** The rendered alertmanager.yml, which the check's digest covers. */
  readonly alertmanagerConfig: string;
  /** The e-mail settings, the SMTP password included: a new password runs the check again. */
  readonly email: Settings["email"];
  /** The Alertmanager container's name, for its log. */
  readonly alertmanagerContainer?: pulumi.Input<string>;
  /** How long the check waits for its e-mail; `defaultTimeoutMs` (30 s) by default. */
  readonly timeoutMs?: number;
  /** What must be up before the check runs: the Alertmanager and inbox containers. */
  readonly waitFor: readonly pulumi.Resource[];
}

export class DeliveryCheck extends pulumi.ComponentResource {
  /** What the last check found and when; export it to see it after `pulumi up`. */
  readonly result: pulumi.Output<string>;

  constructor(name: string, args: DeliveryCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:DeliveryCheck", name, {}, opts);
    const digest = deliveryCheckDigest(args.alertmanagerConfig, args.email);
    const check = new DeliveryCheckResource(
      `${name}-check`,
      {
        alertmanagerUrl: args.alertmanagerUrl,
        inboxUrl: args.inboxUrl,
        timeoutMs: args.timeoutMs ?? defaultTimeoutMs,
        // A digest over the SMTP password is as secret as the password.
        configDigest: args.email.authPassword === undefined ? digest : pulumi.secret(digest),
        alertmanagerContainer: args.alertmanagerContainer,
      },
      { parent: this, dependsOn: [...args.waitFor] },
    );
    this.result = check.result;
    this.registerOutputs({ result: this.result });
  }
}

/** What decides whether a check e-mail is delivered: Alertmanager's config and version, and the e-mail settings. */
export function deliveryCheckDigest(alertmanagerConfig: string, email: Settings["email"]): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ alertmanagerConfig, image: imageRef(alertmanager), email }));
  return `sha256:${hash.digest("hex")}`;
}
