#!/usr/bin/env python3
"""Captures the request bodies kubectl sends for its typed `create` commands.

Starts a plain-HTTP stand-in API server on 127.0.0.1 that answers discovery minimally and records each
POST body, runs kubectl against it with a throw-away kubeconfig, and writes <name>.bin beside this file
plus <name>.json (the same command with --dry-run=client -o json: the object kubectl means, as JSON)
and headers.txt (the method, path and Content-Type/Accept of each POST).

    python3 capture.py [kubectl]      # default: kubectl on PATH; never touches ~/.kube/config
"""
import http.server, json, os, re, subprocess, sys, tempfile, threading

HERE = os.path.dirname(os.path.abspath(__file__))
KUBECTL = sys.argv[1] if len(sys.argv) > 1 else "kubectl"

CAPTURES = [
    ("deployment-http", ["create", "deployment", "http", "--image=katacoda/docker-http-server:latest"]),
    ("deployment-web", ["create", "deployment", "web", "--image=nginx", "--replicas=3", "--port=80"]),
    ("deployment-sleeper-command", ["create", "deployment", "sleeper", "--image=busybox", "--", "sleep", "3600"]),
    ("service-nodeport-x", ["create", "service", "nodeport", "x", "--tcp=80:8080", "--node-port=30081"]),
    ("service-clusterip-y", ["create", "service", "clusterip", "y", "--tcp=8000:80"]),
    ("service-externalname-ext", ["create", "service", "externalname", "ext", "--external-name=example.com"]),
    ("namespace-demo", ["create", "namespace", "demo"]),
    ("configmap-c", ["create", "configmap", "c", "--from-literal=a=b"]),
    ("secret-s", ["create", "secret", "generic", "s", "--from-literal=a=b"]),
]

RESOURCES = {  # plural -> (groupVersion, kind, namespaced)
    "namespaces": ("v1", "Namespace", False), "services": ("v1", "Service", True),
    "configmaps": ("v1", "ConfigMap", True), "secrets": ("v1", "Secret", True),
    "pods": ("v1", "Pod", True), "deployments": ("apps/v1", "Deployment", True),
}

def resource_list(group_version):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": [
        {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
        for plural, (gv, kind, namespaced) in RESOURCES.items() if gv == group_version]}

DISCOVERY = {
    "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0"},
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{"name": "apps",
              "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
              "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/api/v1": resource_list("v1"),
    "/apis/apps/v1": resource_list("apps/v1"),
}

class Recorder(http.server.BaseHTTPRequestHandler):
    posts = []  # (path, headers, body)

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path in DISCOVERY:
            return self.reply(200, DISCOVERY[path])
        self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Recorder.posts.append((self.path, dict(self.headers.items()), body))
        # Answer in JSON to show kubectl accepts a JSON response to its protobuf request.
        m = re.match(r"^/apis?/(?:[^/]+/)?v1/(?:namespaces/([^/]+)/)?([a-z]+)", self.path)
        gv, kind, _ = RESOURCES.get(m.group(2), ("v1", "Unknown", False))
        meta = {"name": "captured", "uid": "1", "resourceVersion": "1"}
        if m.group(1):
            meta["namespace"] = m.group(1)
        self.reply(201, {"apiVersion": gv, "kind": kind, "metadata": meta})

def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.NamedTemporaryFile("w", suffix=".kubeconfig", delete=False) as kc:
        kc.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: capture, cluster: {{server: "http://127.0.0.1:{server.server_port}"}}}}]
users: [{{name: capture, user: {{token: capture}}}}]
contexts: [{{name: capture, context: {{cluster: capture, user: capture, namespace: default}}}}]
current-context: capture
""")
    env = dict(os.environ, KUBECONFIG=kc.name)
    version = subprocess.run([KUBECTL, "version", "--client"], env=env, capture_output=True, text=True).stdout
    lines = [version.splitlines()[0]]
    try:
        for name, args in CAPTURES:
            before = len(Recorder.posts)
            subprocess.run([KUBECTL, *args], env=env, check=True, capture_output=True)
            path, headers, body = Recorder.posts[before]
            with open(os.path.join(HERE, name + ".bin"), "wb") as f:
                f.write(body)
            cut = args.index("--") if "--" in args else len(args)  # flags after "--" would be the command's
            dry_run = [*args[:cut], "--dry-run=client", "-o", "json", *args[cut:]]
            as_json = subprocess.run([KUBECTL, *dry_run], env=env, check=True,
                                     capture_output=True, text=True).stdout
            with open(os.path.join(HERE, name + ".json"), "w") as f:
                f.write(as_json)
            lines.append(f"kubectl {' '.join(args)}\n  POST {path}\n  Content-Type: {headers.get('Content-Type')}\n"
                         f"  Accept: {headers.get('Accept')}\n  -> {name}.bin ({len(body)} bytes)")
    finally:
        os.unlink(kc.name)
        server.shutdown()
    with open(os.path.join(HERE, "headers.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

if __name__ == "__main__":
    main()
