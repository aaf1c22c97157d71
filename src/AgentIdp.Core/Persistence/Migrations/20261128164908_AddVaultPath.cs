using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AgentIdp.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AddVaultPath : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "vault_path",
                table: "credentials",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "vault_version",
                table: "credentials",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "vault_cleanup_queue",
                columns: table => new
                {
                    path = table.Column<string>(type: "text", nullable: false),
                    queued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_vault_cleanup_queue", x => x.path);
                });

            migrationBuilder.CreateIndex(
                name: "ix_credentials_vault_path",
                table: "credentials",
                column: "vault_path");

            migrationBuilder.AddCheckConstraint(
                name: "ck_credentials_one_secret_store",
                table: "credentials",
                sql: "(secret_hash IS NULL) <> (vault_path IS NULL) AND (vault_path IS NULL) = (vault_version IS NULL)");

            migrationBuilder.CreateIndex(
                name: "ix_vault_cleanup_queue_queued_at",
                table: "vault_cleanup_queue",
                column: "queued_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "vault_cleanup_queue");

            migrationBuilder.DropIndex(
                name: "ix_credentials_vault_path",
                table: "credentials");

            migrationBuilder.DropCheckConstraint(
                name: "ck_credentials_one_secret_store",
                table: "credentials");

            migrationBuilder.DropColumn(
                name: "vault_path",
                table: "credentials");

            migrationBuilder.DropColumn(
                name: "vault_version",
                table: "credentials");
        }
    }
}
