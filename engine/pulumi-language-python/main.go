// pulumi-language-python (org-logging local build)
//
// The upstream Python language host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3), which
// the Go module proxy reachable from this workplace does not serve. This file
// is an independent, minimal implementation of the LanguageRuntime gRPC service
// for Python, written against the public packages of the served
// github.com/pulumi/pulumi/sdk/v3 module (python/toolchain, rpcutil, proto).
//
// It runs programs through the SDK's own `pulumi-language-python-exec` shim
// (shipped in the sdk/v3 module, copied next to this binary by
// build-engine.sh), installs dependencies through the SDK toolchain package
// (pip / poetry / uv), reports provider packages from `pulumi-plugin.json`
// files, and runs Python policy packs / plugins (RunPlugin). Code generation
// RPCs (GenerateProgram/Project/Package, Pack, Link, Template) are not
// implemented: `pulumi convert`, `pulumi package gen-sdk` etc. need the
// upstream binary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/contract"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	execShimName = "pulumi-language-python-exec"
	// Exit code used by the exec shim after it has already printed a user-facing error.
	exitCodeUserMessageShown = 32
)

func main() {
	var tracing, executor string
	flag.StringVar(&tracing, "tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	flag.StringVar(&executor, "use-executor", "", "Use the given program as the executor instead of the bundled shim")
	// Accepted for compatibility with the engine's historical command lines; the values come via ProgramInfo now.
	flag.String("virtualenv", "", "[obsolete]")
	flag.String("root", "", "[obsolete]")
	flag.String("typechecker", "", "[obsolete]")
	flag.String("toolchain", "", "[obsolete]")
	flag.Parse()

	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-python", "pulumi-language-python", tracing)

	if executor == "" {
		self, err := os.Executable()
		if err != nil {
			cmdutil.Exit(fmt.Errorf("could not determine current executable: %w", err))
		}
		executor = filepath.Join(filepath.Dir(self), execShimName)
		if _, err := os.Stat(executor); err != nil {
			cmdutil.Exit(fmt.Errorf("missing executor %s: %w", executor, err))
		}
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancelCh := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancelCh)
	}()

	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start health check: %w", err))
		}
	}

	host := &langHost{executor: executor, engineAddress: engineAddress, tracing: tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelCh,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

type langHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	executor      string
	engineAddress string
	tracing       string
}

// options converts the runtime options of Pulumi.yaml / PulumiPolicy.yaml into toolchain options.
func options(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	if info == nil {
		return toolchain.PythonOptions{}, errors.New("missing program info")
	}
	o := toolchain.PythonOptions{Root: info.RootDirectory, ProgramDir: info.ProgramDirectory}
	raw := map[string]interface{}{}
	if info.Options != nil {
		raw = info.Options.AsMap()
	}
	str := func(key string) (string, bool, error) {
		v, ok := raw[key]
		if !ok || v == nil {
			return "", false, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", true, fmt.Errorf("runtime option %q must be a string", key)
		}
		return s, true, nil
	}
	if s, ok, err := str("virtualenv"); err != nil {
		return o, err
	} else if ok {
		o.Virtualenv = s
	}
	if s, ok, err := str("typechecker"); err != nil {
		return o, err
	} else if ok {
		switch s {
		case "mypy":
			o.Typechecker = toolchain.TypeCheckerMypy
		case "pyright":
			o.Typechecker = toolchain.TypeCheckerPyright
		case "", "none":
		default:
			return o, fmt.Errorf("unsupported typechecker: %s", s)
		}
	}
	if s, ok, err := str("toolchain"); err != nil {
		return o, err
	} else if ok {
		switch s {
		case "pip":
			o.Toolchain = toolchain.Pip
		case "poetry":
			o.Toolchain = toolchain.Poetry
		case "uv":
			o.Toolchain = toolchain.Uv
		case "", "auto":
			o.Toolchain = toolchain.Auto
		default:
			return o, fmt.Errorf("unsupported toolchain: %s", s)
		}
	}
	return o, nil
}

// defaultPluginVenv makes plugins (policy packs) use ./venv when nothing else is configured:
// plugins are never run from the ambient interpreter.
func defaultPluginVenv(o *toolchain.PythonOptions) {
	if o.Virtualenv != "" {
		return
	}
	switch o.Toolchain {
	case toolchain.Pip:
		o.Virtualenv = "venv"
	case toolchain.Auto:
		for _, lock := range []string{"uv.lock", "poetry.lock"} {
			if _, err := os.Stat(filepath.Join(o.Root, lock)); err == nil {
				return
			}
		}
		o.Virtualenv = "venv"
	}
}

