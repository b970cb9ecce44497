/**
 * The Pulumi program (package.json's `main`). Pulumi calls the exported function and prints each property of
 * its result as a stack output, read with `pulumi stack output <name>`. A function, so that Docker is checked
 * (asynchronously) before the first resource.
 */
import { runProgram } from "./stack";

export = async () => {
  const outputs = await runProgram();
  return {
    appUrl: outputs.appUrl,
    prometheusUrls: outputs.prometheusUrls,
    alertmanagerUrls: outputs.alertmanagerUrls,
    grafanaUrl: outputs.grafanaUrl,
    mailpitUrl: outputs.mailpitUrl,
    grafanaAdminUser: outputs.grafanaAdminUser,
    grafanaAdminPassword: outputs.grafanaAdminPassword,
    loadtestRerun: outputs.loadtestRerun,
    deliveryCheck: outputs.deliveryCheck,
  };
};
