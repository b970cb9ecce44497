/**
 * Grafana with the provisioned datasources and dashboards. Its database (users, preferences) lives on a
 * volume; the admin password is applied on every start (the plan's entrypoint), so changing it in the settings
 * and running `pulumi up` takes effect on an existing volume instead of locking the user out.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ServicePlan } from "../configs/deployment/plan";
import { declarePinnedService, type StackContext } from "./service";

export class GrafanaService extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly volume: docker.Volume;
  readonly container: docker.Container;
  /** The admin password, as a secret. */
  readonly adminPassword: pulumi.Output<string>;

  /** `adminPassword` is the one in the settings; unset means one generated once and kept in the state. */
  constructor(
    name: string,
    service: ServicePlan,
    adminPassword: string | undefined,
    context: StackContext,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("watchtower:index:GrafanaService", name, {}, opts);
    this.adminPassword = pulumi.secret(
      adminPassword ??
        new random.RandomPassword(
          `${name}-admin-password`,
          // Letters and digits only: the password is typed into a login form and pasted into shells.
          { length: 24, special: false },
          { parent: this },
        ).result,
    );
    const declared = declarePinnedService(this, name, service, {
      ...context,
      secrets: { ...context.secrets, grafanaAdminPassword: this.adminPassword },
    });
    this.image = declared.image;
    this.container = declared.container;
    const { volume } = declared;
    if (volume === undefined) throw new Error(`${service.key} has no data volume in the plan`);
    this.volume = volume;

    this.registerOutputs({ container: this.container.name, adminPassword: this.adminPassword });
  }
}
