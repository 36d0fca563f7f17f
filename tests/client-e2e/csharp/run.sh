#!/usr/bin/env bash
# Runs the official C# client's own end-to-end tests (kubernetes-client/csharp: tests/E2E.Tests, tests/E2E.Aot.Tests,
# tests/E2E.Classic.Tests — what its CI runs against minikube) against a cluster started by deploy/up.sh, built
# against the client release this repository pins (Directory.Packages.props: KubernetesClient, KubernetesClient.Aot).
#
# Usage: CSHARP_CLIENT_ROOT=/path/to/csharp tests/client-e2e/csharp/run.sh [suite...]
#   CSHARP_CLIENT_ROOT  a checkout of kubernetes-client/csharp; only tests/E2E.Tests, tests/E2E.Aot.Tests,
#                       tests/E2E.Classic.Tests and src/KubernetesClient.Kubectl are read. Not part of this repository;
#                       get it at the tag of the pinned release, or the commit nearest it, for example:
#                         git clone --filter=blob:none https://github.com/kubernetes-client/csharp "$CSHARP_CLIENT_ROOT"
#                         git -C "$CSHARP_CLIENT_ROOT" checkout v21.0.8   # when the tag exists
#                       or from a bare mirror: git -C MIRROR archive HEAD tests src/KubernetesClient.Kubectl | tar -x -C DIR
#   suite               e2e (tests/E2E.Tests: MinikubeTests and KubectlTests), aot (tests/E2E.Aot.Tests on
#                       KubernetesClient.Aot), classic (tests/E2E.Classic.Tests); default: all three.
# The cluster: deploy/up.sh with its node pulling Docker Hub images through the cluster's registry first, and the
# registry running (the node's --registry-mirror, given to deploy/up.sh's node as ORCHESTRATOR_NODE_REGISTRY_MIRROR):
#   ORCHESTRATOR_NODE_REGISTRY_MIRROR=127.0.0.1:5000 deploy/up.sh --registry && tests/client-e2e/csharp/run.sh
# (on this shared machine, inside the E2E lock: flock -w 900 /tmp/orchestrator-e2e.lock bash -c '...; deploy/down.sh').
#
# What the tests need and this script provides, as a user of a cluster without internet would:
#   - the images they name, nginx, httpd, ubuntu (all :latest, so pulled before every start: imagePullPolicy Always)
#     and busybox, pushed as library/<name>:latest into the registry the node uses as its Docker Hub mirror: nginx and
#     httpd are Debian's busybox-static serving a page with BusyBox httpd on port 80, ubuntu is busybox-static with
#     Debian's bash and GNU tar (the tests run /bin/bash -c, sleep infinity, tar, md5sum), busybox is the cluster's own
#     busybox:latest (deploy/images/build.sh), pushed as it is so the node's pull leaves that image unchanged;
#   - the client packages: the tests' csproj files point at the client's sources (ProjectReference), which need the
#     client's code generator and swagger.json; here they are compiled against the pinned NuGet packages instead, by
#     projects this script writes (net10.0, the runtime installed); the Classic client (net48, package
#     KubernetesClient.Classic) is neither installable nor runnable here, so E2E.Classic.Tests' sources are compiled
#     against KubernetesClient on net10.0: the same requests, not the same client build;
#   - KubernetesClient.Kubectl (KubectlTests' Kubectl class) has no package: its sources in the checkout are compiled;
#   - JsonPatch.Net (the tests' and Kubectl's JSON Patch from a document difference) is not served by the NuGet copy
#     here: JsonPatchStandIn/JsonPatch.cs beside this script stands in for the part they use (CreatePatch).
# The tests are enabled as the client's CI enables them: K8S_E2E_MINIKUBE=1 (MinikubeFactAttribute), and they read the
# kubeconfig as minikube's (KubernetesClientConfiguration.BuildDefaultConfig): this script writes one holding only
# the chosen context.
#
# Settings (environment): CSCLIENT_STATE_DIR (default: a new temporary directory: build, logs, TRX results),
#   CSCLIENT_CONTEXT (default: kubectl's current context), CSCLIENT_REGISTRY (default: $ORCH_REGISTRY or
#   127.0.0.1:5000; started with deploy/lib/registry.sh when nothing answers there), CSCLIENT_FILTER (dotnet test's
#   --filter, e.g. "FullyQualifiedName~LogStream"), CSCLIENT_HANG_TIMEOUT (default 6m: a test still running then is
#   stopped and the suite fails), CSCLIENT_BUILD_ONLY=1 (build the suites, touch no cluster).
# The summary lists every test with its outcome and, for a failure, the first line of its message; the exit status is
# 0 when no test failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ORCH_ROOT="$(cd "$here/../../.." && pwd)"
source "$ORCH_ROOT/deploy/lib/common.sh"

