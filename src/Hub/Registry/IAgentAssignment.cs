namespace Aicp.Hub.Registry;

/// <summary>Work the hub has handed to an agent, told when that agent goes away.</summary>
internal interface IAgentAssignment
{
    /// <summary>The agent disconnected or was replaced; the work will not complete there.</summary>
    void OnAgentLost();
}
