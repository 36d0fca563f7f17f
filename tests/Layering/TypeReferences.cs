using System.Collections.Immutable;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Orchestrator.Layering;

/// <summary>
/// Which types of a compiled assembly name which other types of the same assembly: base types and interfaces,
/// generic constraints, attributes, the signatures of fields, methods, properties and events, local variables, and
/// every type, method and field token in method bodies (IL). Nested and compiler-generated types (lambdas' closures,
/// async state machines) count as their outermost declaring type. Only metadata is read; nothing is loaded.
/// </summary>
internal static class TypeReferences
{
    /// <summary>Distinct (from, to) pairs of full names of top-level types, from != to.</summary>
    public static IReadOnlyCollection<(string From, string To)> Of(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var provider = new DefinitionsProvider();
        var pairs = new HashSet<(string, string)>();
        foreach (var handle in reader.TypeDefinitions)
        {
            var from = Name(reader, Outermost(reader, handle));
            foreach (var to in Referenced(reader, pe, provider, handle))
            {
                var target = Name(reader, Outermost(reader, to));
                if (target != from) pairs.Add((from, target));
            }
        }
        return pairs;
    }

    private static IEnumerable<TypeDefinitionHandle> Referenced(MetadataReader reader, PEReader pe, DefinitionsProvider provider,
        TypeDefinitionHandle handle)
    {
        var type = reader.GetTypeDefinition(handle);
        var found = new List<TypeDefinitionHandle>();
        void Add(EntityHandle entity) => found.AddRange(Resolve(reader, provider, entity));

        if (!type.BaseType.IsNil) Add(type.BaseType);
        foreach (var i in type.GetInterfaceImplementations()) Add(reader.GetInterfaceImplementation(i).Interface);
        AddAttributesAndConstraints(reader, type.GetCustomAttributes(), type.GetGenericParameters(), Add);
        foreach (var f in type.GetFields())
        {
            var field = reader.GetFieldDefinition(f);
            found.AddRange(field.DecodeSignature(provider, null));
            AddAttributesAndConstraints(reader, field.GetCustomAttributes(), default, Add);
        }
        foreach (var p in type.GetProperties())
        {
            var property = reader.GetPropertyDefinition(p);
            var signature = property.DecodeSignature(provider, null);
            found.AddRange(signature.ReturnType);
            foreach (var parameter in signature.ParameterTypes) found.AddRange(parameter);
            AddAttributesAndConstraints(reader, property.GetCustomAttributes(), default, Add);
        }
        foreach (var e in type.GetEvents()) Add(reader.GetEventDefinition(e).Type);
        foreach (var m in type.GetMethods())
        {
            var method = reader.GetMethodDefinition(m);
            var signature = method.DecodeSignature(provider, null);
            found.AddRange(signature.ReturnType);
            foreach (var parameter in signature.ParameterTypes) found.AddRange(parameter);
            AddAttributesAndConstraints(reader, method.GetCustomAttributes(), method.GetGenericParameters(), Add);
            if (method.RelativeVirtualAddress == 0) continue;
            var body = pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
                foreach (var local in reader.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(provider, null))
                    found.AddRange(local);
            foreach (var token in Tokens(body.GetILBytes()))
                Add(MetadataTokens.EntityHandle(token));
        }
        return found;
    }

    private static void AddAttributesAndConstraints(MetadataReader reader, CustomAttributeHandleCollection attributes,
        GenericParameterHandleCollection parameters, Action<EntityHandle> add)
    {
        foreach (var a in attributes) add(reader.GetCustomAttribute(a).Constructor);
        foreach (var g in parameters)
            foreach (var c in reader.GetGenericParameter(g).GetConstraints())
                add(reader.GetGenericParameterConstraint(c).Type);
    }