[ -n "${CSHARP_CLIENT_ROOT:-}" ] || die "CSHARP_CLIENT_ROOT is not set: point it at a kubernetes-client/csharp checkout (see this script's header)"
CSHARP_CLIENT_ROOT="$(cd "$CSHARP_CLIENT_ROOT" && pwd)" || die "CSHARP_CLIENT_ROOT '$CSHARP_CLIENT_ROOT' is not a directory"
for f in tests/E2E.Tests/MinikubeTests.cs tests/E2E.Tests/MinikubeFactAttribute.cs tests/E2E.Tests/Onebyone.cs \
         tests/E2E.Aot.Tests/MinikubeTests.cs tests/E2E.Classic.Tests/MinikubeTests.cs src/KubernetesClient.Kubectl; do
  [ -e "$CSHARP_CLIENT_ROOT/$f" ] || die "$CSHARP_CLIENT_ROOT/$f is missing (see this script's header)"
done
suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(e2e aot classic)
for s in "${suites[@]}"; do case "$s" in e2e|aot|classic) ;; *) die "unknown suite '$s' (e2e, aot, classic)" ;; esac; done
command -v kubectl >/dev/null || die "kubectl is not on PATH"
command -v docker >/dev/null || die "docker is not on PATH"

state="${CSCLIENT_STATE_DIR:-$(mktemp -d /tmp/csclient-e2e.XXXXXX)}"
mkdir -p "$state/build" "$state/results" "$state/logs"
registry="${CSCLIENT_REGISTRY:-${ORCH_REGISTRY:-127.0.0.1:5000}}"

versions_of() { # package: its version in this repository's Directory.Packages.props
  sed -n "s/.*PackageVersion Include=\"$1\" Version=\"\([^\"]*\)\".*/\1/p" "$ORCH_ROOT/Directory.Packages.props"
}

# --- the test projects: the client's sources, the pinned packages
client_version=$(versions_of KubernetesClient)
[ -n "$client_version" ] || die "no KubernetesClient version in $ORCH_ROOT/Directory.Packages.props"
b="$state/build"
# (no Directory.Build.props or central package management of a directory above is inherited)
echo '<Project />' >"$b/Directory.Build.props"
echo '<Project />' >"$b/Directory.Build.targets"
echo '<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>' \
  >"$b/Directory.Packages.props"
common_properties='<TargetFramework>net10.0</TargetFramework><Nullable>disable</Nullable><IsPackable>false</IsPackable>
    <RootNamespace>k8s.E2E</RootNamespace><NoWarn>$(NoWarn);CS1998;CS0618;CS8632;xUnit1031;xUnit1030;xUnit1048</NoWarn>
    <TreatWarningsAsErrors>false</TreatWarningsAsErrors><EnableDefaultCompileItems>false</EnableDefaultCompileItems>'
test_packages="<PackageReference Include=\"Microsoft.NET.Test.Sdk\" Version=\"$(versions_of Microsoft.NET.Test.Sdk)\" />
    <PackageReference Include=\"xunit\" Version=\"$(versions_of xunit)\" />
    <PackageReference Include=\"xunit.runner.visualstudio\" Version=\"$(versions_of xunit.runner.visualstudio)\" />
    <PackageReference Include=\"SharpZipLib\" Version=\"1.4.2\" />
    <PackageReference Include=\"Nito.AsyncEx.Coordination\" Version=\"5.1.2\" />"
