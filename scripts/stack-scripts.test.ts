import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { type FakeDocker, fakeDocker } from "../test-support/fake-docker";

const execFileAsync = promisify(execFile);
const repositoryRoot = path.resolve(__dirname, "..");
const bash = "/bin/bash";

interface PulumiCall {
  cwd: string;
  passphrase: string;
  args: string;
  /** PULUMI_NODEJS_TRANSPILE_ONLY as the call saw it. */
  transpileOnly: string;
}

/**
 * A stand-in `pulumi` on PATH that records how it was called: working directory, passphrase (`file:<content>`
 * when it comes from PULUMI_CONFIG_PASSPHRASE_FILE) and arguments.
 * `failOn` makes it exit 1 when its arguments start with that text.
 */
function fakePulumi(dir: string, log: string, failOn?: string): void {
  const script = [
    "#!/bin/bash",
    `if [[ -n "\${PULUMI_CONFIG_PASSPHRASE+set}" ]]; then passphrase="$PULUMI_CONFIG_PASSPHRASE"`,
    `elif [[ -n "\${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then passphrase="file:$(cat "$PULUMI_CONFIG_PASSPHRASE_FILE")"`,
    'else passphrase="<unset>"; fi',
    `printf '%s\\t%s\\t%s\\t%s\\n' "$PWD" "$passphrase" "$*" "\${PULUMI_NODEJS_TRANSPILE_ONLY:-}" >> ${JSON.stringify(log)}`,
    failOn === undefined ? "" : `[[ "$*" == ${JSON.stringify(failOn)}* ]] && exit 1`,
    "exit 0",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "pulumi"), script, { mode: 0o755 });
}

function calls(log: string): PulumiCall[] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [cwd = "", passphrase = "", args = "", transpileOnly = ""] = line.split("\t");
      return { cwd, passphrase, args, transpileOnly };
    });
}

/** A stand-in for the Docker API, answering as Engine 20.10 does: `up` checks it before `pulumi up`. */
let docker: FakeDocker;

/** The environment of a fresh machine with Docker running: none of the variables the scripts read. */
function cleanEnv(binDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(PULUMI_|WATCHTOWER_|DOCKER_)/.test(key)),
  ) as NodeJS.ProcessEnv;
  return { ...env, PATH: `${binDir}:/usr/bin:/bin`, DOCKER_HOST: docker.host, ...extra };
}

