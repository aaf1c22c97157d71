using System.Globalization;
using System.Linq.Expressions;
using System.Security.Cryptography;
using System.Text.Json;
using AgentAdminApi.Requests;
using AgentIdp.Core.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Paging;

/// <summary>One page of a list, newest first. <c>nextCursor</c> is null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Data, string? NextCursor);

/// <summary>A position in a list ordered by (time, id), both descending.</summary>
public readonly record struct KeysetPosition(DateTimeOffset At, Guid Id);

/// <summary>What a list request asked for: how many, from where, under which filter.</summary>
public sealed record PageRequest(int Limit, KeysetPosition? After, string Filter);

/// <summary>
/// Keyset pagination for every list. A cursor is the last row's position and its filter, encrypted and
/// authenticated with Data Protection: a client can neither forge one nor use it under another filter.
/// </summary>
public sealed class PageCursors(IDataProtectionProvider dataProtection)
{

    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    private readonly IDataProtector _protector = dataProtection.CreateProtector("AgentIdp.AdminApi.PageCursor.v1");

    private sealed record Cursor(string F, long T, Guid I);

    /// <summary>Reads <c>limit</c> and <c>cursor</c> for a list under <paramref name="filter"/>, noting what is wrong.</summary>
    public PageRequest Read(string? limit, string? cursor, string filter, ValidationErrors errors)
    {
        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
        {
            errors.Add("limit", $"Must be a whole number from 1 to {MaxLimit}.");
        }
        KeysetPosition? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            var decoded = Decode(cursor);
            if (decoded is null)
            {
                errors.Add("cursor", "Is not a cursor this API issued.");
            }
            else if (decoded.F != filter)
            {
                errors.Add("cursor", "Belongs to a list with other filters: repeat the filters of the request that returned it.");
            }
            else
            {
                after = new KeysetPosition(new DateTimeOffset(decoded.T, TimeSpan.Zero), decoded.I);
            }
        }
        return new PageRequest(size, after, filter);
    }

    public async Task<Page<TResult>> ToPageAsync<T, TResult>(
        IQueryable<T> query, Keyset<T> keyset, PageRequest request, Func<T, TResult> map, CancellationToken cancellationToken)
    {
        if (request.After is { } after)
        {
            query = query.Where(keyset.After(after));
        }
        var rows = await keyset.Order(query).Take(request.Limit + 1).ToListAsync(cancellationToken);
        string? next = null;
        if (rows.Count > request.Limit)
        {
            rows.RemoveAt(rows.Count - 1);
            var last = keyset.PositionOf(rows[^1]);
            next = _protector.Protect(JsonSerializer.Serialize(new Cursor(request.Filter, last.At.UtcTicks, last.Id)));
        }
        return new Page<TResult>(rows.Select(map).ToList(), next);
    }

    private Cursor? Decode(string cursor)
    {
        try
        {
            return JsonSerializer.Deserialize<Cursor>(_protector.Unprotect(cursor));
        }
        catch (Exception e) when (e is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>How one table pages: its order, the rows after a position in that order, a row's position.</summary>
public sealed record Keyset<T>(
    Func<IQueryable<T>, IOrderedQueryable<T>> Order,
    Func<KeysetPosition, Expression<Func<T, bool>>> After,
    Func<T, KeysetPosition> PositionOf);

public static class PagingServiceCollectionExtensions
{
    /// <summary>Page cursors, protected with keys kept in PostgreSQL so every replica reads every cursor.</summary>
    public static IServiceCollection AddPageCursors(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("AgentIdP.AdminApi").PersistKeysToDbContext<AgentIdpDbContext>();
        services.AddSingleton<PageCursors>();
        return services;
    }
}
