/** Custom alert expressions as users write them: each valid, each loadable by Prometheus. */
export const realisticCustomAlertExprs = [
  "sum by (job) (rate(x[5m])) / sum by (job) (rate(y[5m])) > 0.1",
  'absent(up{job="app"})',
  "predict_linear(node_x[1h], 3600) < 0",
  "histogram_quantile(0.9, sum by (le) (rate(b_bucket[5m]))) > 1",
  "max_over_time(up[5m:30s]) == 0",
  "vector(1)",
  "time() - x > 300",
] as const;
