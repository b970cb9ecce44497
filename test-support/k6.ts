/**
 * What tests that run k6 allow it: from starting the process to its first request, k6 compiles the script
 * (TypeScript, through its bundled esbuild), reads the options and starts the pre-allocated VUs, before the
 * load test's plan starts counting. That takes about a second; the budget is generous because a wait that ends
 * here fails the test.
 */
export const k6StartupBudgetMs = 10_000;
