using Aicp.Hub.Hosting;

AicpHubApplication.Build(args).Run();

/// <summary>The hub's entry point (also the anchor type for test hosts).</summary>
public partial class Program;
