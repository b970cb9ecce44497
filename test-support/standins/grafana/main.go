// Command grafana is the Grafana stand-in of the Docker tests (see the Dockerfile beside it). It is not
// Grafana and exercises none of Grafana's code: it checks that what the stack hands Grafana is there and well
// formed, fails loudly naming what is missing, and answers the few HTTP endpoints the tests call.
//
// One binary, three commands, chosen as the official image's binaries are called:
//
//	grafana server --homepath=… --config=… [--packaging=docker] cfg:default.paths.data=… …   (from /run.sh)
//	grafana cli --homepath … --config … --configOverrides "cfg:default.paths.data=… …" \
//	  admin reset-admin-password --password-from-stdin
//	curl -fsS -o FILE URL   (through a symlink named curl: the official image ships curl for healthchecks)
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

// version is the Grafana release this stands in for, set by `npm run standins` from configs/versions.ts.
var version = "dev"

// The database file the official image keeps under GF_PATHS_DATA; here it holds only the admin's login and
// password hash, so that a restart has something for `grafana cli admin reset-admin-password` to change.
const databaseFile = "grafana.db"

type database struct {
	AdminLogin          string `json:"adminLogin"`
	AdminPasswordSHA256 string `json:"adminPasswordSha256"`
}

func main() {
	var err error
	switch {
	case filepath.Base(os.Args[0]) == "curl":
		os.Exit(curl(os.Args[1:]))
	case len(os.Args) > 1 && os.Args[1] == "server":
		err = server(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "cli":
		err = cli(os.Args[2:])
	default:
		err = fmt.Errorf("usage: grafana server|cli …; got %q", os.Args[1:])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "grafana stand-in: %v\n", err)
		os.Exit(1)
	}
}

// paths are the `cfg:default.<key>=<value>` overrides Grafana takes on its command line.
func paths(overrides []string) (map[string]string, error) {
	found := map[string]string{}
	for _, override := range overrides {
		key, value, ok := strings.Cut(strings.TrimPrefix(override, "cfg:default."), "=")
		if !ok || !strings.HasPrefix(override, "cfg:default.") {
			return nil, fmt.Errorf("argument %q is not of the form cfg:default.<key>=<value>", override)
		}
		found[key] = value
	}
	return found, nil
}

func requirePaths(found map[string]string, keys ...string) error {
	for _, key := range keys {
		if found[key] == "" {
			return fmt.Errorf("no cfg:default.%s=… given", key)
		}
	}
	return nil
}

// homeAndConfig checks the two flags both commands take, as Grafana refuses to start without them.
func homeAndConfig(home, config string) error {
	if info, err := os.Stat(home); err != nil || !info.IsDir() {
		return fmt.Errorf("--homepath %q is not a directory", home)
	}
	if _, err := os.ReadFile(config); err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	return nil
}

func server(args []string) error {
	flags := flag.NewFlagSet("grafana server", flag.ContinueOnError)
	home := flags.String("homepath", "", "")
	config := flags.String("config", "", "")
	flags.String("packaging", "", "")
	if err := flags.Parse(args); err != nil {
		return err
	}
	cfg, err := paths(flags.Args())
	if err != nil {
		return err
	}
	if err := requirePaths(cfg, "paths.data", "paths.logs", "paths.plugins", "paths.provisioning"); err != nil {
		return err
	}
	if err := homeAndConfig(*home, *config); err != nil {
		return err
	}
	datasources, err := provisionedDatasources(filepath.Join(cfg["paths.provisioning"], "datasources"))
	if err != nil {
		return err
	}
	dashboards, err := provisionedDashboards(filepath.Join(cfg["paths.provisioning"], "dashboards"))
	if err != nil {
		return err
	}
	db, err := openOrCreateDatabase(filepath.Join(cfg["paths.data"], databaseFile))
	if err != nil {
		return err
	}
	port := os.Getenv("GF_SERVER_HTTP_PORT")
	if port == "" {
		port = "3000"
	}
	fmt.Printf("grafana stand-in for Grafana %s (not Grafana): %d datasources and %d dashboards provisioned, "+
		"admin %q, listening on :%s\n", version, datasources, len(dashboards), db.AdminLogin, port)
	return serve(":"+port, routes(db, dashboards))
}

