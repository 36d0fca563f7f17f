using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.E2E;

/// <summary>
/// The Kubernetes documentation's example manifests (kubernetes/website content/en/examples, as the docs have them)
/// for storage, networking, coordination, discovery, node, admission and aggregation kinds, applied with kubectl 1.32:
/// server-side dry run, then for real, then <c>kubectl get</c> with the columns a real cluster prints. Deliberately
/// broken manifests stay refused; the basic ValidatingAdmissionPolicy example denies what it should. Cluster-scoped
/// objects get a unique suffix; everything is deleted at the end.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class DocumentationKindsTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];

    private async Task<string> K(params string[] args)
    {
        var result = await cluster.Kubectl(args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)}\n{result.Output}{result.Error}");
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}\n{cluster.Logs()}");
        return result.Output;
    }

    private async Task<CommandResult> Try(string input, params string[] args)
    {
        var result = await cluster.KubectlWithInput(input, args);
        output.WriteLine($"$ kubectl {string.Join(' ', args)} <<EOF\n{input}\nEOF\n{result.Output}{result.Error}");
        return result;
    }

    /// <summary>Server-side dry run, then the real apply; both must succeed.</summary>
    private async Task<string> Apply(string manifest, string? ns = null)
    {
        string[] where = ns is null ? [] : ["-n", ns];
        var dry = await Try(manifest, ["apply", "--dry-run=server", "-f", "-", .. where]);
        Assert.True(dry.ExitCode == 0, $"dry run refused: {dry}");
        Assert.Contains("(server dry run)", dry.Output);
        var real = await Try(manifest, ["apply", "-f", "-", .. where]);
        Assert.True(real.ExitCode == 0, $"apply refused: {real}\n{cluster.Logs()}");
        return real.Output;
    }

    private string Unique(string name) => $"{name}-{_suffix}";

    // content/en/examples/storage/storageclass-low-latency.yaml
    private const string LowLatencyStorageClass = """
        ---
        {
          apiVersion: "storage.k8s.io/v1",
          kind: "StorageClass",
          metadata: {
            name: "low-latency",
            annotations: {
              storageclass.kubernetes.io/is-default-class: "false",
            },
          },
          provisioner: "csi-driver.example-vendor.example",
          reclaimPolicy: "Retain", # default value is Delete
          allowVolumeExpansion: true,
          mountOptions: [
            "discard", # this might enable UNMAP / TRIM at the block storage layer
          ],
          volumeBindingMode: "WaitForFirstConsumer",
          parameters: {
            guaranteedReadWriteLatency: "true", # provider-specific
          },
        }
        """;

    // content/en/examples/storage/storageclass/storageclass-local.yaml
    private const string LocalStorageClass = """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata:
          name: local-storage
        provisioner: kubernetes.io/no-provisioner # indicates that this StorageClass does not support automatic provisioning
        volumeBindingMode: WaitForFirstConsumer
        """;

    // content/en/examples/pods/storage/pv-volume.yaml
    private const string TaskPvVolume = """
        apiVersion: v1
        kind: PersistentVolume
        metadata:
          labels:
            type: local
          name: task-pv-volume
        spec:
          accessModes:
          - ReadWriteOnce
          capacity:
            storage: 10Gi
          hostPath:
            path: /mnt/data
          storageClassName: manual
        """;

    // content/en/examples/pods/storage/pv-claim.yaml
    private const string TaskPvClaim = """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: task-pv-claim
        spec:
          accessModes:
          - ReadWriteOnce
          resources:
            requests:
              storage: 3Gi
          storageClassName: manual
        """;

    // content/en/examples/service/networking/minimal-ingress.yaml
    private const string MinimalIngress = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: minimal-ingress
        spec:
          ingressClassName: nginx-example
          rules:
          - http:
              paths:
              - path: /testpath
                pathType: Prefix
                backend:
                  service:
                    name: test
                    port:
                      number: 80
        """;

    // content/en/examples/service/networking/name-virtual-host-ingress.yaml
    private const string NameVirtualHostIngress = """
        ---
        {
          apiVersion: "networking.k8s.io/v1",
          kind: "Ingress",
          metadata: {
            name: "name-virtual-host-ingress",
          },
          spec: {
            rules: [{
              host: "foo.bar.com",
              http: {
                paths: [{
                  pathType: "Prefix",
                  path: "/",
                  backend: {
                    service: {
                      name: "service1",
                      port: {
                        number: 80,
                      },
                    },
                  },
                }],
              },
            }, {
              host: "bar.foo.com",
              http: {
                paths: [{
                  pathType: "Prefix",
                  path: "/",
                  backend: {
                    service: {
                      name: "service2",
                      port: {
                        number: 80,
                      },
                    },
                  },
                }],
              },
            }],
          },
        }
        """;

    // content/en/examples/service/networking/ingress-resource-backend.yaml
    private const string ResourceBackendIngress = """
        ---
        {
          apiVersion: "networking.k8s.io/v1",
          kind: "Ingress",
          metadata: {
            name: "ingress-resource-backend",
          },
          spec: {
            defaultBackend: {
              resource: {
                apiGroup: "k8s.example.com",
                kind: "StorageBucket",
                name: "static-assets",
              },
            },
            rules: [{
              http: {
                paths: [{
                  path: "/icons",
                  pathType: "ImplementationSpecific",
                  backend: {
                    resource: {
                      apiGroup: "k8s.example.com",
                      kind: "StorageBucket",
                      name: "icon-assets",
                    },
                  },
                }],
              },
            }],
          },
        }
        """;

    // content/en/examples/service/networking/default-ingressclass.yaml
    private const string DefaultIngressClass = """
        ---
        {
          apiVersion: "networking.k8s.io/v1",
          kind: "IngressClass",
          metadata: {
            labels: {
              app.kubernetes.io/component: "controller",
            },
            name: "example-class",
            annotations: {
              ingressclass.kubernetes.io/is-default-class: "true",
            },
          },
          spec: {
            controller: "k8s.io/example-class",
          },
        }
        """;

    // content/en/examples/service/networking/networkpolicy.yaml
    private const string TestNetworkPolicy = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: test-network-policy
          namespace: default
        spec:
          podSelector:
            matchLabels:
              role: db
          policyTypes:
          - Ingress
          - Egress
          ingress:
          - from:
            - ipBlock:
                cidr: 172.17.0.0/16
                except:
                - 172.17.1.0/24
            - namespaceSelector:
                matchLabels:
                  project: myproject
            - podSelector:
                matchLabels:
                  role: frontend
            ports:
            - protocol: TCP
              port: 6379
          egress:
          - to:
            - ipBlock:
                cidr: 10.0.0.0/24
            ports:
            - protocol: TCP
              port: 5978
        """;

    // content/en/examples/validatingadmissionpolicy/basic-example-policy.yaml
    private const string BasicExamplePolicy = """
        ---
        {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicy",
          metadata: {
            name: "demo-policy.example.com",
          },
          spec: {
            failurePolicy: "Fail",
            matchConstraints: {
              resourceRules: [{
                apiGroups: [
                  "apps",
                ],
                apiVersions: [
                  "v1",
                ],
                operations: [
                  "CREATE",
                  "UPDATE",
                ],
                resources: [
                  "deployments",
                ],
              }],
            },
            validations: [{
              expression: "object.spec.replicas <= 5",
            }],
          },
        }
        """;

    [Fact]
    public async Task Pods_and_services_of_the_docs_get_the_answers_and_warnings_of_kube_apiserver_1_32()
    {
        var ns = Unique("docs-answers");
        await K("create", "namespace", ns);
        try
        {
            // content/en/examples/pods/security/hello-apparmor.yaml: stored, with the deprecation warning kubectl prints
            var apparmor = await Try("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: hello-apparmor
                  annotations:
                    container.apparmor.security.beta.kubernetes.io/hello: localhost/k8s-apparmor-example-deny-write
                spec:
                  containers:
                  - name: hello
                    image: busybox:1.28
                    command: [ "sh", "-c", "echo 'Hello AppArmor!' && sleep 1h" ]
                """, "apply", "--dry-run=server", "-n", ns, "-f", "-");
            Assert.Equal(0, apparmor.ExitCode);
            Assert.Contains("Warning: metadata.annotations[container.apparmor.security.beta.kubernetes.io/hello]: deprecated since v1.30; " +
                            "use the \"appArmorProfile\" field instead", apparmor.Error);

            // service/networking/dual-stack-ipfamilies-ipv6.yaml: this cluster's service range is IPv4 only
            var ipv6 = await Try("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: my-service
                spec:
                  ipFamilies:
                  - IPv6
                  selector:
                    app.kubernetes.io/name: MyApp
                  ports:
                    - protocol: TCP
                      port: 80
                """, "apply", "-n", ns, "-f", "-");
            Assert.NotEqual(0, ipv6.ExitCode);
            Assert.Contains("spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster", ipv6.Error);

            // pods/pod-with-numeric-toleration.yaml and restart-policy/restart-all-containers.yaml are of later releases
            var numeric = await Try("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: nginx-numeric-toleration
                spec:
                  containers:
                  - name: nginx
                    image: nginx
                  tolerations:
                  - key: "servicelevel.organization.example/agreed-service-level"
                    operator: "Gt"
                    value: "900"
                    effect: "NoSchedule"
                """, "apply", "--dry-run=server", "-n", ns, "-f", "-");
            Assert.NotEqual(0, numeric.ExitCode);
            Assert.Contains("spec.tolerations[0].operator: Unsupported value: \"Gt\": supported values: \"Equal\", \"Exists\"", numeric.Error);
            var rules = await Try("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: ml-worker
                spec:
                  initContainers:
                  - name: watcher-sidecar
                    image: busybox
                    restartPolicy: Always
                    restartPolicyRules:
                    - action: RestartAllContainers
                      exitCodes:
                        operator: In
                        values: [88]
                  containers:
                  - name: main-application
                    image: busybox
                """, "apply", "--dry-run=server", "-n", ns, "-f", "-");
            Assert.NotEqual(0, rules.ExitCode);
            Assert.Contains("strict decoding error: unknown field \"spec.initContainers[0].restartPolicyRules\"", rules.Error);
        }
        finally
        {
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }

    /// <summary>
    /// The docs' "Init Containers" page (content/en/examples/pods/init-containers.yaml, the manifests as the page has
    /// them): busybox:1.28's init containers loop on nslookup until their Services exist, so the pod shows Init:0/2,
    /// then Running once both Services are created; the init containers' logs show the wait and the answer.
    /// </summary>
    [Fact]
    public async Task Init_containers_of_the_docs_wait_for_their_services_with_busybox_1_28()
    {
        var ns = Unique("docs-init");
        await K("create", "namespace", ns);
        try
        {
            await Apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: myapp-pod
                  labels:
                    app.kubernetes.io/name: MyApp
                spec:
                  containers:
                  - name: myapp-container
                    image: busybox:1.28
                    command: ['sh', '-c', 'echo The app is running! && sleep 3600']
                  initContainers:
                  - name: init-myservice
                    image: busybox:1.28
                    command: ['sh', '-c', "until nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; do echo waiting for myservice; sleep 2; done"]
                  - name: init-mydb
                    image: busybox:1.28
                    command: ['sh', '-c', "until nslookup mydb.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; do echo waiting for mydb; sleep 2; done"]
                """, ns);
            await cluster.Eventually(async () =>
                Assert.Contains("waiting for myservice", await K("logs", "myapp-pod", "-c", "init-myservice", "-n", ns)),
                "the first init container waits for its Service");
            Assert.Matches(@"(?m)^myapp-pod\s+0/1\s+Init:0/2\s", await K("get", "pod", "myapp-pod", "-n", ns));

            await Apply("""
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: myservice
                spec:
                  ports:
                  - protocol: TCP
                    port: 80
                    targetPort: 9376
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: mydb
                spec:
                  ports:
                  - protocol: TCP
                    port: 80
                    targetPort: 9377
                """, ns);
            await cluster.Eventually(async () =>
                Assert.Matches(@"(?m)^myapp-pod\s+1/1\s+Running\s", await K("get", "pod", "myapp-pod", "-n", ns)),
                "the pod runs once both Services resolve", TimeSpan.FromSeconds(90));
            Assert.Contains($"myservice.{ns}.svc.cluster.local", await K("logs", "myapp-pod", "-c", "init-myservice", "-n", ns));
            Assert.Contains("The app is running!", await K("logs", "myapp-pod", "-c", "myapp-container", "-n", ns));
            Assert.Contains("busybox:1.28", await K("get", "pod", "myapp-pod", "-n", ns, "-o", "jsonpath={.status.initContainerStatuses[1].image}"));
        }
        finally
        {
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }

    [Fact]
    public async Task Api_resources_lists_the_kinds_and_explain_describes_them()
    {
        var resources = await K("api-resources");
        foreach (var line in new[]
                 {
                     @"persistentvolumeclaims\s+pvc\s+v1\s+true\s+PersistentVolumeClaim",
                     @"persistentvolumes\s+pv\s+v1\s+false\s+PersistentVolume",
                     @"podtemplates\s+v1\s+true\s+PodTemplate",
                     @"storageclasses\s+sc\s+storage.k8s.io/v1\s+false\s+StorageClass",
                     @"csidrivers\s+storage.k8s.io/v1\s+false\s+CSIDriver",
                     @"volumeattachments\s+storage.k8s.io/v1\s+false\s+VolumeAttachment",
                     @"ingresses\s+ing\s+networking.k8s.io/v1\s+true\s+Ingress",
                     @"ingressclasses\s+networking.k8s.io/v1\s+false\s+IngressClass",
                     @"networkpolicies\s+netpol\s+networking.k8s.io/v1\s+true\s+NetworkPolicy",
                     @"leases\s+coordination.k8s.io/v1\s+true\s+Lease",
                     @"endpointslices\s+discovery.k8s.io/v1\s+true\s+EndpointSlice",
                     @"runtimeclasses\s+node.k8s.io/v1\s+false\s+RuntimeClass",
                     @"validatingadmissionpolicies\s+admissionregistration.k8s.io/v1\s+false\s+ValidatingAdmissionPolicy",
                     @"apiservices\s+apiregistration.k8s.io/v1\s+false\s+APIService",
                 })
            Assert.Matches($@"(?m)^{line}\s*$", resources);

        Assert.Contains("FIELD: spec <IngressSpec>", await K("explain", "ingress.spec"));
        Assert.Matches(@"storageClassName\s+<string>", await K("explain", "pvc.spec"));
        Assert.Contains("KIND:       StorageClass", await K("explain", "storageclass"));
    }

    [Fact]
    public async Task Storage_examples_are_accepted_and_listed_with_their_columns()
    {
        var ns = Unique("docs-storage");
        await K("create", "namespace", ns);
        var lowLatency = Unique("low-latency");
        var local = Unique("local-storage");
        var volume = Unique("task-pv-volume");
        try
        {
            Assert.Contains($"storageclass.storage.k8s.io/{lowLatency} created", await Apply(LowLatencyStorageClass.Replace("\"low-latency\"", $"\"{lowLatency}\"")));
            await Apply(LocalStorageClass.Replace("local-storage", local));
            var classes = await K("get", "storageclass", lowLatency, local);
            Assert.Matches(@"^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE", classes);
            Assert.Matches($@"(?m)^{lowLatency}\s+csi-driver.example-vendor.example\s+Retain\s+WaitForFirstConsumer\s+true\s+\d+s", classes);
            Assert.Matches($@"(?m)^{local}\s+kubernetes.io/no-provisioner\s+Delete\s+WaitForFirstConsumer\s+false\s+\d+s", classes);

            Assert.Contains($"persistentvolume/{volume} created", await Apply(TaskPvVolume.Replace("task-pv-volume", volume)));
            await cluster.Eventually(async () =>
            {
                var pv = await K("get", "pv", volume);
                Assert.Matches(@"^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE", pv);
                Assert.Matches($@"(?m)^{volume}\s+10Gi\s+RWO\s+Retain\s+Available\s+manual\s+<unset>\s+\d+s", pv);
            }, "the volume turns Available");

            Assert.Contains("persistentvolumeclaim/task-pv-claim created", await Apply(TaskPvClaim, ns));
            // The claim is bound to the volume (the docs' "Configure a Pod to Use a PersistentVolume for Storage")
            await cluster.Eventually(async () =>
            {
                var pvc = await K("get", "pvc", "task-pv-claim", "-n", ns, "-o", "wide");
                Assert.Matches(@"^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\s+VOLUMEMODE", pvc);
                Assert.Matches($@"(?m)^task-pv-claim\s+Bound\s+{volume}\s+10Gi\s+RWO\s+manual\s+<unset>\s+\d+s\s+Filesystem", pvc);
                Assert.Matches($@"(?m)^{volume}\s+10Gi\s+RWO\s+Retain\s+Bound\s+{ns}/task-pv-claim\s+manual\s+<unset>\s+\d+s", await K("get", "pv", volume));
            }, "the claim and the volume are Bound");
            Assert.Matches(@"StorageClass:\s+manual", await K("describe", "pvc", "task-pv-claim", "-n", ns));

            // A claim's spec is immutable (except what Kubernetes lets change), and a broken claim is refused
            var patch = await cluster.Kubectl("patch", "pvc", "task-pv-claim", "-n", ns, "--type=merge", "-p", """{"spec":{"accessModes":["ReadWriteMany"]}}""");
            Assert.NotEqual(0, patch.ExitCode);
            Assert.Contains("spec is immutable after creation", patch.Error);
            var broken = await Try(TaskPvClaim.Replace("task-pv-claim", "no-size").Replace("storage: 3Gi", "cpu: 1"), "apply", "-n", ns, "-f", "-");
            Assert.NotEqual(0, broken.ExitCode);
            Assert.Contains("spec.resources[storage]: Required value", broken.Error);

            // Its claim deleted, the volume (reclaim policy Retain) is Released
            await K("delete", "pvc", "task-pv-claim", "-n", ns);
            await cluster.Eventually(async () =>
                Assert.Matches($@"(?m)^{volume}\s+10Gi\s+RWO\s+Retain\s+Released\s+{ns}/task-pv-claim\s+", await K("get", "pv", volume)),
                "the volume is Released");
        }
        finally
        {
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
            await cluster.Kubectl("delete", "pv", volume, "--ignore-not-found");
            await cluster.Kubectl("delete", "storageclass", lowLatency, local, "--ignore-not-found");
        }
    }

    [Fact]
    public async Task Networking_examples_are_accepted_and_listed_with_their_columns()
    {
        var ns = Unique("docs-net");
        await K("create", "namespace", ns);
        var exampleClass = Unique("example-class");
        try
        {
            await Apply(MinimalIngress, ns);
            await Apply(NameVirtualHostIngress, ns);
            await Apply(ResourceBackendIngress, ns);
            var ingresses = await K("get", "ingress", "-n", ns);
            Assert.Matches(@"^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE", ingresses);
            Assert.Matches(@"(?m)^minimal-ingress\s+nginx-example\s+\*\s+80\s+\d+s", ingresses);
            // the cluster's default IngressClass is given to Ingresses that name none (kube's DefaultIngressClass
            // admission); its controller fills ADDRESS
            Assert.Matches(@"(?m)^name-virtual-host-ingress\s+orchestrator\s+foo.bar.com,bar.foo.com\s+(\S+\s+)?80\s+\d+s", ingresses);
            Assert.Matches(@"(?m)^ingress-resource-backend\s+orchestrator\s+\*\s+(\S+\s+)?80\s+\d+s", ingresses);

            // kubectl create ingress sends protobuf
            Assert.Equal("ingress.networking.k8s.io/simple created\n",
                await K("create", "ingress", "simple", "-n", ns, "--rule=foo.com/bar=svc1:8080,tls=my-cert"));
            Assert.Matches(@"(?m)^simple\s+orchestrator\s+foo.com\s+(\S+\s+)?80, 443\s+\d+s", await K("get", "ingress", "simple", "-n", ns));
            Assert.Matches(@"Host\s+Path\s+Backends", await K("describe", "ingress", "simple", "-n", ns));

            // The default IngressClass is given to an Ingress that names none
            await Apply(DefaultIngressClass.Replace("\"example-class\"", $"\"{exampleClass}\""));
            Assert.Matches($@"(?m)^{exampleClass}\s+k8s.io/example-class\s+<none>\s+\d+s", await K("get", "ingressclass", exampleClass));
            await K("create", "ingress", "defaulted", "-n", ns, "--rule=bar.com/=svc2:http");
            Assert.Equal(exampleClass, await K("get", "ingress", "defaulted", "-n", ns, "-o", "jsonpath={.spec.ingressClassName}"));

            await Apply(TestNetworkPolicy.Replace("namespace: default", $"namespace: {ns}"));
            var policies = await K("get", "networkpolicy", "-n", ns);
            Assert.Matches(@"^NAME\s+POD-SELECTOR\s+AGE", policies);
            Assert.Matches(@"(?m)^test-network-policy\s+role=db\s+\d+s", policies);

            // Broken: a path without pathType
            var broken = await Try(MinimalIngress.Replace("name: minimal-ingress", "name: broken").Replace("        pathType: Prefix\n", ""), "apply", "-n", ns, "-f", "-");
            Assert.NotEqual(0, broken.ExitCode);
            Assert.Contains("spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified", broken.Error);
        }
        finally
        {
            await cluster.Kubectl("delete", "ingressclass", exampleClass, "--ignore-not-found");
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }

    [Fact]
    public async Task Leases_slices_runtime_classes_and_api_services_are_stored_and_admission_policies_enforced()
    {
        var ns = Unique("docs-misc");
        await K("create", "namespace", ns);
        var runtimeClass = Unique("myclass");
        var apiService = $"v1alpha1.{Unique("metrics")}.example.com";
        var policyName = $"{Unique("demo-policy")}.example.com";
        try
        {
            // Nodes renew their lease in kube-node-lease
            await cluster.Eventually(async () =>
                Assert.Matches($@"(?m)^{ClusterFixture.NodeName}\s+{ClusterFixture.NodeName}\s+\d+", await K("get", "lease", "-n", "kube-node-lease")),
                "the node's lease");
            await Apply($$"""
                apiVersion: coordination.k8s.io/v1
                kind: Lease
                metadata:
                  name: my-lock
                spec:
                  holderIdentity: candidate-1
                  leaseDurationSeconds: 15
                """, ns);
            Assert.Matches(@"(?m)^my-lock\s+candidate-1\s+\d+s", await K("get", "lease", "my-lock", "-n", ns));

            // A selectorless Service with hand-written Endpoints is mirrored into an EndpointSlice
            await Apply("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: my-service
                spec:
                  ports:
                    - name: http
                      protocol: TCP
                      port: 80
                      targetPort: 9376
                ---
                apiVersion: v1
                kind: Endpoints
                metadata:
                  name: my-service
                subsets:
                  - addresses:
                      - ip: 10.4.5.6
                    ports:
                      - name: http
                        port: 9376
                """, ns);
            await cluster.Eventually(async () =>
                Assert.Matches(@"(?m)^my-service-\w+\s+IPv4\s+9376\s+10.4.5.6\s+\d+s",
                    await K("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=my-service")),
                "the mirrored endpoint slice");

            // content/en/docs/concepts/containers/runtime-class.md
            await Apply($"""
                apiVersion: node.k8s.io/v1
                kind: RuntimeClass
                metadata:
                  name: {runtimeClass}
                handler: myconfiguration
                """);
            Assert.Matches($@"(?m)^{runtimeClass}\s+myconfiguration\s+\d+s", await K("get", "runtimeclass", runtimeClass));

            // An APIService backed by a Service whose endpoint (10.4.5.6:9376) answers nothing fails the aggregator's
            // discovery check
            await Apply($$"""
                apiVersion: apiregistration.k8s.io/v1
                kind: APIService
                metadata:
                  name: {{apiService}}
                spec:
                  group: {{apiService["v1alpha1.".Length..]}}
                  version: v1alpha1
                  groupPriorityMinimum: 1000
                  versionPriority: 15
                  insecureSkipTLSVerify: true
                  service:
                    name: my-service
                    namespace: {{ns}}
                    port: 80
                """);
            await cluster.Eventually(async () =>
                Assert.Matches($@"(?m)^{apiService.Replace(".", @"\.")}\s+{ns}/my-service\s+False \(FailedDiscoveryCheck\)\s+\d+s",
                    await K("get", "apiservice", apiService)), "the failed discovery check", TimeSpan.FromSeconds(60));

            // content/en/docs/reference/access-authn-authz/validating-admission-policy.md: the basic example, its binding
            // scoped to this test's namespace by a label, denies a Deployment of more than 5 replicas with kube's message
            var policy = BasicExamplePolicy.Replace("demo-policy.example.com", policyName);
            var dryRun = await Try(policy, "apply", "--dry-run=server", "-f", "-");
            Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
            Assert.Contains("NotFound", (await cluster.Kubectl("get", "validatingadmissionpolicy", policyName)).Error); // a dry run stores nothing
            await Apply(policy);
            await K("label", "namespace", ns, $"environment={ns}");
            await Apply($$"""
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata:
                  name: {{policyName}}-binding
                spec:
                  policyName: {{policyName}}
                  validationActions: [Deny]
                  matchResources:
                    namespaceSelector:
                      matchLabels:
                        environment: {{ns}}
                """);
            await cluster.Eventually(async () =>
            {
                var denied = await cluster.Kubectl("create", "deployment", "too-many", "-n", ns, "--image=busybox:1.36", "--replicas=6");
                Assert.NotEqual(0, denied.ExitCode);
                Assert.Contains($"deployments.apps \"too-many\" is forbidden: ValidatingAdmissionPolicy '{policyName}' with binding " +
                                $"'{policyName}-binding' denied request: failed expression: object.spec.replicas <= 5", denied.Error);
            }, "the policy denies 6 replicas");
            await K("create", "deployment", "few", "-n", ns, "--image=busybox:1.36", "--replicas=0");
        }
        finally
        {
            await cluster.Kubectl("delete", "validatingadmissionpolicybinding", $"{policyName}-binding", "--ignore-not-found");
            await cluster.Kubectl("delete", "validatingadmissionpolicy", policyName, "--ignore-not-found");
            await cluster.Kubectl("delete", "apiservice", apiService, "--ignore-not-found");
            await cluster.Kubectl("delete", "runtimeclass", runtimeClass, "--ignore-not-found");
            await cluster.Kubectl("delete", "namespace", ns, "--wait=false");
        }
    }
}
