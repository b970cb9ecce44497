// Preloaded (`node --require`) into test-support/load-as-pulumi.cjs by the noop-up bench part (./noop-up.ts):
// marks when each phase of the program starts and ends, without changing what runs. It wraps, as they load,
// the program's entry (package.json's `main`), `checkDocker`, `stackInputs` and the SDK's closure serializer, and
// times ts-node's compilation of each .ts module. At exit it writes one line, `noop-up-probe {json}`, to stderr:
// milliseconds since the process's time origin (its start), and summed durations. NOOP_UP_PROBE_CONFIG, a JSON
// object of stack config (`{"watchtower:delivery": "{\"checkOnUp\":false}"}`), is added to what the harness sets.
"use strict";
const Module = require("node:module");
const fs = require("node:fs");
const path = require("node:path");

const now = () => performance.now();
const root = process.cwd();
const program = path.join(root, "infra", "index.ts");
const marks = { probeLoaded: now() };
const sums = { typescriptMs: 0, typescriptModules: 0, closureMs: 0 };
const extraConfig = process.env.NOOP_UP_PROBE_CONFIG
  ? JSON.parse(process.env.NOOP_UP_PROBE_CONFIG)
  : undefined;

/** `fn` timed from its call until it returns or, for a promise, settles, into `marks[name + "Start" | "End"]`. */
function timed(name, fn) {
  return function (...args) {
    marks[`${name}Start`] ??= now();
    const result = fn.apply(this, args);
    const end = () => {
      marks[`${name}End`] ??= now();
    };
    if (result && typeof result.then === "function") result.then(end, end);
    else end();
    return result;
  };
}

// ts-node 7 (vendored by @pulumi/pulumi) replaces a .ts module's `_compile` with one that compiles the code
// (or reads its cache) and then calls Module.prototype._compile with the JavaScript: the time between the two
// is TypeScript's, the module's own execution (and its imports) is not.
const entered = new WeakMap();
const prototypeCompile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  const start = entered.get(this);
  if (start !== undefined) {
    sums.typescriptMs += now() - start;
    sums.typescriptModules += 1;
    entered.delete(this);
  }
  return prototypeCompile.call(this, content, filename);
};
function watchTypeScript(module) {
  let compile;
  Object.defineProperty(module, "_compile", {
    configurable: true,
    get: () => compile ?? Module.prototype._compile,
    set: (replacement) => {
      compile = function (code, filename) {
        entered.set(this, now());
        return replacement.call(this, code, filename);
      };
    },
  });
}

const load = Module._load;
Module._load = function (...args) {
  const [request, parent, isMain] = args;
  let filename;
  try {
    filename = Module._resolveFilename(request, parent, isMain);
  } catch {
    return load.apply(this, args);
  }
  if (filename === program) marks.programLoadStart ??= now();
  const exports = load.apply(this, args);
  if (filename === program) {
    marks.programLoaded ??= now();
    return typeof exports === "function" ? timed("program", exports) : exports;
  }
  const relative = path.relative(root, filename).split(path.sep).join("/");
  if (relative === "infra/docker-preflight.ts" && !exports.checkDocker.timed) {
    exports.checkDocker = Object.assign(timed("preflight", exports.checkDocker), { timed: true });
  }
  if (relative === "infra/stack-inputs.ts" && !exports.stackInputs.timed) {
    exports.stackInputs = Object.assign(timed("inputs", exports.stackInputs), { timed: true });
  }
  if (relative.endsWith("@pulumi/pulumi/runtime/config.js") && extraConfig && !exports.setAllConfig.timed) {
    const setAllConfig = exports.setAllConfig;
    exports.setAllConfig = Object.assign(
      (config, secretKeys) => setAllConfig({ ...config, ...extraConfig }, secretKeys),
      { timed: true },
    );
  }
  if (
    relative.endsWith("@pulumi/pulumi/runtime/closure/serializeClosure.js") &&
    !exports.serializeFunction.timed
  ) {
    const serialize = exports.serializeFunction;
    exports.serializeFunction = Object.assign(
      function (...args) {
        const start = now();
        const result = serialize.apply(this, args);
        const end = () => {
          sums.closureMs += now() - start;
        };
        result.then(end, end);
        return result;
      },
      { timed: true },
    );
  }
  return exports;
};

// Every .ts module goes through the extension handler ts-node registers; wrap whichever is registered when a
// module loads, so that ts-node's own `_compile` replacement is seen.
const extensions = Module._extensions;
let tsHandler;
Object.defineProperty(extensions, ".ts", {
  configurable: true,
  enumerable: true,
  get: () => tsHandler,
  set: (handler) => {
    tsHandler = (module, filename) => {
      watchTypeScript(module);
      return handler(module, filename);
    };
  },
});

process.on("exit", (code) => {
  marks.exit = now();
  fs.writeSync(2, `noop-up-probe ${JSON.stringify({ code, marks, sums })}\n`);
});
