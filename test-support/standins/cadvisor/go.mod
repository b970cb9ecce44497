// The cAdvisor stand-in of the Docker tests (main.go), built statically by `npm run standins`.
module watchtower/cadvisor-standin

go 1.24.0
