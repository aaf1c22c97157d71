using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentIdp.Core.Audit;

/// <summary>One entry of the append-only audit log. Never holds a secret or a token.</summary>
public sealed class AuditEvent
{
    public Guid Id { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    public required string Action { get; set; }
    public required AuditOutcome Outcome { get; set; }
    /// <summary>The agent the action was about, if any.</summary>
    public Guid? AgentId { get; set; }
    /// <summary>The client id of the caller, if known.</summary>
    public string? Actor { get; set; }
    public IPAddress? Ip { get; set; }
    /// <summary>A JSON object with the specifics of the action.</summary>
    public string Details { get; set; } = "{}";

    /// <summary>The event's place in the audit chain: 1, 2, 3... with no gap, in commit order. Set by PostgreSQL on insert.</summary>
    public long Sequence { get; private set; }
    /// <summary>The <see cref="Hash"/> of the event before it in the chain. Set by PostgreSQL on insert.</summary>
    public byte[]? PreviousHash { get; private set; }
    /// <summary>SHA-256 of <see cref="PreviousHash"/> and this event (<see cref="AuditChain"/>). Set by PostgreSQL on insert.</summary>
    public byte[]? Hash { get; private set; }

    /// <summary>How <see cref="Details"/> are written: camelCase names, enums as camelCase strings.</summary>
    public static readonly JsonSerializerOptions DetailsJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Longest actor we keep: an unauthenticated caller chooses the client id it claims.</summary>
    public const int MaxActorLength = 128;

    public static AuditEvent Create(
        string action, AuditOutcome outcome, DateTimeOffset occurredAt,
        Guid? agentId = null, string? actor = null, IPAddress? ip = null, string details = "{}") => new()
        {
            Id = Guid.CreateVersion7(occurredAt),
            OccurredAt = occurredAt,
            Action = action,
            Outcome = outcome,
            AgentId = agentId,
            Actor = actor is { Length: > MaxActorLength } ? actor[..MaxActorLength] : actor,
            Ip = ip,
            Details = details,
        };
}

public enum AuditOutcome { Success, Failure }
