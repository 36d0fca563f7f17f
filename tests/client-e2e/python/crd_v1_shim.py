"""pytest plugin (-p crd_v1_shim): python-base's dynamic client tests create CRDs as apiextensions.k8s.io/v1beta1
(gone since Kubernetes 1.22); this sends them as v1, with the schema v1 requires (an object keeping unknown fields)."""


def _to_v1(body):
    spec = dict(body['spec'])
    version = spec.pop('version')
    version_entry = {'name': version, 'served': True, 'storage': True,
                     'schema': {'openAPIV3Schema': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}}}
    if 'subresources' in spec:
        version_entry['subresources'] = spec.pop('subresources')
    spec['versions'] = [version_entry]
    return dict(body, apiVersion='apiextensions.k8s.io/v1', spec=spec)


class _V1Crds:
    def __init__(self, resource):
        self._resource = resource

    def create(self, body, *args, **kwargs):
        return self._resource.create(_to_v1(body), *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._resource, name)


def _get_v1(_get, self, **kwargs):
    if kwargs.get('api_version') == 'apiextensions.k8s.io/v1beta1' and kwargs.get('kind') == 'CustomResourceDefinition':
        return _V1Crds(_get(self, **dict(kwargs, api_version='apiextensions.k8s.io/v1')))
    return _get(self, **kwargs)


# kubernetes/dynamic links to kubernetes/base/dynamic, and pytest imports base/dynamic's tests as the package `dynamic`:
# one module for each name, each patched once the tests are collected
def pytest_collection_finish(session):
    import sys
    for name, module in list(sys.modules.items()):
        discoverer = getattr(module, 'Discoverer', None) if name.endswith('dynamic.discovery') else None
        if discoverer is not None and not getattr(discoverer, '_crd_v1', False):
            discoverer.get = (lambda original: lambda self, **kw: _get_v1(original, self, **kw))(discoverer.get)
            discoverer._crd_v1 = True