describe("npm run up / npm run destroy", function () {
  this.timeout(40_000);
  let work: string;
  let binDir: string;
  let log: string;

  before(async () => {
    docker = await fakeDocker("1.41");
  });

  after(async () => {
    await docker.close();
  });

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "stack-scripts-"));
    binDir = path.join(work, "bin");
    fs.mkdirSync(binDir);
    log = path.join(work, "pulumi.log");
  });

  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function script(name: "up" | "destroy" | "pulumi", args: string[], env: NodeJS.ProcessEnv) {
    return execFileAsync(bash, [path.join(repositoryRoot, "scripts", `${name}.sh`), ...args], {
      // Anywhere but the project root: the scripts must find it themselves.
      cwd: work,
      env,
      timeout: 30_000,
    });
  }

  it("up creates or selects the dev stack with passphrase secrets, then runs pulumi up without a prompt", async () => {
    fakePulumi(binDir, log);
    const passphraseFile = path.join(work, "checkout", ".pulumi", "passphrase");
    await script("up", ["--diff"], cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: passphraseFile }));
    const recorded = calls(log);
    expect(recorded.map(({ args }) => args)).to.deep.equal([
      "stack select dev --create --secrets-provider passphrase",
      "config get docker:host --stack dev",
      "up --stack dev --yes --skip-preview --diff",
    ]);
    // Type-checked by npm run typecheck, not again on every run; only the program's run is told so.
    expect(recorded.map(({ transpileOnly }) => transpileOnly)).to.deep.equal(["", "", "true"]);
    const generated = fs.readFileSync(passphraseFile, "utf8");
    expect(generated).to.have.length.of.at.least(40);
    expect(fs.statSync(passphraseFile).mode & 0o777).to.equal(0o600);
    for (const call of recorded) {
      expect(call.cwd).to.equal(repositoryRoot);
      expect(call.passphrase).to.equal(`file:${generated}`);
    }
  });

  it("makes a random passphrase once per checkout and reuses it on every later run", async () => {
    fakePulumi(binDir, log);
    const first = path.join(work, "first", "passphrase");
    const second = path.join(work, "second", "passphrase");
    await script("up", [], cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: first }));
    await script("destroy", [], cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: first }));
    await script("up", [], cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: second }));
    const [select, , up, destroy, otherCheckout] = calls(log).map(({ passphrase }) => passphrase);
    expect(up).to.equal(select);
    expect(destroy).to.equal(select);
    expect(otherCheckout).not.to.equal(select);
  });

  it("keeps the passphrase the user chose, by value or by file, and works on another stack when asked", async () => {
    fakePulumi(binDir, log);
    await script(
      "up",
      [],
      cleanEnv(binDir, { PULUMI_CONFIG_PASSPHRASE: "mine", WATCHTOWER_STACK: "staging" }),
    );
    const chosenFile = path.join(work, "passphrase");
    fs.writeFileSync(chosenFile, "from-file");
    const unused = path.join(work, "unused", "passphrase");
    await script(
      "destroy",
      [],
      cleanEnv(binDir, { PULUMI_CONFIG_PASSPHRASE_FILE: chosenFile, WATCHTOWER_PASSPHRASE_FILE: unused }),
    );
    expect(calls(log).map(({ cwd, passphrase, args }) => ({ cwd, passphrase, args }))).to.deep.equal([
      {
        cwd: repositoryRoot,
        passphrase: "mine",
        args: "stack select staging --create --secrets-provider passphrase",
      },
      { cwd: repositoryRoot, passphrase: "mine", args: "config get docker:host --stack staging" },
      { cwd: repositoryRoot, passphrase: "mine", args: "up --stack staging --yes --skip-preview" },
      { cwd: repositoryRoot, passphrase: "file:from-file", args: "destroy --stack dev --yes" },
    ]);
    expect(fs.existsSync(unused)).to.equal(false);
  });

  it("destroy tears down the dev stack and keeps the stack and its settings file", async () => {
    fakePulumi(binDir, log);
    await script(
      "destroy",
      ["--skip-preview"],
      cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: path.join(work, "state", "passphrase") }),
    );
    expect(calls(log).map(({ args }) => args)).to.deep.equal(["destroy --stack dev --yes --skip-preview"]);
  });

  it("up stops when the stack cannot be selected", async () => {
    fakePulumi(binDir, log, "stack select");
    let failure: unknown;
    try {
      await script(
        "up",
        [],
        cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: path.join(work, "state", "passphrase") }),
      );
    } catch (error) {
      failure = error;
    }
    expect(failure).to.have.property("code", 1);
    expect(calls(log).map(({ args }) => args)).to.deep.equal([
      "stack select dev --create --secrets-provider passphrase",
    ]);
  });

  it("up stops before pulumi up, saying where it looked, when Docker does not answer", async () => {
    fakePulumi(binDir, log);
    const unanswered = await fakeDocker("1.41");
    await unanswered.close();
    let failure: { code?: number; stderr?: string } | undefined;
    try {
      await script(
        "up",
        [],
        cleanEnv(binDir, {
          WATCHTOWER_PASSPHRASE_FILE: path.join(work, "state", "passphrase"),
          DOCKER_HOST: unanswered.host,
        }),
      );
    } catch (error) {
      failure = error as { code?: number; stderr?: string };
    }
    expect(failure?.code).to.equal(1);
    expect(failure?.stderr).to.include(`Docker does not answer at ${unanswered.host} (from DOCKER_HOST)`);
    expect(calls(log).map(({ args }) => args)).not.to.include("up --stack dev --yes --skip-preview");
  });

  it("pulumi selects the stack, then runs any command from the project root with the stack's passphrase", async () => {
    fakePulumi(binDir, log);
    const passphraseFile = path.join(work, "state", "passphrase");
    await script("up", [], cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: passphraseFile }));
    await script(
      "pulumi",
      ["stack", "output", "--show-secrets"],
      cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: passphraseFile, WATCHTOWER_STACK: "staging" }),
    );
    const [firstSelect, , , select, output] = calls(log);
    expect(select).to.deep.equal({
      cwd: repositoryRoot,
      passphrase: firstSelect?.passphrase,
      args: "stack select staging --create --secrets-provider passphrase",
      transpileOnly: "",
    });
    expect(output).to.deep.equal({
      cwd: repositoryRoot,
      passphrase: firstSelect?.passphrase,
      args: "stack output --show-secrets",
      transpileOnly: "",
    });
  });

  it("says how to get the Pulumi CLI when there is none", async () => {
    // Only what the scripts need besides pulumi.
    fs.symlinkSync("/usr/bin/dirname", path.join(binDir, "dirname"));
    let failure: { code?: number; stderr?: string } | undefined;
    try {
      await script("up", [], {
        ...cleanEnv(binDir, { WATCHTOWER_PASSPHRASE_FILE: path.join(work, "state", "passphrase") }),
        PATH: binDir,
      });
    } catch (error) {
      failure = error as { code?: number; stderr?: string };
    }
    expect(failure?.code).to.equal(1);
    expect(failure?.stderr).to.include("npm install");
  });
});
