/**
 * Compose v2 itself judges the rendered compose.yaml: `docker compose config` parses and validates it, for the
 * settings variants the Pulumi program's guards run over too.
 */
import { expect } from "chai";
import { parse } from "yaml";
import type { SettingsInput } from "../../configs/settings/schema";
import { type DockerTools, requireDocker } from "../../test-support/docker";
import { ComposeStack } from "./compose-stack";

const variants: Readonly<Record<string, SettingsInput>> = {
  "the default settings": {},
  "a real SMTP server": {
    email: {
      smarthost: "smtp.example.com:587",
      authUsername: "alerts@example.com",
      authPassword: "not-rendered",
    },
  },
  "one Prometheus replica": { prometheus: { replicas: 1 } },
  "the load test off": { loadtest: { enabled: false } },
  "the host's node exporter off": { host: { enabled: false } },
  "probes, and so the blackbox exporter": {
    probes: [
      { name: "site", http: { url: "https://example.com/" } },
      { name: "db", tcp: { address: "db.internal:5432" } },
    ],
  },
};

describe("docker compose config accepts the rendered compose.yaml", function () {
  this.timeout(120_000);
  let tools: DockerTools;
  before(function () {
    tools = requireDocker(this);
  });

  for (const [variant, settings] of Object.entries(variants)) {
    it(`with ${variant}`, () => {
      const stack = new ComposeStack(tools);
      try {
        stack.render(settings);
        const checked = stack.compose(["config", "--format", "json"], {
          WATCHTOWER_SMTP_PASSWORD: "from-the-environment",
        });
        expect(checked.status, checked.stderr).to.equal(0);
        const config = parse(checked.stdout) as { services: Record<string, { image: string }> };
        for (const [name, service] of Object.entries(config.services)) {
          expect(service.image, name)
            .to.be.a("string")
            .and.not.match(/:latest$/);
        }
      } finally {
        stack.dispose();
      }
    });
  }
});