mkdir -p "$b/JsonPatchStandIn" "$b/Kubectl" "$b/e2e" "$b/aot" "$b/classic"
cat >"$b/JsonPatchStandIn/JsonPatchStandIn.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><AssemblyName>JsonPatch.Net</AssemblyName></PropertyGroup>
  <ItemGroup><Compile Include="$here/JsonPatchStandIn/*.cs" /></ItemGroup>
</Project>
XML
# Rollout (no test calls it) as of a client whose ControllerRevision.Revision is a long, not the long? of
# KubernetesClient 21: left out when it does not compile against the pinned package
kubectl_exclude=""
if grep -q 'Revision = cr.Revision,' "$CSHARP_CLIENT_ROOT"/src/KubernetesClient.Kubectl/Beta/AsyncKubectl.Rollout.cs 2>/dev/null \
   && [ "${client_version%%.*}" -ge 21 ]; then
  kubectl_exclude="$CSHARP_CLIENT_ROOT/src/KubernetesClient.Kubectl/Beta/*Rollout.cs"
fi
cat >"$b/Kubectl/KubernetesClient.Kubectl.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable>
    <RootNamespace>k8s.kubectl</RootNamespace><EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <NoWarn>\$(NoWarn);CS0436</NoWarn></PropertyGroup>
  <ItemGroup><Compile Include="$CSHARP_CLIENT_ROOT/src/KubernetesClient.Kubectl/**/*.cs;ThisAssembly.cs"
    Exclude="$kubectl_exclude" /></ItemGroup>
  <ItemGroup>
    <PackageReference Include="KubernetesClient" Version="$client_version" />
    <ProjectReference Include="../JsonPatchStandIn/JsonPatchStandIn.csproj" />
  </ItemGroup>
</Project>
XML
# (its Version reads ThisAssembly, which Nerdbank.GitVersioning generates in the client's own build)
printf 'internal static class ThisAssembly\n{\n    internal const string AssemblyInformationalVersion = "%s";\n}\n' \
  "$client_version" >"$b/Kubectl/ThisAssembly.cs"
cat >"$b/e2e/E2E.Tests.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>$common_properties</PropertyGroup>
  <ItemGroup><Compile Include="$CSHARP_CLIENT_ROOT/tests/E2E.Tests/*.cs" /></ItemGroup>
  <ItemGroup>
    <PackageReference Include="KubernetesClient" Version="$client_version" />
    $test_packages
    <ProjectReference Include="../Kubectl/KubernetesClient.Kubectl.csproj" />
    <ProjectReference Include="../JsonPatchStandIn/JsonPatchStandIn.csproj" />
  </ItemGroup>
</Project>
XML
cat >"$b/aot/E2E.Aot.Tests.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>$common_properties</PropertyGroup>
  <ItemGroup>
    <Compile Include="$CSHARP_CLIENT_ROOT/tests/E2E.Aot.Tests/*.cs" />
    <Compile Include="$CSHARP_CLIENT_ROOT/tests/E2E.Tests/MinikubeFactAttribute.cs" />
    <Compile Include="$CSHARP_CLIENT_ROOT/tests/E2E.Tests/Onebyone.cs" />
  </ItemGroup>
  <ItemGroup>
    <PackageReference Include="KubernetesClient.Aot" Version="$(versions_of KubernetesClient.Aot | grep . || echo "$client_version")" />
    $test_packages
  </ItemGroup>
</Project>
XML
cat >"$b/classic/E2E.Classic.Tests.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>$common_properties</PropertyGroup>
  <ItemGroup>
    <Compile Include="$CSHARP_CLIENT_ROOT/tests/E2E.Classic.Tests/*.cs" />
    <Compile Include="$CSHARP_CLIENT_ROOT/tests/E2E.Tests/MinikubeFactAttribute.cs" />
    <Compile Include="$CSHARP_CLIENT_ROOT/tests/E2E.Tests/Onebyone.cs" />
  </ItemGroup>
  <ItemGroup>
    <PackageReference Include="KubernetesClient" Version="$client_version" />
    $test_packages
  </ItemGroup>
