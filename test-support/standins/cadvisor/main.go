// Command cadvisor is the stand-in for gcr.io/cadvisor/cadvisor in the Docker tests. CADVISOR ITSELF IS NOT
// EXERCISED: its command module is not served by the Go module proxy here. This program takes cAdvisor's flags,
// uses only --port (-port), and serves /healthz and, on /metrics, metrics.txt: series in the shape cAdvisor's
// documented metrics have (docs/storage/prometheus.md), in the text exposition format with its content type.
package main

import (
	_ "embed"
	"fmt"
	"net/http"
	"os"
	"strings"
)

//go:embed metrics.txt
var metrics string

func main() {
	port := "8080"
	for _, arg := range os.Args[1:] {
		name, value, ok := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if ok && name == "port" {
			port = value
		}
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "ok")
	})
	http.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, metrics)
	})
	fmt.Fprintf(os.Stderr, "cadvisor stand-in listening on :%s\n", port)
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
