/** Grafana's dashboard provisioning file: where the generated dashboards are and how Grafana treats them. */
import { generatedYaml } from "../yaml";
import { grafanaOrgId } from "./datasources";

/** Directory inside the Grafana container that the Pulumi program uploads the dashboard JSON files into. */
export const grafanaDashboardsDir = "/etc/grafana/dashboards";

/** Folder the dashboards appear in. */
const dashboardFolder = { title: "Watchtower", uid: "watchtower" } as const;

/**
 * How often Grafana rescans the directory. A `pulumi up` that changes a dashboard replaces the Grafana container
 * (the files are uploaded at creation), so the rescan only picks up files changed inside a running container,
 * such as with `docker cp`.
 */
const rescanSeconds = 10;

/** The dashboard provider file (YAML, apiVersion 1). */
export function renderDashboardProvider(): string {
  return generatedYaml({
    apiVersion: 1,
    providers: [
      {
        name: dashboardFolder.uid,
        orgId: grafanaOrgId,
        folder: dashboardFolder.title,
        folderUid: dashboardFolder.uid,
        type: "file",
        // A dashboard removed from the code is removed from Grafana.
        disableDeletion: false,
        // The code is the source of truth: edits in the UI cannot be saved over it.
        allowUiUpdates: false,
        updateIntervalSeconds: rescanSeconds,
        options: { path: grafanaDashboardsDir, foldersFromFilesStructure: false },
      },
    ],
  });
}
