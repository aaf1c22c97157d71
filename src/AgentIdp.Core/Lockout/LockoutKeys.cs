using System.Net;
using System.Net.Sockets;

namespace AgentIdp.Core.Lockout;

/// <summary>
/// What a failed client authentication counts against: the client id it claimed (when it is an agent id in
/// canonical form, whether or not such an agent exists, so that a lock says nothing about which agents exist)
/// and the address it came from. A key is null where its lock is off or there is nothing to count against.
/// </summary>
public readonly record struct LockoutKeys(string? Client, string? Source)
{
    /// <summary>No lock applies: nothing is looked up or counted.</summary>
    public static LockoutKeys None => default;

    public bool IsEmpty => Client is null && Source is null;

    public static LockoutKeys For(string? clientId, IPAddress? source, LockoutOptions options) => new(
        options.ClientMaxFailures > 0 && IsAgentId(clientId) ? clientId : null,
        options.SourceMaxFailures > 0 && source is not null ? SourceKey(source) : null);

    /// <summary>
    /// An IPv4 address as it is; an IPv6 address by its /64, the block a single host or subscriber is usually
    /// given, so that one caller cannot escape the count by walking through its own addresses.
    /// </summary>
    public static string SourceKey(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }

    private static bool IsAgentId(string? clientId) =>
        Guid.TryParseExact(clientId, "D", out var id) && string.Equals(id.ToString(), clientId, StringComparison.Ordinal);
}

/// <summary>Whether a client id or a source is locked now, and the client id's failures so far (read with its credential).</summary>
public readonly record struct LockoutState(bool ClientLocked, bool SourceLocked, int ClientFailures);

public enum LockoutScope { Client, Source }

/// <summary>A lock that one failed authentication has just begun: recorded once, whichever replica counted it.</summary>
public sealed record LockBegun(LockoutScope Scope, string Key, int Failures, DateTimeOffset LockedUntil);
