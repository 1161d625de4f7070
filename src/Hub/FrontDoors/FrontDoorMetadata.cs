namespace Aicp.Hub.FrontDoors;

/// <summary>
/// Endpoint metadata of an HTTP front door: its name, the <c>door</c> metric label, so that even a request refused by
/// authorization (401, 403) is counted under it.
/// </summary>
internal sealed record FrontDoorMetadata(string Door);
