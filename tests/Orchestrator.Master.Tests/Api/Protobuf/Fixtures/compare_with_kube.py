#!/usr/bin/env python3
"""Compares the decoder's messages (src/Orchestrator.Master/Api/Protobuf/Messages) with Kubernetes 1.32's.

For every message we declare, against the same message of kube's generated.proto at TAG (k8s.io/api, apimachinery,
apiextensions-apiserver, kube-aggregator): field numbers, repeated-ness and type names; fields we declare that 1.32
lacks (EXTRA: 1.32 skips them as unknown, so we must not declare them); fields 1.32 has that we lack (MISSING);
messages 1.32 does not have in that package. Then `optional` on scalar fields against Go pointers in the package's
types.go. Prints only differences, then "done".

    python3 compare_with_kube.py MIRRORS [TAG]
      MIRRORS: a directory holding git clones kubernetes+api, kubernetes+apimachinery,
               kubernetes+apiextensions-apiserver, kubernetes+kube-aggregator (each with TAG); TAG default v0.32.9
"""
import os, re, subprocess, sys

MIRRORS = sys.argv[1]
TAG = sys.argv[2] if len(sys.argv) > 2 else "v0.32.9"
HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGES = os.path.normpath(os.path.join(HERE, "../../../../../src/Orchestrator.Master/Api/Protobuf/Messages"))
# IntOrString and runtime.Unknown are read field by field by the decoder, which needs their presence: not checked.
VALUE_MESSAGES = {"k8s.io.apimachinery.pkg.util.intstr", "k8s.io.apimachinery.pkg.runtime"}
REPOS = [("k8s.io.api.", "api"), ("k8s.io.apimachinery.", "apimachinery"),
         ("k8s.io.apiextensions_apiserver.", "apiextensions-apiserver"), ("k8s.io.kube_aggregator.", "kube-aggregator")]


def git(repo, *args):
    path = os.path.join(MIRRORS, "kubernetes+" + repo)
    if os.path.isdir(os.path.join(path, "repo")): path = os.path.join(path, "repo")
    return subprocess.check_output(["git", "-C", path, *args]).decode()


def locate(package):
    for prefix, repo in REPOS:
        if package.startswith(prefix): return repo, package[len(prefix):].replace(".", "/")
    return None


def parse(text):
    """message -> {lower-case field name: (number, repeated, type name, optional)}"""
    messages = {}
    for m in re.finditer(r"^message (\w+) \{\n(.*?)^\}", text, re.S | re.M):
        fields = {}
        for line in m.group(2).split("\n"):
            f = re.match(r"(optional |repeated )?(map<[^>]+>|[\w.]+) (\w+) = (\d+)", line.split("//")[0].strip())
            if f:
                label = (f.group(1) or "").strip()
                fields[f.group(3).lower()] = (int(f.group(4)), label == "repeated" or f.group(2).startswith("map"),
                                              re.sub(r"\s", "", f.group(2)).split(".")[-1], label == "optional")
        messages[m.group(1)] = fields
    return messages


def go_fields(repo, path):
    files = git(repo, "ls-tree", "--name-only", TAG, path + "/").split()
    source = "".join(git(repo, "show", f"{TAG}:{f}") for f in files
                     if f.endswith(".go") and not re.search(r"generated|zz_|_test", f))
    structs = {}
    for m in re.finditer(r"^type (\w+) struct \{\n(.*?)^\}", source, re.S | re.M):
        structs[m.group(1)] = {f.group(2).lower(): f.group(1) for f in
                               re.finditer(r"^\s*\w+\s+(\S+)\s+`.*protobuf:\"[^\"]*name=(\w+)", m.group(2), re.M)}
    return structs


ours = {}
for name in sorted(os.listdir(MESSAGES)):
    if not name.endswith(".proto"): continue
    text = open(os.path.join(MESSAGES, name)).read()
    package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    for message, fields in parse(text).items(): ours.setdefault(package, {})[message] = (fields, name)

for package, messages in ours.items():
    where = locate(package)
    if where is None: continue
    kube = parse(git(where[0], "show", f"{TAG}:{where[1]}/generated.proto"))
    structs = go_fields(*where)
    for message, (fields, name) in messages.items():
        if message not in kube:
            print(name, "NOT IN KUBE", message)
            continue
        theirs = kube[message]
        for field, (number, repeated, type_, optional) in fields.items():
            if field not in theirs:
                print(name, message, "EXTRA", field, number)
            elif theirs[field][:3] != (number, repeated, type_):
                print(name, message, field, "ours", (number, repeated, type_), "kube", theirs[field][:3])
            go_type = structs.get(message, {}).get(field)
            scalar = not type_[0].isupper() or type_ in ("IntOrString", "Quantity")
            if go_type and scalar and not repeated and optional != go_type.startswith("*") and package not in VALUE_MESSAGES:
                print(name, message, field, "optional" if optional else "plain", "but Go has", go_type)
        for field in theirs:
            if field not in fields: print(name, message, "MISSING", field, theirs[field][:3])
print("done")
