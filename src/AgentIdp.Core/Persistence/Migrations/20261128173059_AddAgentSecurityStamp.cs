using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AgentIdp.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AddAgentSecurityStamp : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "security_stamp",
                table: "agents",
                type: "integer",
                nullable: false,
                defaultValue: 1);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "security_stamp",
                table: "agents");
        }
    }
}
