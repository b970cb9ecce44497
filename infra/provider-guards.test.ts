import { expect } from "chai";
import { type FakeDocker, fakeDocker } from "../test-support/fake-docker";
import { providerGuards } from "../test-support/provider-guards";
import {
  type RecordedResource,
  runStack,
  type StackConfig,
  type StackRun,
} from "../test-support/pulumi-mocks";
import { runProgram } from "./stack";

/** The variants a real `pulumi up` must survive: the guards run over each. */
const variants: Readonly<Record<string, StackConfig>> = {
  "the default settings": {},
  "a real SMTP server": {
    email: {
      smarthost: "smtp.example.com:587",
      authUsername: "alerts@example.com",
      authPassword: "smtp-secret-1234",
    },
  },
  "one Prometheus replica": { prometheus: { replicas: 1 } },
  "three Prometheus replicas": { prometheus: { replicas: 3 } },
  "the load test off": { loadtest: { enabled: false } },
};

/** The run's resources with one container's inputs changed, for showing that a guard can fail. */
function withChange(
  run: StackRun,
  name: string,
  change: (inputs: Record<string, unknown>) => Record<string, unknown>,
  dependsOn?: string[],
): RecordedResource[] {
  return [...run.resources.values()].map((resource) =>
    resource.name === name
      ? {
          ...resource,
          inputs: change(structuredClone(resource.inputs)),
          dependsOn: dependsOn ?? resource.dependsOn,
        }
      : resource,
  );
}

describe("rules of the real Docker provider and engine, on what the program declares", function () {
  this.timeout(60_000);
  // The program as Pulumi runs it, preflight included, against a stand-in engine on linux/arm64.
  let engine: FakeDocker;
  let savedHost: string | undefined;
  before(async () => {
    engine = await fakeDocker("1.41", { arch: "arm64" });
    savedHost = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = engine.host;
  });
  after(async () => {
    if (savedHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedHost;
    await engine.close();
  });

  for (const [variant, config] of Object.entries(variants)) {
    it(`holds with ${variant}`, async () => {
      const run = await runStack(config, [], [], runProgram);
      const resources = [...run.resources.values()];
      for (const [guard, check] of Object.entries(providerGuards)) {
        expect(check(resources), guard).to.deep.equal([]);
      }
    });
  }

  describe("each guard names the resource and the field it rejects", () => {
    let run: StackRun;
    before(async () => {
      run = await runStack({});
    });

    it("an empty string in a command", () => {
      const command = run.resources.get("monitoring-loadtest-container")?.inputs.command as string[];
      const changed = withChange(run, "monitoring-loadtest-container", (inputs) => ({
        ...inputs,
        command: [...command, "--address", ""],
      }));
      expect(providerGuards.emptyStrings(changed)).to.deep.equal([
        `monitoring-loadtest-container: command[${command.length + 1}] is an empty string`,
      ]);
    });

    it("a healthcheck duration not in Go's form, and a start interval", () => {
      const changed = withChange(run, "monitoring-grafana-container", (inputs) => ({
        ...inputs,
        healthcheck: { ...(inputs.healthcheck as object), startPeriod: "60s", startInterval: "1s" },
      }));
      expect(providerGuards.healthcheckDurations(changed)).to.deep.equal([
        "monitoring-grafana-container: healthcheck.startInterval needs Docker API 1.44; Engine 20.10 refuses it",
        'monitoring-grafana-container: healthcheck.startPeriod "60s" is read back in Go\'s form, so it drifts',
      ]);
    });

    it("a memory limit without the swap limit Docker would fill in", () => {
      const changed = withChange(run, "monitoring-app-container", (inputs) => {
        const { memorySwap: _, ...rest } = inputs;
        return rest;
      });
      expect(providerGuards.dockerFilledFields(changed)).to.have.length(1);
      expect(providerGuards.dockerFilledFields(changed)[0]).to.match(
        /^monitoring-app-container: memorySwap is unset/,
      );
    });

    it("an upload that names an owner", () => {
      const changed = withChange(run, "monitoring-alertmanager-container", (inputs) => ({
        ...inputs,
        uploads: [{ file: "/etc/alertmanager/secrets/smtp_password", content: "x", owner: "65534" }],
      }));
      expect(providerGuards.uploadOwners(changed)).to.deep.equal([
        "monitoring-alertmanager-container: upload /etc/alertmanager/secrets/smtp_password names owner",
      ]);
    });

    it("two Prometheus replicas that can be replaced at once", () => {
      const replica1 = run.resources.get("monitoring-prometheus-1");
      const changed = withChange(
        run,
        "monitoring-prometheus-1",
        (inputs) => inputs,
        replica1?.dependsOn.filter((name) => name !== "monitoring-prometheus-0"),
      );
      expect(providerGuards.unorderedPrometheusReplicas(changed)).to.deep.equal([
        "monitoring-prometheus-0 and monitoring-prometheus-1: neither depends on the other, so both can be replaced at once",
      ]);
    });

    it("a read-only root on a container that is handed files", () => {
      const changed = withChange(run, "monitoring-alertmanager-container", (inputs) => ({
        ...inputs,
        readOnly: true,
      }));
      expect(providerGuards.readOnlyUploads(changed)).to.deep.equal([
        "monitoring-alertmanager-container: readOnly with uploads; the engine refuses them (container rootfs is read-only)",
      ]);
    });

    it("an image built without a platform", () => {
      // `runStack` alone runs no preflight, so nothing tells the program the engine's platform.
      expect(providerGuards.buildPlatforms(run.resources.values())).to.deep.equal([
        "monitoring-app-image: build.platform is unset, so the provider warns on every run",
      ]);
    });

    it("Grafana or Mailpit phoning home", () => {
      const changed = withChange(run, "monitoring-inbox-container", (inputs) => ({
        ...inputs,
        envs: (inputs.envs as string[]).filter((env) => !env.startsWith("MP_DISABLE_VERSION_CHECK=")),
      }));
      expect(providerGuards.phoneHome(changed)).to.deep.equal([
        "monitoring-inbox-container: envs lacks MP_DISABLE_VERSION_CHECK=true",
      ]);
    });
  });
});