// openOrCreateDatabase mirrors Grafana: the admin password in the environment only seeds a new database.
func openOrCreateDatabase(file string) (database, error) {
	var db database
	content, err := os.ReadFile(file)
	if err == nil {
		if err := json.Unmarshal(content, &db); err != nil {
			return db, fmt.Errorf("%s: %w", file, err)
		}
		return db, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return db, err
	}
	password := os.Getenv("GF_SECURITY_ADMIN_PASSWORD")
	if password == "" {
		return db, errors.New("no admin password for the new database: set GF_SECURITY_ADMIN_PASSWORD__FILE " +
			"(/run.sh turns it into GF_SECURITY_ADMIN_PASSWORD)")
	}
	db = database{AdminLogin: os.Getenv("GF_SECURITY_ADMIN_USER"), AdminPasswordSHA256: hash(password)}
	if db.AdminLogin == "" {
		db.AdminLogin = "admin"
	}
	return db, writeDatabase(file, db)
}

func writeDatabase(file string, db database) error {
	content, err := json.Marshal(db)
	if err != nil {
		return err
	}
	return os.WriteFile(file, content, 0o640)
}

func hash(password string) string {
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:])
}

// yamlFiles lists the provisioning files of one kind, as Grafana reads them: *.yaml and *.yml.
func yamlFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, matches...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no provisioning file (*.yaml, *.yml) in %s", dir)
	}
	return files, nil
}

func readYAML(file string, into any) error {
	content, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(content, into); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

func provisionedDatasources(dir string) (int, error) {
	files, err := yamlFiles(dir)
	if err != nil {
		return 0, err
	}
	count := 0
	for _, file := range files {
		var provisioning struct {
			APIVersion  int `yaml:"apiVersion"`
			Datasources []struct {
				Name string `yaml:"name"`
				Type string `yaml:"type"`
				URL  string `yaml:"url"`
			} `yaml:"datasources"`
		}
		if err := readYAML(file, &provisioning); err != nil {
			return 0, err
		}
		if provisioning.APIVersion != 1 || len(provisioning.Datasources) == 0 {
			return 0, fmt.Errorf("%s: want apiVersion 1 and at least one datasource", file)
		}
		for i, source := range provisioning.Datasources {
			if source.Name == "" || source.Type == "" || source.URL == "" {
				return 0, fmt.Errorf("%s: datasource %d lacks a name, type or url", file, i)
			}
		}
		count += len(provisioning.Datasources)
	}
	return count, nil
}

type dashboard struct {
	UID   string `json:"uid"`
	Title string `json:"title"`
	// Folder is the title of the folder the provider puts the dashboard in.
	Folder string `json:"-"`
}

// provisionedDashboards reads every dashboard provider and the dashboards at the path each one names.
func provisionedDashboards(dir string) ([]dashboard, error) {
	files, err := yamlFiles(dir)
	if err != nil {
		return nil, err
	}
	var dashboards []dashboard
	for _, file := range files {
		var provisioning struct {
			APIVersion int `yaml:"apiVersion"`
			Providers  []struct {
				Name    string `yaml:"name"`
				Type    string `yaml:"type"`
				Folder  string `yaml:"folder"`
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		if err := readYAML(file, &provisioning); err != nil {
			return nil, err
		}
		if provisioning.APIVersion != 1 || len(provisioning.Providers) == 0 {
			return nil, fmt.Errorf("%s: want apiVersion 1 and at least one provider", file)
		}
		for _, provider := range provisioning.Providers {
			if provider.Type != "file" || provider.Options.Path == "" {
				return nil, fmt.Errorf("%s: provider %q: want type file and options.path", file, provider.Name)
			}
			found, err := dashboardsIn(provider.Options.Path, provider.Folder)
			if err != nil {
				return nil, fmt.Errorf("%s: provider %q: %w", file, provider.Name, err)
			}
			dashboards = append(dashboards, found...)
		}
	}
	return dashboards, nil
}

func dashboardsIn(dir, folder string) ([]dashboard, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboard (*.json) in %s", dir)
	}
	dashboards := make([]dashboard, 0, len(files))
	for _, file := range files {
		content, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var found dashboard
		if err := json.Unmarshal(content, &found); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if found.UID == "" || found.Title == "" {
			return nil, fmt.Errorf("%s: a dashboard needs a uid and a title", file)
		}
		found.Folder = folder
		dashboards = append(dashboards, found)
	}
	return dashboards, nil
}

func routes(db database, dashboards []dashboard) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"database": "ok", "version": version, "commit": "stand-in"})
	})
	authenticated := func(handler func(w http.ResponseWriter)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			login, password, ok := r.BasicAuth()
			if !ok || login != db.AdminLogin ||
				subtle.ConstantTimeCompare([]byte(hash(password)), []byte(db.AdminPasswordSHA256)) != 1 {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid username or password"})
				return
			}
			handler(w)
		}
	}
	mux.HandleFunc("GET /api/user", authenticated(func(w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, map[string]any{"login": db.AdminLogin, "isGrafanaAdmin": true})
	}))
	// The shape of Grafana's dashboard search results, reduced to what identifies a provisioned dashboard.
	mux.HandleFunc("GET /api/search", authenticated(func(w http.ResponseWriter) {
		results := make([]map[string]string, 0, len(dashboards))
		for _, d := range dashboards {
			results = append(results, map[string]string{
				"uid": d.UID, "title": d.Title, "type": "dash-db", "folderTitle": d.Folder,
			})
		}
		writeJSON(w, http.StatusOK, results)
	}))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// serve runs until SIGTERM or SIGINT: as the container's PID 1 the process gets no default signal handling.
