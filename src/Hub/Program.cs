using Aicp.Hub.Hosting;

return await AicpHubApplication.RunAsync(args);

/// <summary>The hub's entry point (also the anchor type for test hosts).</summary>
public partial class Program;