</Project>
XML

# --- build
declare -A suite_project=([e2e]=e2e/E2E.Tests.csproj [aot]=aot/E2E.Aot.Tests.csproj [classic]=classic/E2E.Classic.Tests.csproj)
for s in "${suites[@]}"; do
  step "building suite $s (KubernetesClient $client_version; log: $state/logs/build-$s.log)"
  dotnet build "$b/${suite_project[$s]}" -c Release -nologo -v quiet >"$state/logs/build-$s.log" 2>&1 \
    || { tail -n 20 "$state/logs/build-$s.log" >&2; die "suite $s did not build (see $state/logs/build-$s.log)"; }
done
[ "${CSCLIENT_BUILD_ONLY:-0}" = 1 ] && { step "built (CSCLIENT_BUILD_ONLY=1: not run)"; exit 0; }

# --- the kubeconfig: the chosen context alone, as minikube's kubeconfig is read by BuildDefaultConfig
context="${CSCLIENT_CONTEXT:-$(kubectl config current-context 2>/dev/null)}"
[ -n "$context" ] || die "no kubeconfig context: start the cluster with deploy/up.sh or set CSCLIENT_CONTEXT"
kubectl config view --raw --minify --flatten --context "$context" >"$state/kubeconfig" \
  || die "kubectl could not read context '$context'"
export KUBECONFIG="$state/kubeconfig"
kubectl get nodes >/dev/null || die "the cluster of context '$context' does not answer"
step "cluster: context '$context' ($(kubectl config view -o jsonpath='{.clusters[0].cluster.server}'))"

# --- the images, pushed into the registry the node mirrors Docker Hub from

busybox_rootfs() { # dir: Debian's busybox-static with every applet linked, and the files a shell and httpd read
  local root=$1 applet
  ensure_packages busybox-static
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/usr/bin" "$root/var/www"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'www-data:x:33:33:www-data:/var/www:/bin/false' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'www-data:x:33:' 'nogroup:x:65534:' >"$root/etc/group"
  printf '%s\n' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
}

import_image() { # dir name docker-import-change...
  local root=$1 name=$2; shift 2
  local changes=() c
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$root" -c . | docker import "${changes[@]}" \
    --change "LABEL org.opencontainers.image.description=\"Local stand-in for $name (tests/client-e2e/csharp/run.sh)\"" \
    - "$registry/library/$name:latest" >/dev/null || die "docker import of $name failed"
}

build_images() {
  local work; work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  # nginx and httpd: BusyBox httpd on port 80, in the foreground, serving the page the real images serve first
  local name dir
  for name in nginx httpd; do
    busybox_rootfs "$work/$name"
    case "$name" in
      nginx) dir=/usr/share/nginx/html; echo '<h1>Welcome to nginx!</h1>' ;;
      httpd) dir=/usr/local/apache2/htdocs; echo '<html><body><h1>It works!</h1></body></html>' ;;
    esac >"$work/index.html"
    mkdir -p "$work/$name$dir" && mv "$work/index.html" "$work/$name$dir/index.html"
    import_image "$work/$name" "$name" "CMD [\"httpd\", \"-f\", \"-v\", \"-p\", \"80\", \"-h\", \"$dir\"]" 'EXPOSE 80' \
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  done
  # ubuntu: the BusyBox tools and Debian's bash with the libraries it links
  busybox_rootfs "$work/ubuntu"
  local bash_path; bash_path=$(readlink -f "$(command -v bash)")
  rm -f "$work/ubuntu/bin/bash"
  cp -L "$bash_path" "$work/ubuntu/bin/bash"
  ldd "$bash_path" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$work/ubuntu$(dirname "$lib")" && cp -L "$lib" "$work/ubuntu$lib"
  done
  # and Debian's GNU tar: BusyBox tar reads its input to the end, and the tests' copy into a pod (tar -xmf - over exec,
  # whose v4 protocol cannot close stdin) waits for GNU tar to stop at the archive's end (their "not work with busybox")
  local tar_path; tar_path=$(readlink -f "$(command -v tar)")
  rm -f "$work/ubuntu/bin/tar"
  cp -L "$tar_path" "$work/ubuntu/bin/tar"
  ldd "$tar_path" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$work/ubuntu$(dirname "$lib")" && cp -L "$lib" "$work/ubuntu$lib"
  done
  import_image "$work/ubuntu" ubuntu 'CMD ["/bin/bash"]' 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  # busybox: the cluster's own image (deploy/images/build.sh), so pulling it leaves busybox:latest as it is
  docker image inspect busybox:latest >/dev/null 2>&1 \
    || die "no busybox:latest image: deploy/up.sh builds it (deploy/images/build.sh)"
  docker tag busybox:latest "$registry/library/busybox:latest"
}

