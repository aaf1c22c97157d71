using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AgentIdp.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AddSigningKeyWithdrawnAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "withdrawn_at",
                table: "signing_keys",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "withdrawn_at",
                table: "signing_keys");
        }
    }
}
