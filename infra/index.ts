/**
 * The Pulumi program (package.json's `main`): the monitoring stack on the local Docker host. Each export is a
 * stack output, printed after `pulumi up` and read with `pulumi stack output <name>`.
 */
import { createStack } from "./stack";

const outputs = createStack();

export const appUrl = outputs.appUrl;
export const prometheusUrls = outputs.prometheusUrls;
export const alertmanagerUrl = outputs.alertmanagerUrl;
export const grafanaUrl = outputs.grafanaUrl;
export const mailpitUrl = outputs.mailpitUrl;
export const grafanaAdminUser = outputs.grafanaAdminUser;
export const grafanaAdminPassword = outputs.grafanaAdminPassword;
export const loadtestRerun = outputs.loadtestRerun;