if ! curl -s -o /dev/null -w '%{http_code}' "http://$registry/v2/" 2>/dev/null | grep -qE '^(200|401)$'; then
  "$ORCH_ROOT/deploy/lib/registry.sh" start "$registry" || die "could not start a registry on $registry"
fi
step "images nginx, httpd, ubuntu, busybox → $registry/library/<name>:latest"
build_images
for name in nginx httpd ubuntu busybox; do
  docker push -q "$registry/library/$name:latest" >>"$state/logs/push.log" 2>&1 \
    || die "docker push $registry/library/$name:latest failed (see $state/logs/push.log)"
done

# --- run, one suite after the other (the suites use the same pod names)
export K8S_E2E_MINIKUBE=1
for s in "${suites[@]}"; do
  step "running suite $s (log: $state/logs/test-$s.log)"
  rm -f "$state/results/$s.trx"
  # (the names, so a test the run never reported — aborted by the hang timeout or a crash — is still in the summary)
  dotnet test "$b/${suite_project[$s]}" -c Release --no-build -nologo --list-tests 2>/dev/null \
    | sed -n 's/^    \(k8s\.E2E\.[^ ]*\)$/\1/p' >"$state/results/$s.tests"
  filter=(); [ -n "${CSCLIENT_FILTER:-}" ] && filter=(--filter "$CSCLIENT_FILTER")
  dotnet test "$b/${suite_project[$s]}" -c Release --no-build -nologo "${filter[@]}" \
    --blame-hang-timeout "${CSCLIENT_HANG_TIMEOUT:-6m}" \
    --logger "trx;LogFileName=$state/results/$s.trx" --logger "console;verbosity=normal" \
    >"$state/logs/test-$s.log" 2>&1
done

# --- the summary, from the TRX files
python3 - "$state/results" "${suites[@]}" <<'PY'
import sys, os, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
results_dir, suites = sys.argv[1], sys.argv[2:]
passed = failed = other = 0
for suite in suites:
    path = os.path.join(results_dir, suite + ".trx")
    if not os.path.exists(path):
        print(f"{suite}: no results (the run did not finish; see its log)"); failed += 1; continue
    listed = open(os.path.join(results_dir, suite + ".tests")).read().split()
    reported = set()
    for r in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", ns):
        reported.add(r.get("testName"))
        outcome, name = r.get("outcome"), r.get("testName").replace("k8s.E2E.", "")
        message = r.findtext(".//t:Message", "", ns).strip().splitlines()
        if outcome == "Passed": passed += 1
        elif outcome == "Failed": failed += 1
        else: other += 1
        line = f"{suite:8} {outcome:8} {name}"
        if outcome != "Passed" and message: line += f"  — {message[0][:160]}"
        print(line)
    for name in listed:
        if name not in reported:
            failed += 1
            print(f"{suite:8} {'NotRun':8} {name.replace('k8s.E2E.', '')}  — no result: the run was aborted (hang"
                  f" timeout or crash) before or while it ran; see the suite's log")
print(f"{passed} passed, {failed} failed" + (f", {other} skipped" if other else ""))
sys.exit(1 if failed or passed == 0 else 0)
PY
