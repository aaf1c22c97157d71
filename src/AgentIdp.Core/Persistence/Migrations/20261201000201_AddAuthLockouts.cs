using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AgentIdp.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AddAuthLockouts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "auth_lockouts",
                columns: table => new
                {
                    scope = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    failures = table.Column<int>(type: "integer", nullable: false),
                    window_started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    locked_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_auth_lockouts", x => new { x.scope, x.key });
                    table.CheckConstraint("ck_auth_lockouts_scope", "scope IN ('client', 'source')");
                })
                .Annotation("Npgsql:UnloggedTable", true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "auth_lockouts");
        }
    }
}
