// istio-routes asks Istio's own control plane what Envoy would do with a list of requests.
//
// It reads one JSON document on stdin: Istio objects (VirtualServices, DestinationRules, Gateways),
// Kubernetes objects (Services, Pods) and requests, each sent by a proxy (the ingress gateway, or a
// sidecar with given pod labels). Istio's xDS generation (pilot's fake discovery server, the code
// istiod runs) turns the objects into the RouteConfigurations that proxy would be sent; Istio's
// validation checks them; then each request is walked through them with Envoy's routing rules:
// virtual host by domain, routes in order, first match wins, header matchers with RE2 regexes,
// weighted clusters with their response headers, mirror policies with their runtime fraction.
// Anything in a matched route that this walk does not model is an error, never ignored.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/config"
	istiolog "istio.io/istio/pkg/log"
)

// Set by the build (hack/cluster/build.sh) from the module's VERSION file, e.g. "1.31".
var istioReleaseLine = "unknown"

type input struct {
	Config     []json.RawMessage `json:"config"`
	Kubernetes []json.RawMessage `json:"kubernetes"`
	Requests   []request         `json:"requests"`
}

type proxySpec struct {
	// "gateway" or "sidecar"
	Kind      string            `json:"kind"`
	Labels    map[string]string `json:"labels"`
	Namespace string            `json:"namespace"`
}

type request struct {
	ID      string            `json:"id"`
	Proxy   proxySpec         `json:"proxy"`
	Port    int               `json:"port"`
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
}

type headerValue struct {
	Header string `json:"header"`
	Value  string `json:"value"`
	Append string `json:"append"`
}

type clusterOutcome struct {
	Cluster              string        `json:"cluster"`
	Weight               uint32        `json:"weight"`
	ResponseHeadersToAdd []headerValue `json:"responseHeadersToAdd"`
	RequestHeadersToAdd  []headerValue `json:"requestHeadersToAdd"`
}

type mirrorOutcome struct {
	Cluster string `json:"cluster"`
	// Share of requests copied, in percent (100 when the policy has no runtime fraction).
	Percent            float64 `json:"percent"`
	HostSuffixAppended bool    `json:"hostSuffixAppended"`
}

type outcome struct {
	ID                 string `json:"id"`
	RouteConfiguration string `json:"routeConfiguration"`
	VirtualHost        string `json:"virtualHost,omitempty"`
	// Empty when no route matched: Envoy answers 404.
	Route                     string           `json:"route,omitempty"`
	Matched                   bool             `json:"matched"`
	Clusters                  []clusterOutcome `json:"clusters"`
	RouteResponseHeadersToAdd []headerValue    `json:"routeResponseHeadersToAdd"`
	Mirrors                   []mirrorOutcome  `json:"mirrors"`
	DirectResponseStatus      uint32           `json:"directResponseStatus,omitempty"`
}

