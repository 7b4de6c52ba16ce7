using System.Collections;
using System.ComponentModel;
using System.Reflection;
using System.Reflection.Metadata;
using System.Runtime.Loader;

namespace Motey.Host.Plugins;

/// <summary>
/// Makes the shared framework's <see cref="TypeDescriptor"/> forget the types of a plugin version being unloaded.
/// Newtonsoft.Json (Docker.DotNet's serializer) asks <c>TypeDescriptor.GetConverter</c> about every type it reads, and
/// TypeDescriptor's reflection provider keeps what it learns in caches keyed by <see cref="Type"/> that never drop a
/// key: one type of a plugin in them keeps that plugin's whole load context alive. Measured with
/// bench/plugin-reload.sh and a running container (so Docker.DotNet is used between reloads): every old Docker VAL
/// version stayed loaded, 65 plugin assemblies mapped after 20 reloads instead of 5, about 5 MiB more per reload.
/// </summary>
/// <remarks>
/// Two caches, emptied in two ways:
/// <list type="bullet">
/// <item>The static ones (properties, events, attributes by type) by the handler the framework registers for hot reload
/// (<see cref="MetadataUpdateHandlerAttribute"/> on System.ComponentModel.TypeConverter: a static <c>ClearCache(Type[]?)</c>
/// the runtime calls when types change), found the way the runtime finds it.</item>
/// <item>The provider's table of type data. <see cref="TypeDescriptor.Refresh(Type)"/> (which that handler also calls)
/// empties an entry but keeps its key, and .NET has no public call that removes one; the keys of the context's types
/// (and of arrays and generic types made of them) are removed here through the provider's private table. Should a
/// runtime lay it out otherwise, <see cref="Supported"/> is false, nothing is removed and such versions stay loaded as
/// before (the catalog logs it once).</item>
/// </list>
/// </remarks>
internal static class TypeDescriptorCaches
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly Action<Type[]?>? ClearCache = FindClearCache();
    private static readonly IDictionary? TypeData = FindTypeData();
    /// <summary>TypeDescriptor's own static tables (which provider serves which type, and whether it was set up), also keyed by type.</summary>
    private static readonly IDictionary[] OwnTables = FindOwnTables();
    /// <summary>What TypeDescriptor locks while it writes its provider tables (<c>s_providerTable</c>), so a removal never races a write.</summary>
    private static readonly object? ProviderLock = typeof(TypeDescriptor).GetField("s_providerTable", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null);

    /// <summary>True when the caches can be emptied on this runtime.</summary>
    public static bool Supported => ClearCache is not null && TypeData is not null && ProviderLock is not null;

    /// <summary>Empties the caches of every type of <paramref name="context"/>; returns how many type-data keys were removed.</summary>
    public static int Forget(AssemblyLoadContext context)
    {
        ClearCache?.Invoke(context.Assemblies.SelectMany(TypesOf).ToArray());
        if (TypeData is null || ProviderLock is null) return 0;
        lock (ProviderLock)
            return new[] { TypeData }.Concat(OwnTables).Sum(table => Remove(table, context));
    }

    /// <summary>Removes the keys of <paramref name="context"/>'s types; keys are only added while a type is asked about, and a plugin being unloaded is asked about no more.</summary>
    private static int Remove(IDictionary table, AssemblyLoadContext context)
    {
        var keys = table.Keys.OfType<Type>().Where(t => t.IsCollectible && BelongsTo(t, context)).ToList();
        foreach (var key in keys) table.Remove(key);
        return keys.Count;
    }

    /// <summary>Every static dictionary field of <see cref="TypeDescriptor"/> (its weak table of providers holds no type strongly and has none as a key).</summary>
    private static IDictionary[] FindOwnTables() =>
        typeof(TypeDescriptor).GetFields(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => typeof(IDictionary).IsAssignableFrom(f.FieldType))
            .Select(f => f.GetValue(null)).OfType<IDictionary>().ToArray();

    /// <summary>Whether <paramref name="type"/> is one of the context's, or an array, pointer or generic type made of one.</summary>
    private static bool BelongsTo(Type type, AssemblyLoadContext context)
    {
        if (type.HasElementType) return BelongsTo(type.GetElementType()!, context);
        if (type.IsConstructedGenericType)
            return BelongsTo(type.GetGenericTypeDefinition(), context) || type.GenericTypeArguments.Any(a => BelongsTo(a, context));
        return AssemblyLoadContext.GetLoadContext(type.Assembly) == context;
    }

    private static IEnumerable<Type> TypesOf(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }

    private static Action<Type[]?>? FindClearCache() =>
        typeof(TypeDescriptor).Assembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>()
            .Select(h => h.HandlerType.GetMethod("ClearCache", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Type[])]))
            .FirstOrDefault(m => m is not null)?.CreateDelegate<Action<Type[]?>>();

    /// <summary>
    /// The reflection provider's <c>_typeData</c> (a concurrent dictionary of type → data): the last provider in the
    /// chain TypeDescriptor keeps for <see cref="object"/>, reached through each node's <c>Next</c> and <c>Provider</c>.
    /// </summary>
    private static IDictionary? FindTypeData()
    {
        try
        {
            object? node = TypeDescriptor.GetProvider(typeof(object));
            while (node is not null)
            {
                var provider = node.GetType().GetField("Provider", Instance)?.GetValue(node);
                if (provider?.GetType().GetField("_typeData", Instance)?.GetValue(provider) is IDictionary typeData) return typeData;
                node = node.GetType().GetField("Next", Instance)?.GetValue(node);
            }
            return null;
        }
        catch (Exception e) when (e is FieldAccessException or TargetException or ArgumentException)
        {
            return null;
        }
    }
}
