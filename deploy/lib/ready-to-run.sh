# ReadyToRun compilation with the SDK's crossgen2, for deploy/lib/build.sh's default build and
# bench/scheduling/ready-to-run.sh (sourced after common.sh).

# The assemblies a start JIT-compiles by the hundreds before the node is Ready (measured by assembly with the runtime's
# JIT events, bench/startup.md): ours and these packages'. The rest stay IL: the framework is ReadyToRun already, and
# what it still JIT-compiles (its generics over our types: ~2,500 methods) a framework-dependent image cannot hold.
ready_to_run_names=(orchestrator-master.dll orchestrator-node.dll orchestrator-all-in-one.dll Orchestrator.Shared.dll
  Akka.dll Akka.Cluster.dll Akka.Remote.dll Akka.Hosting.dll Akka.Cluster.Hosting.dll Akka.Remote.Hosting.dll
  DotNetty.Common.dll DotNetty.Buffers.dll DotNetty.Codecs.dll DotNetty.Handlers.dll DotNetty.Transport.dll
  KubernetesClient.dll System.Configuration.ConfigurationManager.dll Prometheus.NetStandard.dll System.CommandLine.dll
  Microsoft.Data.Sqlite.dll SQLitePCLRaw.core.dll Newtonsoft.Json.dll Yarp.ReverseProxy.dll Google.Protobuf.dll
  YamlDotNet.dll Docker.DotNet.dll)

# crossgen2 of the SDK's own ReadyToRun compiler package (Microsoft.NETCore.App.Crossgen2.<rid>, the version the SDK
# picks), restored through a throwaway project: its path, printed
crossgen2_path() { # cache-directory
  local dir=$1 package
  if [ -x "$(cat "$dir/path" 2>/dev/null)" ]; then cat "$dir/path"; return 0; fi
  mkdir -p "$dir"
  cat >"$dir/crossgen2.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <!-- only restored, never built: deploy/lib/ready-to-run.sh asks it where the SDK's crossgen2 package is -->
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <RuntimeIdentifier>$(NETCoreSdkRuntimeIdentifier)</RuntimeIdentifier>
    <SelfContained>false</SelfContained>
    <PublishReadyToRun>true</PublishReadyToRun>
  </PropertyGroup>
</Project>
EOF
  # (the directory may lie in the source tree, ORCH_BUILD_DIR's default: none of its Directory.*.props apply)
  package=$(dotnet msbuild "$dir/crossgen2.csproj" -restore -nologo -v:quiet --disable-build-servers \
      -p:ImportDirectoryBuildProps=false -p:ImportDirectoryBuildTargets=false -p:ImportDirectoryPackagesProps=false \
      -t:ResolveTargetingPackAssets -getItem:ResolvedCrossgen2Pack 2>"$dir/restore.log" \
    | sed -n 's/^ *"PackageDirectory": "\(.*\)",\{0,1\}$/\1/p' | head -1)
  [ -x "$package/tools/crossgen2" ] || { tail -20 "$dir/restore.log" >&2; die "the SDK's crossgen2 package could not be restored (log: $dir/restore.log)"; }
  echo "$package/tools/crossgen2" >"$dir/path"
  echo "$package/tools/crossgen2"
}

# The newest .NET 10 runtimes here (the ones the processes roll forward to), which the images are compiled against:
# sets the caller's netcore and aspnetcore.
ready_to_run_runtimes() {
  local shared
  shared="$(dirname "$(readlink -f "$(command -v dotnet)")")/shared"
  netcore=$(ls -d "$shared/Microsoft.NETCore.App/10.0."* 2>/dev/null | sort -V | tail -1)
  aspnetcore=$(ls -d "$shared/Microsoft.AspNetCore.App/10.0."* 2>/dev/null | sort -V | tail -1)
  [ -n "$netcore" ] && [ -n "$aspnetcore" ] || die "no .NET 10 runtime (Microsoft.NETCore.App, Microsoft.AspNetCore.App) under $shared"
}

# crossgen2 of one assembly (its own version bubble, optimized) against the assemblies beside it and the runtimes of
# ready_to_run_runtimes ($crossgen2, $netcore, $aspnetcore set); the image is written whole or not at all; output to LOG.
crossgen2_compile() { # assembly image log
  if "$crossgen2" "$1" -o "$2.tmp" -O -r "$(dirname "$1")/*.dll" -r "$netcore/*.dll" -r "$aspnetcore/*.dll" >>"$3" 2>&1; then
    mv "$2.tmp" "$2"
  else
    rm -f "$2.tmp"
    return 1
  fi
}