    /// <summary>The types of this assembly an entity handle names (a member names its declaring type).</summary>
    private static ImmutableArray<TypeDefinitionHandle> Resolve(MetadataReader reader, DefinitionsProvider provider, EntityHandle entity)
    {
        switch (entity.Kind)
        {
            case HandleKind.TypeDefinition:
                return [(TypeDefinitionHandle)entity];
            case HandleKind.TypeSpecification:
                return reader.GetTypeSpecification((TypeSpecificationHandle)entity).DecodeSignature(provider, null);
            case HandleKind.MethodDefinition:
                return [reader.GetMethodDefinition((MethodDefinitionHandle)entity).GetDeclaringType()];
            case HandleKind.FieldDefinition:
                return [reader.GetFieldDefinition((FieldDefinitionHandle)entity).GetDeclaringType()];
            case HandleKind.MemberReference:
                return Resolve(reader, provider, reader.GetMemberReference((MemberReferenceHandle)entity).Parent);
            case HandleKind.MethodSpecification:
                var spec = reader.GetMethodSpecification((MethodSpecificationHandle)entity);
                return [.. Resolve(reader, provider, spec.Method), .. spec.DecodeSignature(provider, null).SelectMany(t => t)];
            case HandleKind.StandaloneSignature:
                var signature = reader.GetStandaloneSignature((StandaloneSignatureHandle)entity);
                if (signature.GetKind() != StandaloneSignatureKind.Method) return [];
                var method = signature.DecodeMethodSignature(provider, null);
                return [.. method.ReturnType, .. method.ParameterTypes.SelectMany(t => t)];
            default:
                return [];  // type references: other assemblies
        }
    }

    private static readonly Dictionary<ushort, OperandType> Operands = typeof(OpCodes).GetFields()
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => (ushort)o.Value, o => o.OperandType);

    /// <summary>The metadata tokens of a method body's instructions that name types, methods, fields or signatures.</summary>
    private static IEnumerable<int> Tokens(byte[]? il)
    {
        if (il is null) yield break;
        var i = 0;
        while (i < il.Length)
        {
            ushort code = il[i++];
            if (code == 0xFE) code = (ushort)(0xFE00 | il[i++]);
            var operand = Operands[code];
            switch (operand)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType
                    or OperandType.InlineSig:
                    yield return BitConverter.ToInt32(il, i);
                    i += 4;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                default:  // InlineBrTarget, InlineI, InlineString, ShortInlineR
                    i += 4;
                    break;
            }
        }
    }

    private static TypeDefinitionHandle Outermost(MetadataReader reader, TypeDefinitionHandle handle)
    {
        while (reader.GetTypeDefinition(handle).GetDeclaringType() is { IsNil: false } outer) handle = outer;
        return handle;
    }

    private static string Name(MetadataReader reader, TypeDefinitionHandle handle)
    {
        var type = reader.GetTypeDefinition(handle);
        var ns = reader.GetString(type.Namespace);
        var name = reader.GetString(type.Name);
        return ns.Length == 0 ? name : $"{ns}.{name}";
    }

    /// <summary>Decodes signatures into the type definitions (types of this assembly) they mention.</summary>
    private sealed class DefinitionsProvider : ISignatureTypeProvider<ImmutableArray<TypeDefinitionHandle>, object?>
    {
        private static readonly ImmutableArray<TypeDefinitionHandle> None = [];

        public ImmutableArray<TypeDefinitionHandle> GetArrayType(ImmutableArray<TypeDefinitionHandle> elementType, ArrayShape shape) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetByReferenceType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetPinnedType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetPointerType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetSZArrayType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;
        public ImmutableArray<TypeDefinitionHandle> GetPrimitiveType(PrimitiveTypeCode typeCode) => None;
        public ImmutableArray<TypeDefinitionHandle> GetGenericMethodParameter(object? context, int index) => None;
        public ImmutableArray<TypeDefinitionHandle> GetGenericTypeParameter(object? context, int index) => None;
        public ImmutableArray<TypeDefinitionHandle> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => None;
        public ImmutableArray<TypeDefinitionHandle> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => [handle];

        public ImmutableArray<TypeDefinitionHandle> GetTypeFromSpecification(MetadataReader reader, object? context,
            TypeSpecificationHandle handle, byte rawTypeKind) => reader.GetTypeSpecification(handle).DecodeSignature(this, context);

        public ImmutableArray<TypeDefinitionHandle> GetModifiedType(ImmutableArray<TypeDefinitionHandle> modifier,
            ImmutableArray<TypeDefinitionHandle> unmodifiedType, bool isRequired) => unmodifiedType;

        public ImmutableArray<TypeDefinitionHandle> GetGenericInstantiation(ImmutableArray<TypeDefinitionHandle> genericType,
            ImmutableArray<ImmutableArray<TypeDefinitionHandle>> typeArguments) => [.. genericType, .. typeArguments.SelectMany(t => t)];

        public ImmutableArray<TypeDefinitionHandle> GetFunctionPointerType(MethodSignature<ImmutableArray<TypeDefinitionHandle>> signature) =>
            [.. signature.ReturnType, .. signature.ParameterTypes.SelectMany(t => t)];
    }
}
