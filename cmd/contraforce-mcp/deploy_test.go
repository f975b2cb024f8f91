package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

// k8sDir holds the Kubernetes manifests.
const k8sDir = "deploy/kubernetes"

// k8sObject is the part of a manifest the tests read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Namespace string   `yaml:"namespace"` // kustomization
	Resources []string `yaml:"resources"` // kustomization
	Spec      struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Args []string `yaml:"args"`
					Env  []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
		Rules []struct {
			Host string `yaml:"host"`
			HTTP struct {
				Paths []struct {
					Backend struct {
						Service struct {
							Name string `yaml:"name"`
							Port struct {
								Name   string `yaml:"name"`
								Number int    `yaml:"number"`
							} `yaml:"port"`
						} `yaml:"service"`
					} `yaml:"backend"`
				} `yaml:"paths"`
			} `yaml:"http"`
		} `yaml:"rules"`
		PodMetricsEndpoints []struct {
			Port string `yaml:"port"`
		} `yaml:"podMetricsEndpoints"`
		Ingress []struct {
			From  []any `yaml:"from"`
			Ports []struct {
				Port any `yaml:"port"`
			} `yaml:"ports"`
		} `yaml:"ingress"`
	} `yaml:"spec"`
}

// readManifests parses every document of every manifest, by kind.
func readManifests(t *testing.T) map[string]k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", k8sDir, err)
	}
	out := map[string]k8sObject{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" {
				t.Fatalf("%s: a document without a kind", f)
			}
			if o.Kind != "Secret" { // two Secrets; the tests read neither
				out[o.Kind] = o
			}
		}
	}
	return out
}

// deployment's container: its arguments, environment and ports by name.
func container(t *testing.T, m map[string]k8sObject) (args []string, env map[string]string, ports map[string]int) {
	t.Helper()
	cs := m["Deployment"].Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	env, ports = map[string]string{}, map[string]int{}
	for _, e := range cs[0].Env {
		env[e.Name] = e.Value
	}
	for _, p := range cs[0].Ports {
		ports[p.Name] = p.ContainerPort
	}
	return cs[0].Args, env, ports
}

// portOf is the port of a host:port address.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return port
}

