// Loads and runs the program exactly as `pulumi up` does, under Pulumi's mocks instead of an engine: through
// @pulumi/pulumi's own cmd/run (the entry point package.json names, ts-node registered with the project's
// tsconfig.json and the project's TypeScript, type-checked unless PULUMI_NODEJS_TRANSPILE_ONLY says otherwise).
// Run from the project root with PULUMI_NODEJS_TYPESCRIPT=true, as the language host does. Prints the stack
// outputs' names as JSON; exits non-zero with the compiler's or the program's error.
"use strict";
const Module = require("node:module");

// cmd/run/run.js requires its sibling index.js, which parses the process's arguments and would exit for lack of
// an engine address: stand in for it with the one value run.js reads from it.
const indexPath = require.resolve("@pulumi/pulumi/cmd/run/index.js");
const index = new Module(indexPath);
index.filename = indexPath;
index.loaded = true;
index.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
require.cache[indexPath] = index;

const pulumi = require("@pulumi/pulumi");
const { run } = require("@pulumi/pulumi/cmd/run/run.js");

function state(type, inputs) {
  if (type === "random:index/randomPassword:RandomPassword") return { result: "generated-password" };
  return { name: inputs.name };
}

pulumi.runtime.setAllConfig({});
pulumi.runtime
  .setMocks(
    {
      newResource: ({ type, name, inputs }) => ({ id: `${name}-id`, state: state(type, inputs) }),
      call: () => ({}),
    },
    "watchtower",
    "dev",
    false,
  )
  // "." is what the language host passes when Pulumi.yaml names no `main`: run.js then reads package.json's.
  .then(() =>
    run(
      { _: ["."] },
      () => {},
      () => {},
      () => false,
    ),
  )
  .then((outputs) => {
    process.stdout.write(`${JSON.stringify(Object.keys(outputs ?? {}))}\n`);
  })
  .catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