func (h *langHost) engineLogWriters(ctx context.Context) (io.Writer, io.Writer, io.Closer, error) {
	if h.engineAddress == "" {
		return os.Stdout, os.Stderr, io.NopCloser(nil), nil
	}
	conn, err := grpc.NewClient(h.engineAddress,
		grpc.WithTransportCredentials(insecure.NewCredentials()), rpcutil.GrpcChannelOptions())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("could not connect to engine: %w", err)
	}
	client := pulumirpc.NewEngineClient(conn)
	stream := rand.Int31() //nolint:gosec
	mk := func(sev pulumirpc.LogSeverity) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			_, err := client.Log(ctx, &pulumirpc.LogRequest{
				Message:   strings.ToValidUTF8(string(p), "\uFFFD"),
				Ephemeral: true,
				StreamId:  stream,
				Severity:  sev,
			})
			if err != nil {
				return 0, err
			}
			return len(p), nil
		})
	}
	return mk(pulumirpc.LogSeverity_INFO), mk(pulumirpc.LogSeverity_ERROR), conn, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (h *langHost) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.EngineAddress
	hctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	if err := rpcutil.Healthcheck(hctx, h.engineAddress, 5*time.Minute, stop); err != nil {
		stop()
		return nil, fmt.Errorf("could not start health check: %w", err)
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *langHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *langHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// listPulumiPackagesPy prints, as JSON, every installed distribution that either carries a
// pulumi-plugin.json file or whose name starts with "pulumi-"/"pulumi_".
const listPulumiPackagesPy = `
import json, sys
from importlib import metadata
out = []
for dist in metadata.distributions():
    name = dist.metadata["Name"] or ""
    plugin = None
    for f in (dist.files or []):
        if f.name == "pulumi-plugin.json":
            try:
                plugin = json.loads(f.read_text())
            except Exception as e:
                print("warning: cannot read %s: %s" % (f, e), file=sys.stderr)
            break
    norm = name.lower().replace("_", "-")
    if plugin is None and not norm.startswith("pulumi-"):
        continue
    out.append({"name": name, "version": dist.version, "plugin": plugin})
print(json.dumps(out))
`

type pyPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Plugin  *struct {
		Resource         bool   `json:"resource"`
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   []byte `json:"value"`
		} `json:"parameterization"`
	} `json:"plugin"`
}

// Packages that are Pulumi libraries without a resource plugin.
var noPluginPackages = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

func (h *langHost) GetRequiredPackages(ctx context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	opts, err := options(req.Info)
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	stdout, stderr, closer, err := h.engineLogWriters(ctx)
	if err != nil {
		return nil, err
	}
	defer contract.IgnoreClose(closer)
	if err := tc.EnsureVenv(ctx, req.Info.ProgramDirectory, false, true, stdout, stderr); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", listPulumiPackagesPy)
	if err != nil {
		return nil, err
	}
	cmd.Dir = req.Info.ProgramDirectory
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing installed python packages: %w", err)
	}
	var pkgs []pyPackage
	if err := json.Unmarshal(out, &pkgs); err != nil {
		return nil, fmt.Errorf("parsing installed python packages: %w", err)
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range pkgs {
		norm := strings.ToLower(strings.ReplaceAll(p.Name, "_", "-"))
		if noPluginPackages[norm] {
			continue
		}
		dep := &pulumirpc.PackageDependency{Kind: "resource"}
		if p.Plugin != nil {
			if !p.Plugin.Resource {
				continue
			}
			dep.Name, dep.Version, dep.Server = p.Plugin.Name, p.Plugin.Version, p.Plugin.Server
			if pz := p.Plugin.Parameterization; pz != nil {
				dep.Parameterization = &pulumirpc.PackageParameterization{
					Name: pz.Name, Version: pz.Version, Value: pz.Value,
				}
			}
		}
		if dep.Name == "" {
			dep.Name = strings.TrimPrefix(norm, "pulumi-")
		}
		if dep.Version == "" {
			v, ok := pep440ToSemver(p.Version)
			if !ok {
				logging.V(5).Infof("skipping %s: cannot map version %q to a plugin version", p.Name, p.Version)
				continue
			}
			dep.Version = v
		}
		if !strings.HasPrefix(dep.Version, "v") {
			dep.Version = "v" + dep.Version
		}
		resp.Packages = append(resp.Packages, dep)
	}
	return resp, nil
}

// pep440ToSemver maps the common PEP 440 shapes (N[.N[.N]][{a|b|rc}N][.postN][.devN]) onto semver.
func pep440ToSemver(v string) (string, bool) {
	i := 0
	digits := func() string {
		start := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		return v[start:i]
	}
	var parts []string
	for {
		d := digits()
		if d == "" {
			return "", false
		}
		parts = append(parts, d)
		if i < len(v) && v[i] == '.' && i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9' {
			i++
			continue
		}
		break
	}
	if len(parts) > 3 {
		return "", false
	}
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	res := strings.Join(parts, ".")
	rest := v[i:]
	for _, pre := range []struct{ py, sem string }{{"rc", "rc"}, {"a", "alpha"}, {"b", "beta"}} {
		if strings.HasPrefix(rest, pre.py) {
			i += len(pre.py)
			n := digits()
			if n == "" {
				return "", false
			}
			res += "-" + pre.sem + "." + n
			break
		}
	}
	build := ""
	if strings.HasPrefix(v[i:], ".post") {
		i += len(".post")
		build += "post" + digits()
	}
	if strings.HasPrefix(v[i:], ".dev") {
		i += len(".dev")
		build += "dev" + digits()
	}
	if i != len(v) {
		return "", false
	}
	if build != "" {
		res += "+" + build
	}
	return res, true
}

