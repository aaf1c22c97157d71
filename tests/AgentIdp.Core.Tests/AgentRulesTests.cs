using AgentIdp.Core.Agents;

namespace AgentIdp.Core.Tests;

public sealed class AgentRulesTests
{
    [Theory]
    [InlineData("1.0.0", true)]
    [InlineData("2.3.1-beta", true)]
    [InlineData("1.0.0-alpha.1+build.5", true)]
    [InlineData("10.20.30", true)]
    [InlineData("1.0", false)]
    [InlineData("01.0.0", false)]
    [InlineData("1.0.0-", false)]
    [InlineData("v1.0.0", false)]
    [InlineData("1.0.0-01", false)]
    [InlineData("１.0.0", false)]
    [InlineData("", false)]
    public void Versions_are_semantic_versions(string version, bool valid) => Assert.Equal(valid, AgentRules.IsValidVersion(version));

    [Theory]
    [InlineData("invoices:read", true)]
    [InlineData("agents:write", true)]
    [InlineData("payments.v2:refund_all", true)]
    [InlineData("invoices", false)]
    [InlineData("invoices:", false)]
    [InlineData(":read", false)]
    [InlineData("a:b:c", false)]
    [InlineData("invoices: read", false)]
    [InlineData("invoices:read ", false)]
    [InlineData("in\"voices:read", false)]
    public void Capabilities_are_resource_colon_action(string capability, bool valid) =>
        Assert.Equal(valid, AgentRules.IsValidCapability(capability));

    [Theory]
    [InlineData("invoice-screener@example.com", true)]
    [InlineData("First.Last+tag@sub.example.co.uk", true)]
    [InlineData("no-at-sign.example.com", false)]
    [InlineData("Name <a@example.com>", false)]
    [InlineData(" a@example.com", false)]
    [InlineData("a@localhost", false)]
    [InlineData("", false)]
    public void Emails_are_plain_addresses(string email, bool valid) => Assert.Equal(valid, AgentRules.IsValidEmail(email));

    [Fact]
    public void Owners_are_1_to_128_characters()
    {
        Assert.True(AgentRules.IsValidOwner("a"));
        Assert.True(AgentRules.IsValidOwner(new string('a', 128)));
        Assert.False(AgentRules.IsValidOwner(new string('a', 129)));
        Assert.False(AgentRules.IsValidOwner(""));
        Assert.False(AgentRules.IsValidOwner("   "));
    }
}