type output struct {
	Istio struct {
		ReleaseLine   string `json:"releaseLine"`
		ModuleVersion string `json:"moduleVersion"`
		// DISABLE_SHADOW_HOST_SUFFIX as istiod reads it (default true since Istio 1.28).
		DisableShadowHostSuffix bool `json:"disableShadowHostSuffix"`
	} `json:"istio"`
	Outcomes []outcome `json:"outcomes"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "istio-routes:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	// Istio logs to stdout by default, where the answer goes; only its errors are of interest.
	logOptions := istiolog.DefaultOptions()
	logOptions.OutputPaths = []string{"stderr"}
	logOptions.SetDefaultOutputLevel(istiolog.DefaultScopeName, istiolog.ErrorLevel)
	if err := istiolog.Configure(logOptions); err != nil {
		return fmt.Errorf("configuring Istio's logging: %w", err)
	}
	for _, scope := range istiolog.Scopes() {
		scope.SetOutputLevel(istiolog.ErrorLevel)
	}
	var doc input
	decoder := json.NewDecoder(in)
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&doc); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	configs, err := parseConfigs(doc.Config)
	if err != nil {
		return err
	}
	failer := &failer{}
	var result output
	err = failer.run(func() error {
		server := xds.NewFakeDiscoveryServer(failer, xds.FakeOptions{
			Configs:                configs,
			KubernetesObjectString: joinDocuments(doc.Kubernetes),
		})
		result.Outcomes = make([]outcome, 0, len(doc.Requests))
		routesByProxy := map[string][]*route.RouteConfiguration{}
		for _, req := range doc.Requests {
			key, err := json.Marshal(req.Proxy)
			if err != nil {
				return err
			}
			routes, found := routesByProxy[string(key)]
			if !found {
				proxy, err := newProxy(req.Proxy)
				if err != nil {
					return fmt.Errorf("request %q: %w", req.ID, err)
				}
				routes = server.Routes(server.SetupProxy(proxy))
				if err := validate(routes); err != nil {
					return fmt.Errorf("request %q: Istio generated an invalid route configuration: %w", req.ID, err)
				}
				routesByProxy[string(key)] = routes
			}
			evaluated, err := evaluate(req, routes)
			if err != nil {
				return fmt.Errorf("request %q: %w", req.ID, err)
			}
			result.Outcomes = append(result.Outcomes, evaluated)
		}
		return nil
	})
	if err != nil {
		return err
	}
	result.Istio.ReleaseLine = istioReleaseLine
	result.Istio.ModuleVersion = moduleVersion("istio.io/istio")
	result.Istio.DisableShadowHostSuffix = features.DisableShadowHostSuffix
	encoder := json.NewEncoder(out)
	encoder.SetIndent("", "  ")
	return encoder.Encode(result)
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			return dep.Version
		}
	}
	return "unknown"
}

func joinDocuments(objects []json.RawMessage) string {
	parts := make([]string, len(objects))
	for i, object := range objects {
		parts[i] = string(object)
	}
	return strings.Join(parts, "\n---\n")
}

// parseConfigs reads Istio objects with istiod's own parser. Parsed YAML carries no domain suffix:
// without cluster.local a short host such as "sms-app-model" would resolve to "sms-app-model.<ns>"
// and never meet the Service's FQDN.
func parseConfigs(objects []json.RawMessage) ([]config.Config, error) {
	parsed, others, err := crd.ParseInputs(joinDocuments(objects))
	if err != nil {
		return nil, fmt.Errorf("parsing the Istio objects: %w", err)
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("not Istio objects in config (put them in kubernetes): %v", others)
	}
	if len(parsed) != len(objects) {
		return nil, fmt.Errorf("parsed %d Istio objects out of %d", len(parsed), len(objects))
	}
	created := time.Now()
	for i := range parsed {
		parsed[i].Domain = "cluster.local"
		if parsed[i].Namespace == "" {
			return nil, fmt.Errorf("%s %s has no namespace", parsed[i].GroupVersionKind.Kind, parsed[i].Name)
		}
		if parsed[i].CreationTimestamp.IsZero() {
			parsed[i].CreationTimestamp = created
		}
	}
	return parsed, nil
}

func newProxy(spec proxySpec) (*model.Proxy, error) {
	if spec.Namespace == "" {
		return nil, fmt.Errorf("proxy without a namespace")
	}
	version := istioReleaseLine + ".0"
	metadata := &model.NodeMetadata{Labels: spec.Labels, Namespace: spec.Namespace, IstioVersion: version}
	switch spec.Kind {
	case "gateway":
		return &model.Proxy{Type: model.Router, Labels: spec.Labels, Metadata: metadata, ConfigNamespace: spec.Namespace}, nil
	case "sidecar":
		return &model.Proxy{Type: model.SidecarProxy, Labels: spec.Labels, Metadata: metadata, ConfigNamespace: spec.Namespace}, nil
	default:
		return nil, fmt.Errorf("proxy kind %q: want gateway or sidecar", spec.Kind)
	}
}

// routeConfigurationName is the RouteConfiguration a listener on the port uses: a gateway's HTTP
// server on port 80 is "http.80", a sidecar's outbound HTTP listener for port 8081 is "8081".
func routeConfigurationName(req request) string {
	if req.Proxy.Kind == "gateway" {
		return "http." + strconv.Itoa(req.Port)
	}
	return strconv.Itoa(req.Port)
}

func evaluate(req request, routes []*route.RouteConfiguration) (outcome, error) {
	result := outcome{ID: req.ID, RouteConfiguration: routeConfigurationName(req), Clusters: []clusterOutcome{}, Mirrors: []mirrorOutcome{}, RouteResponseHeadersToAdd: []headerValue{}}
	configuration := xdstest.ExtractRouteConfigurations(routes)[result.RouteConfiguration]
	if configuration == nil {
		names := make([]string, 0, len(routes))
		for _, candidate := range routes {
			names = append(names, candidate.Name)
		}
		sort.Strings(names)
		return result, fmt.Errorf("no route configuration %q for this proxy (it has %v)", result.RouteConfiguration, names)
	}
	host := strings.ToLower(req.Host)
	virtualHost := selectVirtualHost(configuration.VirtualHosts, host, configuration.IgnorePortInHostMatching)
	if virtualHost == nil {
		return result, nil
	}
	result.VirtualHost = virtualHost.Name
	headers := map[string]string{":authority": req.Host, ":path": req.Path, ":method": "GET", ":scheme": "http"}
	if req.Path == "" {
		headers[":path"] = "/"
	}
	for name, value := range req.Headers {
		headers[strings.ToLower(name)] = value
	}
	for _, candidate := range virtualHost.Routes {
		matched, err := matchRoute(candidate.Match, headers)
		if err != nil {
			return result, fmt.Errorf("route %q: %w", candidate.Name, err)
		}
		if !matched {
			continue
		}
		result.Matched = true
		result.Route = candidate.Name
		// Envoy adds response headers of the route, then its virtual host, then the configuration.
		result.RouteResponseHeadersToAdd = headerValues(candidate.ResponseHeadersToAdd)
		result.RouteResponseHeadersToAdd = append(result.RouteResponseHeadersToAdd, headerValues(virtualHost.ResponseHeadersToAdd)...)
		result.RouteResponseHeadersToAdd = append(result.RouteResponseHeadersToAdd, headerValues(configuration.ResponseHeadersToAdd)...)
		if direct := candidate.GetDirectResponse(); direct != nil {
			result.DirectResponseStatus = direct.Status
			return result, nil
		}
		action := candidate.GetRoute()
		if action == nil {
			return result, fmt.Errorf("route %q: only route and direct_response actions are modelled", candidate.Name)
		}
		return result, describeAction(&result, action)
	}
	return result, nil
}

// selectVirtualHost follows Envoy: an exact domain first, then the longest suffix wildcard
// ("*.example.com"), then the longest prefix wildcard ("example.*"), then "*".
func selectVirtualHost(hosts []*route.VirtualHost, host string, ignorePort bool) *route.VirtualHost {
	if ignorePort {
		if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
			host = host[:i]
		}
	}
	var suffixBest, prefixBest, any *route.VirtualHost
	suffixLength, prefixLength := -1, -1
	for _, virtualHost := range hosts {
		for _, domain := range virtualHost.Domains {
			domain = strings.ToLower(domain)
			switch {
			case domain == "*":
				if any == nil {
					any = virtualHost
				}
			case domain == host:
				return virtualHost
			case strings.HasPrefix(domain, "*") && strings.HasSuffix(host, domain[1:]) && len(host) > len(domain)-1:
				if len(domain) > suffixLength {
					suffixBest, suffixLength = virtualHost, len(domain)
				}
			case strings.HasSuffix(domain, "*") && strings.HasPrefix(host, domain[:len(domain)-1]) && len(host) > len(domain)-1:
				if len(domain) > prefixLength {
					prefixBest, prefixLength = virtualHost, len(domain)
				}
			}
		}
	}
	switch {
	case suffixBest != nil:
		return suffixBest
	case prefixBest != nil:
		return prefixBest
	default:
		return any
	}
}

func matchRoute(match *route.RouteMatch, headers map[string]string) (bool, error) {
	if match == nil {
		return false, fmt.Errorf("route without a match")
	}
	if len(match.QueryParameters) > 0 || match.Grpc != nil || match.TlsContext != nil || len(match.DynamicMetadata) > 0 ||
		match.RuntimeFraction != nil || len(match.FilterState) > 0 || match.GetConnectMatcher() != nil {
		return false, fmt.Errorf("the match uses conditions this evaluation does not model: %v", match)
	}
	path := headers[":path"]
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	caseSensitive := match.CaseSensitive == nil || match.CaseSensitive.Value
	fold := func(s string) string {
		if caseSensitive {
			return s
		}
		return strings.ToLower(s)
	}
	switch specifier := match.PathSpecifier.(type) {
	case *route.RouteMatch_Prefix:
		if !strings.HasPrefix(fold(path), fold(specifier.Prefix)) {
			return false, nil
		}
	case *route.RouteMatch_Path:
		if fold(path) != fold(specifier.Path) {
			return false, nil
		}
	case *route.RouteMatch_PathSeparatedPrefix:
		prefix := fold(specifier.PathSeparatedPrefix)
		p := fold(path)
		if p != prefix && !strings.HasPrefix(p, prefix+"/") {
			return false, nil
		}
	case *route.RouteMatch_SafeRegex:
		ok, err := fullMatch(specifier.SafeRegex.Regex, path)
		if err != nil || !ok {
			return false, err
		}
	default:
		return false, fmt.Errorf("path specifier %T is not modelled", specifier)
	}
	for _, header := range match.Headers {
		ok, err := matchHeader(header, headers)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// fullMatch: Envoy's safe_regex is RE2 and must match the whole value; Go's regexp is RE2.
func fullMatch(expression, value string) (bool, error) {
	compiled, err := regexp.Compile(`^(?:` + expression + `)$`)
	if err != nil {
		return false, fmt.Errorf("regex %q: %w", expression, err)
	}
	return compiled.MatchString(value), nil
}

// matchHeader follows Envoy's HeaderUtility::matchHeaders: a missing header matches only
// present_match: false (inverted: present_match: true), unless treat_missing_header_as_empty.
func matchHeader(header *route.HeaderMatcher, headers map[string]string) (bool, error) {
	value, present := headers[strings.ToLower(header.Name)]
	if !present && !header.TreatMissingHeaderAsEmpty {
		_, isPresentMatch := header.HeaderMatchSpecifier.(*route.HeaderMatcher_PresentMatch)
		if header.InvertMatch {
			return isPresentMatch && header.GetPresentMatch(), nil
		}
		return isPresentMatch && !header.GetPresentMatch(), nil
	}
	var matched bool
	switch specifier := header.HeaderMatchSpecifier.(type) {
	case *route.HeaderMatcher_ExactMatch:
		matched = value == specifier.ExactMatch
	case *route.HeaderMatcher_SafeRegexMatch:
		ok, err := fullMatch(specifier.SafeRegexMatch.Regex, value)
		if err != nil {
			return false, err
		}
		matched = ok
	case *route.HeaderMatcher_PrefixMatch:
		matched = strings.HasPrefix(value, specifier.PrefixMatch)
	case *route.HeaderMatcher_SuffixMatch:
		matched = strings.HasSuffix(value, specifier.SuffixMatch)
	case *route.HeaderMatcher_ContainsMatch:
		matched = strings.Contains(value, specifier.ContainsMatch)
	case *route.HeaderMatcher_PresentMatch:
		matched = present == specifier.PresentMatch
	case *route.HeaderMatcher_StringMatch:
		ok, err := matchString(specifier.StringMatch, value)
		if err != nil {
			return false, err
		}
		matched = ok
	default:
		return false, fmt.Errorf("header matcher %T on %s is not modelled", specifier, header.Name)
	}
	return matched != header.InvertMatch, nil
}

func matchString(match *matcher.StringMatcher, value string) (bool, error) {
	fold := func(s string) string {
		if match.IgnoreCase {
			return strings.ToLower(s)
		}
		return s
	}
	switch pattern := match.MatchPattern.(type) {
	case *matcher.StringMatcher_Exact:
		return fold(value) == fold(pattern.Exact), nil
	case *matcher.StringMatcher_Prefix:
		return strings.HasPrefix(fold(value), fold(pattern.Prefix)), nil
	case *matcher.StringMatcher_Suffix:
		return strings.HasSuffix(fold(value), fold(pattern.Suffix)), nil
	case *matcher.StringMatcher_Contains:
		return strings.Contains(fold(value), fold(pattern.Contains)), nil
	case *matcher.StringMatcher_SafeRegex:
		return fullMatch(pattern.SafeRegex.Regex, value)
	default:
		return false, fmt.Errorf("string matcher %T is not modelled", pattern)
	}
}

func describeAction(result *outcome, action *route.RouteAction) error {
	switch specifier := action.ClusterSpecifier.(type) {
	case *route.RouteAction_Cluster:
		result.Clusters = append(result.Clusters, clusterOutcome{Cluster: specifier.Cluster, Weight: 100, ResponseHeadersToAdd: []headerValue{}, RequestHeadersToAdd: []headerValue{}})
	case *route.RouteAction_WeightedClusters:
		for _, weighted := range specifier.WeightedClusters.Clusters {
			result.Clusters = append(result.Clusters, clusterOutcome{
				Cluster:              weighted.Name,
				Weight:               weighted.GetWeight().GetValue(),
				ResponseHeadersToAdd: headerValues(weighted.ResponseHeadersToAdd),
				RequestHeadersToAdd:  headerValues(weighted.RequestHeadersToAdd),
			})
		}
	default:
		return fmt.Errorf("cluster specifier %T is not modelled", specifier)
	}
	for _, mirror := range action.RequestMirrorPolicies {
		percent := 100.0
		if fraction := mirror.RuntimeFraction; fraction != nil {
			p, err := fractionPercent(fraction.DefaultValue)
			if err != nil {
				return err
			}
			percent = p
		}
		result.Mirrors = append(result.Mirrors, mirrorOutcome{Cluster: mirror.Cluster, Percent: percent, HostSuffixAppended: !mirror.DisableShadowHostSuffixAppend})
	}
	return nil
}

func fractionPercent(fraction *typev3.FractionalPercent) (float64, error) {
	if fraction == nil {
		return 0, nil
	}
	var denominator float64
	switch fraction.Denominator {
	case typev3.FractionalPercent_HUNDRED:
		denominator = 100
	case typev3.FractionalPercent_TEN_THOUSAND:
		denominator = 10_000
	case typev3.FractionalPercent_MILLION:
		denominator = 1_000_000
	default:
		return 0, fmt.Errorf("fraction denominator %v", fraction.Denominator)
	}
	// numerator*100 first: exact for the percentages a spec can hold (2.5% is 25000/1000000).
	return float64(fraction.Numerator) * 100 / denominator, nil
}

func headerValues(options []*core.HeaderValueOption) []headerValue {
	values := make([]headerValue, 0, len(options))
	for _, option := range options {
		values = append(values, headerValue{Header: option.Header.GetKey(), Value: option.Header.GetValue(), Append: option.AppendAction.String()})
	}
	return values
}

// validate runs Istio's own checks of generated routes (proto validation, unique names and
// domains, Istio's defaults) through a testing.TB that collects the errors.
func validate(routes []*route.RouteConfiguration) error {
	collector := &errorCollector{}
	xdstest.ValidateRouteConfigurations(collector, routes)
	if len(collector.errors) > 0 {
		return fmt.Errorf("%s", strings.Join(collector.errors, "; "))
	}
	return nil
}

// errorCollector is the testing.TB xdstest's validators take. Embedding the interface supplies its
// unexported method; only the methods the validators call are implemented.
type errorCollector struct {
	testing.TB
	errors []string
}

func (c *errorCollector) Helper() {}
func (c *errorCollector) Errorf(format string, args ...any) {
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}
func (c *errorCollector) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	panic(failed{})
}

// failer is the test.Failer the fake discovery server takes: a fatal error stops run with that error.
type failer struct {
	cleanups []func()
	err      error
	tempDirs []string
}

type failed struct{}

func (f *failer) run(body func() error) (err error) {
	defer func() {
		for i := len(f.cleanups) - 1; i >= 0; i-- {
			f.cleanups[i]()
		}
		for _, dir := range f.tempDirs {
			_ = os.RemoveAll(dir)
		}
	}()
	defer func() {
		if recovered := recover(); recovered != nil {
			if _, ok := recovered.(failed); !ok {
				panic(recovered)
			}
			err = f.err
		}
	}()
	return body()
}

func (f *failer) Fail()                             { f.fail(fmt.Errorf("failed")) }
func (f *failer) FailNow()                          { f.fail(fmt.Errorf("failed")) }
func (f *failer) Fatal(args ...any)                 { f.fail(fmt.Errorf("%s", fmt.Sprint(args...))) }
func (f *failer) Fatalf(format string, args ...any) { f.fail(fmt.Errorf(format, args...)) }
func (f *failer) Skip(args ...any)                  { f.fail(fmt.Errorf("skipped: %s", fmt.Sprint(args...))) }
func (f *failer) Log(args ...any)                   {}
func (f *failer) Logf(format string, args ...any)   {}
func (f *failer) Helper()                           {}
func (f *failer) Cleanup(cleanup func())            { f.cleanups = append(f.cleanups, cleanup) }
func (f *failer) TempDir() string {
	dir, err := os.MkdirTemp("", "istio-routes-")
	if err != nil {
		f.fail(err)
	}
	f.tempDirs = append(f.tempDirs, dir)
	return dir
}

func (f *failer) fail(err error) {
	f.err = err
	panic(failed{})
}