func serve(address string, handler http.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv := &http.Server{Addr: address, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	failed := make(chan error, 1)
	go func() { failed <- srv.ListenAndServe() }()
	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

// cli accepts exactly the invocation of infra/grafana.ts's entrypoint script, and refuses anything else.
func cli(args []string) error {
	flags := flag.NewFlagSet("grafana cli", flag.ContinueOnError)
	home := flags.String("homepath", "", "")
	config := flags.String("config", "", "")
	overrides := flags.String("configOverrides", "", "")
	if err := flags.Parse(args); err != nil {
		return err
	}
	command := []string{"admin", "reset-admin-password", "--password-from-stdin"}
	if !slices.Equal(flags.Args(), command) {
		return fmt.Errorf("the stand-in's cli only runs %q, got %q", strings.Join(command, " "), flags.Args())
	}
	if err := homeAndConfig(*home, *config); err != nil {
		return err
	}
	cfg, err := paths(strings.Fields(*overrides))
	if err != nil {
		return fmt.Errorf("--configOverrides: %w", err)
	}
	if err := requirePaths(cfg, "paths.data", "paths.logs", "paths.plugins"); err != nil {
		return fmt.Errorf("--configOverrides: %w", err)
	}
	file := filepath.Join(cfg["paths.data"], databaseFile)
	db, err := openExisting(file)
	if err != nil {
		return err
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	password := strings.TrimRight(string(input), "\r\n")
	if password == "" {
		return errors.New("--password-from-stdin: stdin was empty")
	}
	db.AdminPasswordSHA256 = hash(password)
	if err := writeDatabase(file, db); err != nil {
		return err
	}
	fmt.Println("Admin password changed successfully ✔")
	return nil
}

// openExisting refuses a missing database: the real cli would create an empty one where the server never looks.
func openExisting(file string) (database, error) {
	var db database
	content, err := os.ReadFile(file)
	if err != nil {
		return db, fmt.Errorf("no database to reset the password in (the server's paths.data?): %w", err)
	}
	if err := json.Unmarshal(content, &db); err != nil {
		return db, fmt.Errorf("%s: %w", file, err)
	}
	return db, nil
}

// curl implements the options the stack's healthcheck uses (-f, -s, -S, -o FILE, one URL), with curl's exit
// codes, and refuses every other option rather than ignore it.
func curl(args []string) int {
	var fail, silent, showError bool
	output, url := "-", ""
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "-o" || arg == "--output":
			if i+1 == len(args) {
				return curlError(2, "option -o needs a file")
			}
			i++
			output = args[i]
		case arg == "--fail":
			fail = true
		case arg == "--silent":
			silent = true
		case arg == "--show-error":
			showError = true
		case strings.HasPrefix(arg, "-") && strings.Trim(arg[1:], "fsS") == "" && len(arg) > 1:
			fail = fail || strings.Contains(arg, "f")
			silent = silent || strings.Contains(arg, "s")
			showError = showError || strings.Contains(arg, "S")
		case strings.HasPrefix(arg, "-"):
			return curlError(2, fmt.Sprintf("option %s is not supported by this stand-in (-f -s -S -o FILE URL are)", arg))
		case url == "":
			url = arg
		default:
			return curlError(2, "the stand-in takes one URL")
		}
	}
	if url == "" {
		return curlError(2, "no URL specified")
	}
	report := func(code int, message string) int {
		if !silent || showError {
			return curlError(code, message)
		}
		return code
	}
	client := &http.Client{Timeout: 30 * time.Second}
	response, err := client.Get(url)
	if err != nil {
		return report(7, err.Error())
	}
	defer response.Body.Close()
	if fail && response.StatusCode >= 400 {
		return report(22, fmt.Sprintf("The requested URL returned error: %d", response.StatusCode))
	}
	out := os.Stdout
	if output != "-" {
		if out, err = os.Create(output); err != nil {
			return report(23, err.Error())
		}
		defer out.Close()
	}
	if _, err := io.Copy(out, response.Body); err != nil {
		return report(23, err.Error())
	}
	return 0
}

func curlError(code int, message string) int {
	fmt.Fprintf(os.Stderr, "curl: (%d) %s\n", code, message)
	return code
}
