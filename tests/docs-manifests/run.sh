#!/usr/bin/env bash
# Applies the Kubernetes documentation's example manifests (kubernetes/website content/en/examples) to a cluster with
# `kubectl apply --dry-run=server` and prints a pass/fail table: every manifest is either accepted, or refused as
# expected-refusals.tsv says (the kinds this API server refuses on purpose, and the manifests the docs break on purpose
# or that need something outside any cluster), with the refusal's message checked.
#
# Usage: tests/docs-manifests/run.sh EXAMPLES-DIR [KUBECONFIG]
#   EXAMPLES-DIR  a copy of content/en/examples (any subset; paths in the table are relative to it)
#   KUBECONFIG    default: $KUBECONFIG or ~/.kube/config, its current context
# Namespaced objects without a namespace go to a scratch namespace; the namespaces the manifests name, and the
# PriorityClasses their pods name, are made first (as the doc pages do), and everything the script made is deleted at
# the end. Nothing else is created: every apply is a server-side dry run. Exit status 1 when a manifest is refused
# unexpectedly or an expected refusal is accepted or refused for another reason.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: tests/docs-manifests/run.sh EXAMPLES-DIR [KUBECONFIG]}"
dir="$(cd "$dir" && pwd)"
kubeconfig="${2:-${KUBECONFIG:-$HOME/.kube/config}}"
expected="$here/expected-refusals.tsv"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# a kubeconfig of our own whose current context's namespace is the scratch namespace (objects that name their
# namespace keep it; `-n` would refuse those)
scratch="docs-sweep-$(date +%s)"
kubectl --kubeconfig "$kubeconfig" config view --raw --minify >"$work/kubeconfig" || { echo "cannot read $kubeconfig" >&2; exit 2; }
export KUBECONFIG="$work/kubeconfig"
kubectl config set-context --current --namespace="$scratch" >/dev/null

made=() # what this script created, deleted at the end
cleanup() {
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do kubectl delete ${made[i]} --wait=false --ignore-not-found >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT

mapfile -t files < <(cd "$dir" && find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sed 's#^\./##' | LC_ALL=C sort)

# The namespaces the manifests name (metadata.namespace, or a subject's), and the PriorityClasses their pods name
for ns in "$scratch" $(cd "$dir" && cat "${files[@]}" 2>/dev/null \
    | sed -nE 's/^[[:space:]]*"?namespace"?:[[:space:]]*"?([a-z0-9]([-a-z0-9]*[a-z0-9])?)"?,?[[:space:]]*(#.*)?$/\1/p' | sort -u); do
  if ! kubectl get namespace "$ns" >/dev/null 2>&1; then
    kubectl create namespace "$ns" >/dev/null && made+=("namespace $ns")
  fi
done
# (not those a manifest of the sweep defines: its dry run would meet the class made here)
defined=" $(cd "$dir" && grep -l -E '^kind:[[:space:]]*PriorityClass' "${files[@]}" 2>/dev/null | xargs -r cat \
  | sed -nE 's/^  name:[[:space:]]*"?([a-z0-9.-]+)"?[[:space:]]*$/\1/p' | tr '\n' ' ') "
for pc in $(cd "$dir" && cat "${files[@]}" 2>/dev/null \
    | sed -nE 's/^[[:space:]]*"?priorityClassName"?:[[:space:]]*"?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)"?,?[[:space:]]*$/\1/p' | sort -u); do
  [[ "$defined" == *" $pc "* ]] && continue
  if ! kubectl get priorityclass "$pc" >/dev/null 2>&1; then
    kubectl create priorityclass "$pc" --value=1000 >/dev/null && made+=("priorityclass $pc")
  fi
done

# expected-refusals.tsv: path <TAB> category <TAB> a part of the message the refusal must contain
declare -A want_cat want_msg
if [ -f "$expected" ]; then
  while IFS=$'\t' read -r path cat msg; do
    [[ -z "$path" || "$path" == \#* ]] && continue
    want_cat[$path]=$cat want_msg[$path]=$msg
  done <"$expected"
fi

accepted=0 refused_expected=0 unexpected=0
declare -A per_cat
printf '%-78s %-9s %s\n' MANIFEST RESULT DETAIL
for f in "${files[@]}"; do
  out=$(kubectl apply --dry-run=server -f "$dir/$f" 2>"$work/err"); rc=$?
  err=$(grep -v '^Warning: ' "$work/err" | head -c 600 | tr '\n' ' ')
  warnings=$(grep '^Warning: ' "$work/err" | sed 's/^Warning: //' | tr '\n' ';')
  if [ $rc -eq 0 ]; then
    if [ -n "${want_cat[$f]:-}" ]; then
      result="UNEXPECTED"; detail="accepted, but expected refused (${want_cat[$f]}): ${want_msg[$f]}"; unexpected=$((unexpected + 1))
    else
      result="ok"; detail="$(echo "$out" | tr '\n' ' ' | cut -c1-120)"; accepted=$((accepted + 1))
    fi
  elif [ -n "${want_cat[$f]:-}" ] && grep -qF -- "${want_msg[$f]}" "$work/err"; then
    result="refused-${want_cat[$f]}"; detail="$err"; refused_expected=$((refused_expected + 1))
    per_cat[${want_cat[$f]}]=$(( ${per_cat[${want_cat[$f]}]:-0} + 1 ))
  else
    result="REFUSED"; detail="$err"; unexpected=$((unexpected + 1))
    [ -n "${want_cat[$f]:-}" ] && detail="$detail (expected: ${want_msg[$f]})"
  fi
  printf '%-78s %-9s %s\n' "$f" "$result" "$(echo "$detail" | cut -c1-400)"
  [ -n "$warnings" ] && printf '%-78s %-9s %s\n' "" warning "$warnings"
done
echo
echo "manifests: ${#files[@]}; accepted: $accepted; refused as expected: $refused_expected ($(for c in "${!per_cat[@]}"; do printf '%s: %s ' "$c" "${per_cat[$c]}"; done | sed 's/ $//')); unexpected: $unexpected"
for path in "${!want_cat[@]}"; do
  [ -f "$dir/$path" ] || echo "note: expected-refusals.tsv names $path, which is not in $dir"
done | LC_ALL=C sort
[ $unexpected -eq 0 ]
