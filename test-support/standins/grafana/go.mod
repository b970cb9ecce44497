// The Grafana stand-in of the Docker tests (main.go), built statically by `npm run standins`.
module watchtower/grafana-standin

go 1.24.0

require go.yaml.in/yaml/v3 v3.0.4
