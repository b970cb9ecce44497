/**
 * Grafana with the provisioned datasources and dashboards. Its database (users, preferences) lives on a
 * volume; the admin password is applied on every start, so changing it in the settings and running
 * `pulumi up` takes effect on an existing volume instead of locking the user out.
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { grafanaDashboardsDir } from "../configs/grafana/provider";
import { type RenderedFiles, renderedPaths } from "../configs/layout";
import { grafanaImage } from "../configs/versions";
import {
  dockerName,
  fileUpload,
  healthcheck,
  secretUpload,
  serviceContainerArgs,
  serviceContainerOptions,
  volumeOptions,
} from "./containers";
import { renderedFilesIn } from "./rendered";

/** The image's provisioning directory (GF_PATHS_PROVISIONING). */
const grafanaProvisioningDir = "/etc/grafana/provisioning";
/** The image's data directory (GF_PATHS_DATA): the SQLite database and plugins. */
const grafanaDataDir = "/var/lib/grafana";
/** The admin password, readable only by Grafana's user. */
export const grafanaAdminPasswordFile = "/etc/grafana/secrets/admin_password";
/** The user the official image runs as (uid 472, group root). */
const grafanaUid = 472;

/**
 * The image's entrypoint, preceded by a password reset. GF_SECURITY_ADMIN_PASSWORD only seeds a new database,
 * so on an existing one the current password is written with Grafana's own CLI (user 1 is the admin that the
 * first start created). The CLI gets the same paths the image's /run.sh gives the server, or it would open a
 * different database. A new database gets the password from GF_SECURITY_ADMIN_PASSWORD__FILE instead, which
 * /run.sh reads.
 */
const resetAdminPasswordThenStart = [
  "set -eu",
  'if [ -f "$GF_PATHS_DATA/grafana.db" ]; then',
  '  grafana cli --homepath "$GF_PATHS_HOME" --config "$GF_PATHS_CONFIG" \\',
  '    --configOverrides "cfg:default.paths.data=$GF_PATHS_DATA cfg:default.paths.logs=$GF_PATHS_LOGS cfg:default.paths.plugins=$GF_PATHS_PLUGINS cfg:default.log.mode=console" \\',
  '    admin reset-admin-password --password-from-stdin < "$GF_SECURITY_ADMIN_PASSWORD__FILE"',
  "fi",
  'exec /run.sh "$@"',
].join("\n");

/**
 * Where each rendered Grafana file goes in the container: provisioning files keep their place under the
 * provisioning directory, dashboards go to the directory the dashboard provider reads.
 */
function grafanaFileUploads(files: RenderedFiles): { file: string; content: string }[] {
  const provisioningRoot = path.posix.dirname(path.posix.dirname(renderedPaths.grafanaDatasources));
  const provisioning = Object.entries(files)
    .filter(([relativePath]) => relativePath.startsWith(`${provisioningRoot}/`))
    .map(([relativePath, content]) => ({
      file: path.posix.join(grafanaProvisioningDir, path.posix.relative(provisioningRoot, relativePath)),
      content,
    }));
  const dashboardsDir = path.posix.dirname(renderedPaths.grafanaDashboard("any"));
  const dashboards = Object.entries(renderedFilesIn(files, dashboardsDir)).map(([fileName, content]) => ({
    file: path.posix.join(grafanaDashboardsDir, fileName),
    content,
  }));
  return [...provisioning, ...dashboards];
}

export interface GrafanaServiceArgs {
  /** Name of the stack's private network. */
  readonly network: pulumi.Input<string>;
  /** Grafana's alias on the network. */
  readonly alias: string;
  /** The port Grafana listens on inside its container. */
  readonly port: number;
  /** URL a person opens (GF_SERVER_ROOT_URL): links Grafana builds point there. */
  readonly rootUrl: string;
  /** Host port Grafana is published on. */
  readonly hostPort: number;
  /** Host address every published port binds to. */
  readonly bindAddress: string;
  /** Every rendered file: Grafana takes its provisioning files and dashboards. */
  readonly files: RenderedFiles;
  /** Login of the admin user, created with the database. */
  readonly adminUser: string;
  /** The admin password (`grafana.adminPassword`); unset means a generated one. */
  readonly adminPassword?: pulumi.Input<string>;
  /** Keep the data volume when the stack is destroyed. */
  readonly keepData: boolean;
  /** Prefix of the Docker object names. */
  readonly dockerPrefix: string;
  /** Memory limit in MB; 512 by default. */
  readonly memoryMb?: number;
}

export class GrafanaService extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  readonly volume: docker.Volume;
  readonly container: docker.Container;
  /** The admin password, as a secret. */
  readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: GrafanaServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchtower:index:GrafanaService", name, {}, opts);

    const password =
      args.adminPassword ??
      new random.RandomPassword(
        `${name}-admin-password`,
        // Letters and digits only: the password is typed into a login form and pasted into shells.
        { length: 24, special: false },
        { parent: this },
      ).result;
    this.adminPassword = pulumi.secret(password);

    this.image = new docker.RemoteImage(
      `${name}-image`,
      { name: grafanaImage, keepLocally: true },
      { parent: this },
    );
    this.volume = new docker.Volume(
      `${name}-data`,
      { name: dockerName(args.dockerPrefix, `${args.alias}-data`) },
      volumeOptions(this, args.keepData),
    );

    this.container = new docker.Container(
      `${name}-container`,
      serviceContainerArgs({
        name: dockerName(args.dockerPrefix, args.alias),
        image: this.image.imageId,
        network: args.network,
        alias: args.alias,
        user: `${grafanaUid}:0`,
        memoryMb: args.memoryMb ?? 512,
        published: [{ internal: args.port, external: args.hostPort }],
        bindAddress: args.bindAddress,
        entrypoints: ["/bin/sh", "-c", resetAdminPasswordThenStart, "grafana-entrypoint"],
        envs: [
          `GF_SERVER_HTTP_PORT=${args.port}`,
          `GF_SERVER_ROOT_URL=${args.rootUrl}`,
          `GF_SECURITY_ADMIN_USER=${args.adminUser}`,
          `GF_SECURITY_ADMIN_PASSWORD__FILE=${grafanaAdminPasswordFile}`,
          "GF_USERS_ALLOW_SIGN_UP=false",
        ],
        uploads: [
          ...grafanaFileUploads(args.files).map(({ file, content }) => fileUpload(file, content)),
          secretUpload(grafanaAdminPasswordFile, this.adminPassword, grafanaUid),
        ],
        volumes: [{ volumeName: this.volume.name, containerPath: grafanaDataDir }],
        // The official image ships curl for exactly this.
        healthcheck: healthcheck(
          ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${args.port}/api/health`],
          "60s",
        ),
        // The first start creates and migrates the database.
        healthyWithinSeconds: 180,
      }),
      serviceContainerOptions(this),
    );

    this.registerOutputs({ container: this.container.name, adminPassword: this.adminPassword });
  }
}
