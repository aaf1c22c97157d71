using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AgentIdp.Core.Persistence;

public static class PostgresErrors
{
    /// <summary>The save broke a unique constraint: a concurrent writer got there first.</summary>
    public static bool IsUniqueViolation(this DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