// TestDeployManifests reads the Kubernetes manifests as kubectl would and
// checks them against the real serve flags: the container's arguments
// parse; metrics are on a port of their own that the Service (and so the
// ingress) does not publish; and the Host check of a server configured as
// the Deployment configures it admits every name Kubernetes gives the
// Service, and the ingress host, and refuses others.
func TestDeployManifests(t *testing.T) {
	m := readManifests(t)
	kust := m["Kustomization"]
	for _, r := range kust.Resources {
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("kustomization lists %s: %v", r, err)
		}
	}
	args, env, ports := container(t, m)
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("container args %q do not run serve", args)
	}
	var stderr bytes.Buffer
	sc, code := parseServeFlags(args[1:], &stderr, func(k string) string { return env[k] })
	if code != -1 {
		t.Fatalf("the Deployment's serve flags do not parse (exit %d): %s", code, stderr.String())
	}

	// Metrics: their own port, in the pod only.
	if sc.MetricsAddr == "" {
		t.Fatal("the Deployment serves no metrics (--metrics-addr)")
	}
	metricsPort, httpPort := portOf(t, sc.MetricsAddr), portOf(t, sc.Addr)
	if metricsPort == httpPort || fmt.Sprint(ports["metrics"]) != metricsPort || fmt.Sprint(ports["http"]) != httpPort {
		t.Errorf("container ports %v do not match --addr %s and --metrics-addr %s", ports, sc.Addr, sc.MetricsAddr)
	}
	if got := m["Deployment"].Spec.Template.Metadata.Annotations["prometheus.io/port"]; got != metricsPort {
		t.Errorf("prometheus.io/port is %q, want the metrics port %s", got, metricsPort)
	}
	svc := m["Service"]
	for _, p := range svc.Spec.Ports {
		if tp := fmt.Sprint(p.TargetPort); tp == "metrics" || tp == metricsPort || fmt.Sprint(p.Port) == metricsPort {
			t.Errorf("the Service publishes the metrics port: %+v", p)
		}
	}
	for _, r := range m["Ingress"].Spec.Rules {
		for _, p := range r.HTTP.Paths {
			b := p.Backend.Service
			if b.Name != svc.Metadata.Name || b.Port.Name != "http" {
				t.Errorf("an ingress path reaches %s port %q/%d, want the Service's http port", b.Name, b.Port.Name, b.Port.Number)
			}
		}
	}
	if eps := m["PodMonitor"].Spec.PodMetricsEndpoints; len(eps) != 1 || eps[0].Port != "metrics" {
		t.Errorf("the PodMonitor scrapes %+v, want the metrics port", eps)
	}
	for _, rule := range m["NetworkPolicy"].Spec.Ingress {
		for _, p := range rule.Ports {
			if fmt.Sprint(p.Port) == "metrics" && len(rule.From) == 0 {
				t.Error("the NetworkPolicy admits the metrics port from anywhere")
			}
		}
	}

	// Host names: as Kubernetes names the Service, and the ingress host.
	name, ns := svc.Metadata.Name, kust.Namespace
	if name == "" || ns == "" {
		t.Fatalf("Service name %q, namespace %q", name, ns)
	}
	admitted := []string{name, name + "." + ns, name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local",
		name + ":80", name + "." + ns + ".svc.cluster.local:80", "10.42.0.7:8080"}
	for _, r := range m["Ingress"].Spec.Rules {
		admitted = append(admitted, r.Host)
	}
	h := startServe(t, func(c *serveConfig) { c.Addr, c.AllowedHosts = sc.Addr, sc.AllowedHosts })
	for _, host := range admitted {
		if resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, map[string]string{"Host": host}); resp.StatusCode != http.StatusOK {
			t.Errorf("initialize with Host %q: %d, want 200 (the manifests' --allowed-hosts must accept it)", host, resp.StatusCode)
		}
	}
	for _, host := range []string{"evil.example", name + ".other-namespace", "attacker.example:80"} {
		if resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, map[string]string{"Host": host}); resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("initialize with Host %q: %d, want 421", host, resp.StatusCode)
		}
	}
}

// TestServeMetricsListener: /metrics is not on the MCP listener (which an
// ingress publishes) whatever the Host, and is on --metrics-addr, with the
// tenants' names and behind the same Host check.
func TestServeMetricsListener(t *testing.T) {
	h := startServe(t, func(c *serveConfig) { c.AllowedHosts = []string{"mcp.example.com"} })
	for _, host := range []string{"", "mcp.example.com", "localhost"} {
		resp := h.do(t, http.MethodGet, "/metrics", "", "", map[string]string{"Host": host})
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "tenant") {
			t.Errorf("GET /metrics on the MCP listener (Host %q): %d %.100q, want 404 and no metrics", host, resp.StatusCode, body)
		}
	}
	metrics := "http://" + h.srv.MetricsAddr().String()
	get := func(path, host string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, metrics+path, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	c := h.mustConnect(t.Context(), "http", tokenA, legacy)
	call(t.Context(), t, c, "list_incidents", map[string]any{"limit": 1})
	if code, body := get("/metrics", ""); code != http.StatusOK || !strings.Contains(body, `tenant="tenant-a"`) {
		t.Errorf("GET /metrics on the metrics listener: %d %.200q", code, body)
	}
	if code, _ := get("/metrics", "evil.example"); code != http.StatusMisdirectedRequest {
		t.Errorf("GET /metrics with a foreign Host: %d, want 421", code)
	}
	if code, _ := get("/mcp", ""); code != http.StatusNotFound {
		t.Errorf("GET /mcp on the metrics listener: %d, want 404 (it serves metrics only)", code)
	}
}