func (h *langHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := options(req.Info)
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "debugging is not supported by this language host build"}, nil
	}

	if err := runTypechecker(ctx, tc, opts, req.Info.ProgramDirectory); err != nil {
		return nil, err
	}

	args := []string{h.executor}
	flagArg := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engineAddress)
	flagArg("project", req.GetProject())
	flagArg("root_directory", req.GetInfo().GetRootDirectory())
	flagArg("stack", req.GetStack())
	flagArg("pwd", req.GetPwd())
	flagArg("dry_run", strconv.FormatBool(req.GetDryRun()))
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	flagArg("tracing", h.tracing)
	flagArg("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	if cfg := req.GetConfig(); cfg != nil {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("serializing config: %w", err)
		}
		env = append(env, "PULUMI_CONFIG="+string(b))
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	b, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing secret config keys: %w", err)
	}
	env = append(env, "PULUMI_CONFIG_SECRET_KEYS="+string(b))
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	if err := cmd.Run(); err != nil {
		contract.IgnoreError(os.Stdout.Sync())
		contract.IgnoreError(os.Stderr.Sync())
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				switch ws.ExitStatus() {
				case exitCodeUserMessageShown:
					return &pulumirpc.RunResponse{Bail: true}, nil
				case 0:
					return &pulumirpc.RunResponse{Error: "program exited unexpectedly: " + err.Error()}, nil
				default:
					return &pulumirpc.RunResponse{
						Error: fmt.Sprintf("program exited with non-zero exit code: %d", ws.ExitStatus()),
					}, nil
				}
			}
			return &pulumirpc.RunResponse{Error: "program exited unexpectedly: " + err.Error()}, nil
		}
		return &pulumirpc.RunResponse{
			Error: "problem executing program (could not run language executor): " + err.Error(),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func runTypechecker(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions, dir string) error {
	var name string
	switch opts.Typechecker {
	case toolchain.TypeCheckerMypy:
		name = "mypy"
	case toolchain.TypeCheckerPyright:
		name = "pyright"
	default:
		return nil
	}
	args := []string{}
	if name == "mypy" {
		if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
			if rel, err := filepath.Rel(dir, venv); err == nil {
				args = append(args, "--exclude", rel)
			}
		}
	}
	args = append(args, dir)
	cmd, err := tc.ModuleCommand(ctx, name, args...)
	if err != nil {
		return err
	}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed: %w", name, err)
	}
	return nil
}

func (h *langHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	opts, err := options(req.Info)
	if err != nil {
		return err
	}
	if req.IsPlugin {
		defaultPluginVenv(&opts)
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if err := tc.InstallDependencies(server.Context(), req.Info.ProgramDirectory,
		req.UseLanguageVersionTools, true, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

func (h *langHost) RuntimeOptionsPrompts(context.Context,
	*pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *langHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if req != nil && req.Info != nil {
		o, err := options(req.Info)
		if err != nil {
			return nil, err
		}
		opts = o
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: info.PythonExecutable, Version: info.PythonVersion.String()}, nil
}

func (h *langHost) GetProgramDependencies(ctx context.Context,
	req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := options(req.Info)
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.TransitiveDependencies)
	if err != nil {
		return nil, fmt.Errorf("failed to get python dependencies: %w", err)
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range pkgs {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return resp, nil
}

// RunPlugin runs a Python plugin such as a policy pack: `python <dir> args...` (its __main__.py), or, for a
// buildable package without __main__.py, `python -m pulumi.run.plugin <project name> args...`.
func (h *langHost) RunPlugin(req *pulumirpc.RunPluginRequest,
	server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	opts, err := options(req.Info)
	if err != nil {
		return err
	}
	defaultPluginVenv(&opts)
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return err
	}

	var cmd *exec.Cmd
	_, statErr := os.Stat(filepath.Join(opts.Root, "__main__.py"))
	if statErr != nil && !os.IsNotExist(statErr) {
		return statErr
	}
	hasMain := statErr == nil
	buildable := false
	if !hasMain {
		if buildable, err = toolchain.IsBuildablePackage(opts.Root); err != nil {
			return err
		}
	}
	if buildable {
		pyproject, err := toolchain.LoadPyproject(opts.Root)
		if err != nil {
			return fmt.Errorf("loading pyproject.toml: %w", err)
		}
		cmd, err = tc.ModuleCommand(ctx, "pulumi.run.plugin", append([]string{pyproject.Project.Name}, req.Args...)...)
		if err != nil {
			return err
		}
	} else {
		cmd, err = tc.Command(ctx, append([]string{req.Info.ProgramDirectory}, req.Args...)...)
		if err != nil {
			return err
		}
	}

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Dir = req.Pwd
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, req.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	logging.V(5).Infof("RunPlugin: %s", cmd.String())
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return server.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(ws.ExitStatus())}, //nolint:gosec
				})
			}
			return fmt.Errorf("plugin exited unexpectedly: %w", err)
		}
		return fmt.Errorf("could not run plugin: %w", err)
	}
	return closer.Close()
}
